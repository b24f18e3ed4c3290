#!/usr/bin/env python3
"""A tiny HTTP client for cairn_server_test.sh (the build root has no curl).

usage: http_client.py PORT METHOD PATH [--type CONTENT_TYPE] [--body TEXT | --body-size N]
                      [--sign KEYFILE [--timestamp MS] [--nonce N]] [--header 'Name: value']...
Prints the status on the first line, then the body. Exits 0 whenever a response came back.

--sign signs the request as the device whose key is in KEYFILE, with the project's own C++
(`$CAIRN_CLI device sign`, the body on its stdin): there is no Ed25519 in Python's standard
library. --header adds headers as given (repeatable; one 'Name: value' a line), e.g. the lines
`cairn-cli device sign` printed earlier, to send a byte-identical replay.
"""
import argparse
import http.client
import os
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("method")
p.add_argument("path")
p.add_argument("--type")
p.add_argument("--body")
p.add_argument("--body-size", type=int)
p.add_argument("--sign", metavar="KEYFILE")
p.add_argument("--timestamp")
p.add_argument("--nonce")
p.add_argument("--header", action="append", default=[])
a = p.parse_args()

body = None
if a.body is not None:
    body = a.body.encode()
elif a.body_size is not None:
    body = b"x" * a.body_size
headers = []
if a.type is not None:
    headers.append(("Content-Type", a.type))
lines = [line for h in a.header for line in h.splitlines()]
if a.sign is not None:
    cmd = [os.environ["CAIRN_CLI"], "device", "sign", a.sign, a.method, a.path, "--body-file", "-"]
    if a.timestamp is not None:
        cmd += ["--timestamp", a.timestamp]
    if a.nonce is not None:
        cmd += ["--nonce", a.nonce]
    signed = subprocess.run(cmd, input=body or b"", capture_output=True)
    if signed.returncode != 0:
        sys.exit("cairn-cli device sign failed: " + signed.stderr.decode())
    lines += signed.stdout.decode().splitlines()
for line in lines:
    name, sep, value = line.partition(":")
    if not sep:
        sys.exit("--header takes 'Name: value', not " + repr(line))
    headers.append((name.strip(), value.strip()))

conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
try:
    conn.putrequest(a.method, a.path, skip_accept_encoding=True)
    for name, value in headers:
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
except (BrokenPipeError, ConnectionResetError):
    pass  # the server may refuse an oversize body before reading it; its answer is still there
resp = conn.getresponse()
print(resp.status)
print(resp.read().decode())
