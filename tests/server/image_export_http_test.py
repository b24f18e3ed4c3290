#!/usr/bin/env python3
"""image-export over real HTTP against a real cairn-server with a render worker and libvips.

usage: image_export_http_test.py PATH/TO/cairn-server PATH/TO/cairn-cli

Blob uploads (PUT /v1/blobs/{hash}): stored (201), repeated (200), a wrong hash (400
hash_mismatch), not an image (400 bad_image), wrong content type (415), oversize declared and
chunked (413, this route's 24 MiB; a job submission still stops at 64 KiB), unsigned (401). Then
end to end: upload -> submit image-export -> the worker renders -> the result lists the
renditions -> each one's bytes are fetched and checked (hash, format magic, exact dimensions).
Another device can neither use my blob (its job fails blob_missing) nor read my result or
renditions (404); a bad payload and a damaged image fail with their codes. With
CAIRN_SERVER_STORE set (tests/support/pg_cluster.sh run ...) the jobs are in PostgreSQL.
"""
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

SERVER, CLI = sys.argv[1], sys.argv[2]
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)[:400]))
    if not ok:
        failures.append(name)


def blake2b(data):
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def png(width, height, left, right):
    """An RGB PNG: `left` colour for the left half, `right` for the rest."""
    split = width // 2
    row = b"\x00" + bytes(left) * split + bytes(right) * (width - split)
    raw = row * height

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def jpeg_size(data):
    """(width, height) from a JPEG's frame header (baseline or progressive)."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None


def webp_size(data):
    kind = data[12:16]
    if kind == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return w, h
    if kind == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    return None


class Server:
    def __init__(self, data, *flags):
        self.out, self.err = data + ".out", data + ".err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen([SERVER, "--port", "0", "--data", data, *flags],
                                         stdout=out, stderr=err)
        prefix = "cairn-server listening on 127.0.0.1:"
        for _ in range(150):
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
        code = self.proc.wait(timeout=60)
        check("the server exits 0 on SIGTERM", code == 0, str(code) + open(self.err).read()[-2000:])


def exchange(port, raw, timeout=60.0):
    """Sends raw bytes; returns (status, headers dict, body bytes), or (None, {}, reason)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(raw)
        except OSError:
            pass  # refused mid-body: the answer is still there
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return None, {}, b"closed"
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            body += chunk
        return status, headers, body
    except (socket.timeout, ConnectionResetError) as e:
        return None, {}, str(e).encode()
    finally:
        s.close()


def request(method, target, headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sign(keyfile, method, target, body=b""):
    out = subprocess.run([CLI, "device", "sign", keyfile, method, target, "--body-file", "-"],
                         input=body, capture_output=True, check=True)
    return [tuple(x.strip() for x in line.split(":", 1)) for line in out.stdout.decode().splitlines()]


def call(port, keyfile, method, target, body=b"", content_type=None, extra=()):
    headers = (sign(keyfile, method, target, body) if keyfile else []) + list(extra)
    if content_type:
        headers.append(("Content-Type", content_type))
    return exchange(port, request(method, target, headers, body))


def code_of(body):
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def upload(port, key, data, content_type="image/png"):
    return call(port, key, "PUT", "/v1/blobs/" + blake2b(data), data, content_type)


def submit(port, key, idem, payload):
    body = json.dumps({"v": 1, "idempotency_key": idem, "kind": "image-export", "preset": "final",
                       "payload": payload}).encode()
    status, _, out = call(port, key, "POST", "/v1/jobs", body, "application/json")
    return status, (json.loads(out)["job"]["id"] if status in (200, 201) else out)


def wait_job(port, key, job_id, seconds=120):
    job = None
    for _ in range(seconds * 5):
        status, _, body = call(port, key, "GET", "/v1/jobs/" + job_id)
        job = json.loads(body)["job"] if status == 200 else None
        if job and job["state"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    return job


def main():
    tmp = tempfile.mkdtemp()
    keys = {}
    for name in ("a", "b"):
        keys[name] = os.path.join(tmp, name + ".key")
        subprocess.run([CLI, "device", "keygen", keys[name]], check=True, capture_output=True)
    server = Server(os.path.join(tmp, "data"), "--workers", "1")
    port = server.port
    for name, key in keys.items():
        reg = subprocess.run([CLI, "device", "register", key], capture_output=True, check=True).stdout
        status, _, body = call(port, key, "POST", "/v1/devices", reg, "application/json")
        check(f"device {name} registers", status == 201, f"{status} {body}")
    a, b = keys["a"], keys["b"]
    blobs_dir = os.path.join(tmp, "data", "blobs")

    # --- uploads ---
    source = png(1600, 1200, (220, 30, 30), (30, 30, 220))
    h = blake2b(source)
    status, _, body = upload(port, a, source)
    check("an upload is 201 with its hash and size",
          status == 201 and json.loads(body) == {"v": 1, "blob": {"hash": h, "bytes": len(source)}},
          f"{status} {body}")
    status, _, body = upload(port, a, source, "application/octet-stream")
    check("the same upload again is 200", status == 200, f"{status} {body}")
    other = png(16, 16, (1, 2, 3), (4, 5, 6))
    status, _, body = call(port, a, "PUT", "/v1/blobs/" + "0" * 64, other, "image/png")
    check("an upload under the wrong hash is 400 hash_mismatch",
          status == 400 and code_of(body) == "hash_mismatch", f"{status} {body}")
    stored = [f for _, _, files in os.walk(blobs_dir) for f in files]
    check("... and stores nothing, under either hash",
          h in stored and "0" * 64 not in stored and blake2b(other) not in stored, stored)
    text = b"hello, not an image"
    status, _, body = upload(port, a, text)
    check("a blob that is not an image is 400 bad_image", status == 400 and code_of(body) == "bad_image",
          f"{status} {body}")
    status, _, body = upload(port, a, source, "application/json")
    check("an upload as application/json is 415", status == 415, f"{status} {body}")
    status, _, body = exchange(port, request("PUT", "/v1/blobs/" + h, [("Content-Type", "image/png")], source))
    check("an unsigned upload is 401", status == 401, f"{status} {body}")

    big = b"\xff\xd8\xff\xe0" + b"x" * (24 * 1024 * 1024)
    big_hash = blake2b(big)
    status, _, body = exchange(port, request("PUT", "/v1/blobs/" + big_hash,
                                             [("Content-Type", "image/jpeg")], big))
    check("an upload over 24 MiB (declared) is 413 too_large, before authentication",
          status == 413 and code_of(body) == "too_large", f"{status} {body[:200]}")
    chunked = b"".join(b"%x\r\n" % (1 << 20) + b"y" * (1 << 20) + b"\r\n" for _ in range(25)) + b"0\r\n\r\n"
    status, _, body = exchange(port, request("PUT", "/v1/blobs/" + big_hash,
                                             [("Content-Type", "image/jpeg"),
                                              ("Transfer-Encoding", "chunked")], chunked))
    check("a chunked upload over 24 MiB is 413", status == 413 and code_of(body) == "too_large",
          f"{status} {body[:200]}")
    status, _, body = exchange(port, request("POST", "/v1/jobs", [("Content-Type", "application/json")],
                                             b"{" + b" " * (64 * 1024) + b"}"))
    check("a job submission still stops at 64 KiB", status == 413 and code_of(body) == "too_large",
          f"{status} {body[:200]}")
    chunked_job = b"".join(b"%x\r\n" % 8192 + b" " * 8192 + b"\r\n" for _ in range(10)) + b"0\r\n\r\n"
    status, _, body = exchange(port, request("POST", "/v1/jobs", [("Content-Type", "application/json"),
                                                                  ("Transfer-Encoding", "chunked")], chunked_job))
    check("... chunked too", status == 413, f"{status} {body[:200]}")
    status, _, body = call(port, a, "PUT", "/v1/blobs/" + h, b"", "image/png")
    check("a signed PUT of an empty body is 400", status == 400, f"{status} {body}")
    big_ok = b"\xff\xd8\xff\xe0" + os.urandom(6 * 1024 * 1024)
    status, _, body = upload(port, a, big_ok, "image/jpeg")
    check("a 6 MiB upload is accepted (the limit is this route's)", status == 201, f"{status} {body[:200]}")

    # --- end to end ---
    status, job_id = submit(port, a, "key-export-0123456789", {"source": h})
    check("an image-export job is accepted", status == 201, f"{status} {job_id}")
    status, webp_id = submit(port, a, "key-export-webp-012345",
                             {"source": h, "sizes": ["1080x1920"], "format": "webp", "quality": 80,
                              "focus": {"x": 0.2, "y": 0.5}})
    check("a WebP export is accepted", status == 201, f"{status} {webp_id}")
    status, stolen_id = submit(port, b, "key-stolen-0123456789", {"source": h})
    check("device b's job naming a's blob is accepted (blobs are checked by the worker)", status == 201)
    status, bad_id = submit(port, a, "key-bad-payload-01234", {"source": h, "dpi": 300})
    damaged = source[:len(source) // 2]
    upload(port, a, damaged)
    status, damaged_id = submit(port, a, "key-damaged-012345678", {"source": blake2b(damaged)})

    job = wait_job(port, a, job_id)
    check("the export is done", job and job["state"] == "done", job)
    status, _, body = call(port, a, "GET", f"/v1/jobs/{job_id}/result")
    result = json.loads(body)["result"] if status == 200 else {}
    check("its result is JSON listing three renditions", status == 200 and len(result.get("renditions", [])) == 3,
          f"{status} {body[:300]}")
    check("... with the source's size and hash", result.get("source") == {"blake2b": h, "width": 1600, "height": 1200},
          result.get("source"))
    check("... and provenance", result.get("provenance", {}).get("renderer") == "cairn-server image-export/1" and
          result["provenance"].get("tier") == "cloud", result.get("provenance"))
    expected = {"1080x1080": (1080, 1080), "1080x1350": (1080, 1350), "1080x1920": (1080, 1920)}
    for r in result.get("renditions", []):
        status, headers, data = call(port, a, "GET", f"/v1/jobs/{job_id}/result/{r['name']}")
        check(f"rendition {r['name']} is served", status == 200, f"{status} {data[:200]}")
        check(f"... as {r['content_type']}", headers.get("content-type") == "image/jpeg" == r["content_type"],
              headers)
        check(f"... its bytes match the listed hash and size",
              blake2b(data) == r["blake2b"] and len(data) == r["bytes"], (len(data), r))
        check(f"... a JPEG", data[:3] == b"\xff\xd8\xff", data[:8])
        check(f"... of exactly {expected[r['name']]}", jpeg_size(data) == expected[r["name"]] ==
              (r["width"], r["height"]), jpeg_size(data))
        check(f"... with the provenance XMP", b"urn:cairn:provenance:1" in data and job_id.encode() in data)
        status, _, other = call(port, b, "GET", f"/v1/jobs/{job_id}/result/{r['name']}")
        check(f"device b cannot fetch {r['name']} (404)", status == 404 and code_of(other) == "not_found",
              f"{status} {other[:200]}")
    status, _, body = call(port, b, "GET", f"/v1/jobs/{job_id}/result")
    check("device b cannot read the result list (404)", status == 404, f"{status} {body}")
    status, _, body = call(port, a, "GET", f"/v1/jobs/{job_id}/result/640x480")
    check("an unlisted rendition is 404", status == 404, f"{status} {body}")

    job = wait_job(port, a, webp_id)
    check("the WebP export is done", job and job["state"] == "done", job)
    status, _, body = call(port, a, "GET", f"/v1/jobs/{webp_id}/result")
    renditions = json.loads(body)["result"]["renditions"] if status == 200 else []
    check("... one rendition", len(renditions) == 1 and renditions[0]["content_type"] == "image/webp", renditions)
    if renditions:
        status, headers, data = call(port, a, "GET", f"/v1/jobs/{webp_id}/result/1080x1920")
        check("... served as WebP of exactly 1080x1920",
              status == 200 and data[:4] == b"RIFF" and data[8:12] == b"WEBP" and
              webp_size(data) == (1080, 1920), (status, data[:16], webp_size(data) if data else None))

    job = wait_job(port, b, stolen_id)
    check("device b's job naming a's blob fails blob_missing",
          job and job["state"] == "failed" and job["error"]["code"] == "blob_missing", job)
    job = wait_job(port, a, bad_id)
    check("a bad payload fails bad_payload, naming the field",
          job and job["error"]["code"] == "bad_payload" and "'dpi'" in job["error"]["message"], job)
    job = wait_job(port, a, damaged_id)
    check("a damaged image fails bad_image", job and job["error"]["code"] == "bad_image", job)

    status, _, metrics = exchange(port, request("GET", "/metrics"))
    check("/metrics counts the renders", b'cairn_worker_jobs_total{outcome="done"} 2' in metrics and
          b'cairn_worker_jobs_total{outcome="failed"} 3' in metrics, metrics.decode()[-600:])
    check("/metrics counts the five jobs created, not the uploads",
          b"cairn_jobs_created_total 5\n" in metrics, metrics.decode()[:800])
    server.stop()
    quota_over_http(tmp, a, b)
    if failures:
        sys.exit(f"{len(failures)} image-export HTTP case(s) failed: {failures}")


def quota_over_http(tmp, a, b):
    """--blob-quota on a real server: past it, 413 quota_exceeded as JSON and nothing stored."""
    data = os.path.join(tmp, "quota-data")
    server = Server(data, "--workers", "0", "--blob-quota", "4K")
    port = server.port
    for key in (a, b):
        reg = subprocess.run([CLI, "device", "register", key], capture_output=True, check=True).stdout
        status, _, body = call(port, key, "POST", "/v1/devices", reg, "application/json")
        check("a device registers with the quota server", status in (200, 201), f"{status} {body}")
    first, second = (b"\xff\xd8\xff\xe0" + bytes([i]) * 2500 for i in (1, 2))
    status, _, body = upload(port, a, first, "image/jpeg")
    check("an upload within the quota is 201", status == 201, f"{status} {body}")
    status, _, body = upload(port, a, second, "image/jpeg")
    check("an upload past the quota is 413 quota_exceeded",
          status == 413 and code_of(body) == "quota_exceeded", f"{status} {body}")
    stored = [f for _, _, files in os.walk(os.path.join(data, "blobs")) for f in files]
    check("... and stores nothing", stored == [blake2b(first)], stored)
    status, _, body = upload(port, a, first, "image/jpeg")
    check("a blob the device has is 200 even at its quota", status == 200, f"{status} {body}")
    status, _, body = upload(port, b, second, "image/jpeg")
    check("another device has a quota of its own", status == 201, f"{status} {body}")
    server.stop()


main()
