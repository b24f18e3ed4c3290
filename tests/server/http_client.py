#!/usr/bin/env python3
"""A tiny HTTP client for cairn_server_test.sh (the build root has no curl).

usage: http_client.py PORT METHOD PATH [--device ID] [--type CONTENT_TYPE]
                      [--body TEXT | --body-size N]
Prints the status on the first line, then the body. Exits 0 whenever a response came back.
"""
import argparse
import http.client
import sys

p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("method")
p.add_argument("path")
p.add_argument("--device")
p.add_argument("--type")
p.add_argument("--body")
p.add_argument("--body-size", type=int)
a = p.parse_args()

body = None
if a.body is not None:
    body = a.body.encode()
elif a.body_size is not None:
    body = b"x" * a.body_size
headers = {}
if a.device is not None:
    headers["X-Cairn-Device"] = a.device
if a.type is not None:
    headers["Content-Type"] = a.type
conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
try:
    conn.request(a.method, a.path, body=body, headers=headers)
except (BrokenPipeError, ConnectionResetError):
    pass  # the server may refuse an oversize body before reading it; its answer is still there
resp = conn.getresponse()
print(resp.status)
print(resp.read().decode())
