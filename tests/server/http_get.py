#!/usr/bin/env python3
"""GET (or HEAD) for static_files_test.sh, with the response headers (the build root has no curl).

usage: http_get.py PORT PATH [--method HEAD] [--header 'Name: value']...
Prints the status on the first line, then the response headers as "Name: value" lines, an empty
line, and the body. Exits 0 whenever a response came back. The path is sent as given (no
normalization), so traversal attempts reach the server as written.
"""
import argparse
import http.client

p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("path")
p.add_argument("--method", default="GET")
p.add_argument("--header", action="append", default=[])
a = p.parse_args()

headers = {}
for h in a.header:
    name, _, value = h.partition(":")
    headers[name.strip()] = value.strip()
conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
conn.request(a.method, a.path, headers=headers)
resp = conn.getresponse()
print(resp.status)
for name, value in resp.getheaders():
    print(f"{name}: {value}")
print()
print(resp.read().decode(errors="replace"))
