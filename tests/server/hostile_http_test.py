#!/usr/bin/env python3
"""Hostile HTTP against a real cairn-server, over raw sockets (SECURITY.md, "Limits").

usage: hostile_http_test.py PATH/TO/cairn-server PATH/TO/cairn-cli

Each case sends what a broken or malicious client would: oversize bodies (declared, and
chunked with no declared size), a lying Content-Length, both Content-Length and
Transfer-Encoding (request smuggling), bogus chunk sizes, an oversize request line, header and
header count, slow clients that never finish their request, non-UTF-8 and deeply nested JSON
bodies from a signed device, a reused idempotency key with a different body, and a device over
its request rate. Every one must get a clear answer (or a closed connection for a client that
never finishes), store nothing, and leave the server answering everyone else.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

SERVER, CLI = sys.argv[1], sys.argv[2]
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    if not ok:
        failures.append(name)


class Server:
    def __init__(self, data, *flags):
        # Output goes to files: a pipe nobody drains could fill up and stall the server.
        self.out, self.err = data + ".out", data + ".err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen([SERVER, "--port", "0", "--data", data, "--workers", "0",
                                          *flags], stdout=out, stderr=err)
        prefix = "cairn-server listening on 127.0.0.1:"
        for _ in range(100):
            lines = [l for l in open(self.out).read().splitlines() if l.startswith(prefix)]
            if lines:
                self.port = int(lines[0][len(prefix):])
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        sys.exit("cairn-server did not start: " + open(self.out).read() + open(self.err).read())

    def stop(self):
        self.proc.terminate()
        code = self.proc.wait(timeout=30)
        check("the server exits 0 on SIGTERM after the hostile clients", code == 0, str(code))


def exchange(port, raw, timeout=15.0, pause=None):
    """Sends raw bytes (a list: with `pause` seconds between parts); returns (status, body) of
    the first response, or (None, reason) if the connection closed without one."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        parts = raw if isinstance(raw, list) else [raw]
        for i, part in enumerate(parts):
            if i and pause:
                time.sleep(pause)
            try:
                s.sendall(part)
            except OSError as e:  # the server closed on us mid-request: that is an answer too
                break
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return None, "closed: " + repr(data[:80])
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, body.decode("utf-8", "replace")
    except socket.timeout:
        return None, "timed out"
    except ConnectionResetError:
        return None, "reset"
    finally:
        s.close()


def request(method, target, headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def code_of(body):
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def signed(keyfile, method, target, body=b"", content_type="application/json"):
    out = subprocess.run([CLI, "device", "sign", keyfile, method, target, "--body-file", "-"],
                         input=body, capture_output=True, check=True)
    headers = [tuple(x.strip() for x in line.split(":", 1))
               for line in out.stdout.decode().splitlines()]
    if content_type:
        headers.append(("Content-Type", content_type))
    return request(method, target, headers, body)


def healthy(port):
    return exchange(port, request("GET", "/healthz"))[0] == 200


def jobs_of(port, keyfile):
    status, body = exchange(port, signed(keyfile, "GET", "/v1/jobs?since=0", content_type=None))
    return len(json.loads(body)["jobs"]) if status == 200 else -1


def main():
    tmp = tempfile.mkdtemp()
    key = os.path.join(tmp, "a.key")
    subprocess.run([CLI, "device", "keygen", key], check=True, capture_output=True)
    server = Server(os.path.join(tmp, "data"), "--timeout-seconds", "1", "--device-requests", "40")
    port = server.port
    reg = subprocess.run([CLI, "device", "register", key], capture_output=True, check=True).stdout
    status, body = exchange(port, signed(key, "POST", "/v1/devices", reg))
    check("a device registers", status == 201, f"{status} {body}")

    big = b"x" * (64 * 1024 + 1)
    status, body = exchange(port, request("POST", "/v1/jobs", [("Content-Type", "application/json")], big))
    check("a declared oversize body is 413 too_large", status == 413 and code_of(body) == "too_large",
          f"{status} {body}")

    chunks = b"".join(b"%x\r\n" % 8192 + b"y" * 8192 + b"\r\n" for _ in range(10)) + b"0\r\n\r\n"
    status, body = exchange(port, request("POST", "/v1/jobs", [("Content-Type", "application/json"),
                                                                ("Transfer-Encoding", "chunked")], chunks))
    check("an oversize chunked body (no declared size) is 413", status == 413, f"{status} {body}")

    status, body = exchange(port, request("POST", "/v1/jobs", [("Transfer-Encoding", "chunked")],
                                          b"fffffffffffffffffff\r\nx\r\n0\r\n\r\n"))
    check("a bogus chunk size is refused (4xx or closed)", status is None or 400 <= status < 500,
          f"{status} {body}")

    smuggle = request("POST", "/v1/jobs", [("Content-Length", "4"), ("Transfer-Encoding", "chunked")],
                      b"0\r\n\r\nGET /v1/jobs HTTP/1.1\r\nHost: x\r\n\r\n")
    status, body = exchange(port, smuggle)
    check("Content-Length with Transfer-Encoding is never accepted", status is None or status >= 400,
          f"{status} {body}")

    status, body = exchange(port, request("POST", "/v1/jobs", [("Content-Length", "100")], b"{}"), timeout=10)
    check("a body shorter than its Content-Length ends at the timeout, unanswered or 4xx",
          status is None or 400 <= status < 500, f"{status} {body}")

    status, body = exchange(port, request("GET", "/v1/jobs/" + "a" * 9000))
    check("an oversize request line is refused", status is None or 400 <= status < 500, f"{status}")
    status, body = exchange(port, request("GET", "/healthz", [("X-Big", "b" * 9000)]))
    check("an oversize header is refused", status is None or 400 <= status < 500, f"{status}")
    status, body = exchange(port, request("GET", "/healthz", [(f"X-H{i}", "v") for i in range(150)]))
    check("too many headers are refused", status is None or 400 <= status < 500, f"{status}")

    # Slow clients: each holds a connection with half a request. The server drops them after
    # --timeout-seconds and answers others meanwhile.
    slow_results = []

    def slow():
        started = time.monotonic()
        status, detail = exchange(port, [b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\n", b"X-Slow: 1\r\n"] * 3,
                                  pause=0.8, timeout=20)
        slow_results.append((status, detail, time.monotonic() - started))

    threads = [threading.Thread(target=slow) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    check("the server answers others while slow clients hold connections", healthy(port))
    for t in threads:
        t.join()
    # The server, not the client's own 20 s socket timeout, ends each one: closed or answered 4xx.
    check("slow clients are disconnected by the server's timeout, never answered 2xx",
          len(slow_results) == 4 and
          all((s is None and d != "timed out") or (s is not None and s >= 400)
              for s, d, _ in slow_results), str(slow_results))

    status, body = exchange(port, signed(key, "POST", "/v1/jobs", b'{"v":1,"idempotency_key":"\xff\xfe-not-utf8-0123456"}'))
    check("a non-UTF-8 body is 400 with a code", status == 400 and code_of(body) is not None, f"{status} {body}")
    deep = b'{"v":1,"idempotency_key":"key-deep-0123456789","kind":"caption-hq","preset":"final","payload":' + \
        b'{"a":' * 5000 + b'1' + b'}' * 5000 + b'}'
    status, body = exchange(port, signed(key, "POST", "/v1/jobs", deep))
    check("deeply nested JSON is 400 with a code", status == 400 and code_of(body) is not None, f"{status} {body}")

    job = {"v": 1, "idempotency_key": "key-hostile-0123456789", "kind": "caption-hq", "preset": "final",
           "payload": {"task": "Write 2 captions"}}
    status, body = exchange(port, signed(key, "POST", "/v1/jobs", json.dumps(job).encode()))
    check("a job is accepted", status == 201, f"{status} {body}")
    job["payload"] = {"task": "something else"}
    status, body = exchange(port, signed(key, "POST", "/v1/jobs", json.dumps(job).encode()))
    check("the same idempotency key with another body is 409 key_reused",
          status == 409 and code_of(body) == "key_reused", f"{status} {body}")
    check("after all that, the device has exactly one job", jobs_of(port, key) == 1)

    # The request rate: --device-requests 40 per window; this device has used some already.
    statuses = [exchange(port, signed(key, "GET", "/v1/jobs?since=0", content_type=None)) for _ in range(45)]
    limited = [(s, b) for s, b in statuses if s == 429]
    check("a device over its request rate gets 429 rate_limited",
          bool(limited) and code_of(limited[0][1]) == "rate_limited", str([s for s, _ in statuses]))
    check("the server is healthy at the end", healthy(port))
    server.stop()
    if failures:
        sys.exit(f"{len(failures)} hostile-HTTP case(s) failed: {failures}")


main()
