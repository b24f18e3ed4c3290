"""`./cairn bench server`: cairn-server's job intake on its SQLite store vs its PostgreSQL store.

For each store this starts cairn-server itself on loopback with render workers off (--workers 0,
so only intake is measured): SQLite in a fresh data directory under build/bench (on disk: the
root's /tmp may be a tmpfs, where a flush costs nothing); PostgreSQL on a throwaway cluster
(tests/support/pg_cluster.sh) made under build/bench with fsync on (PG_DURABLE=1: every commit
flushed, PostgreSQL's defaults). Both stores are durable before they answer: SQLite through the
server's group commit, PostgreSQL through its own commit flush. Then bench/server_bench.cc
(registered devices, pre-signed Ed25519 requests, unique idempotency keys, caption-hq payloads)
drives it over keep-alive connections, warms up, measures for a fixed time and checks every
response; afterwards the server's /metrics must count exactly the jobs the client saw accepted.
A run with any error (non-2xx, bad body, I/O error, count mismatch) is reported as such.
SQLite runs once per entry of CAIRN_BENCH_CONNECTIONS (default "16,64": the client's keep-alive
connections, each with one request in flight), so the table shows where queueing starts: in a
closed loop p50 is about connections / throughput. PostgreSQL runs at the last entry, once per
entry of CAIRN_BENCH_STORE_CONNECTIONS (default "1,4": the server's --store-connections, its pool
of connections per store), each on a fresh cluster.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(ROOT, "build/native-release/server/cairn-server")
CLIENT = os.path.join(ROOT, "build/native-release/bench/server_bench")
PG_CLUSTER = os.path.join(ROOT, "tests/support/pg_cluster.sh")

CLIENT_CONNECTIONS = [int(n) for n in
                      os.environ.get("CAIRN_BENCH_CONNECTIONS", "16,64").split(",") if n]
CONNECTIONS = CLIENT_CONNECTIONS[-1]  # PostgreSQL's runs
THREADS = int(os.environ.get("CAIRN_BENCH_SERVER_THREADS", str(max(CLIENT_CONNECTIONS))))
DEVICES = 64
WARMUP_S = float(os.environ.get("CAIRN_BENCH_WARMUP_S", "2"))
DURATION_S = float(os.environ.get("CAIRN_BENCH_DURATION_S", "8"))
MAX_RATE = int(os.environ.get("CAIRN_BENCH_MAX_RATE", "6000"))
STORE_CONNECTIONS = [int(n) for n in
                     os.environ.get("CAIRN_BENCH_STORE_CONNECTIONS", "1,4").split(",") if n]
GOAL_JOBS_PER_S, GOAL_P99_MS = 3000, 25


def start_server(data, store=None, connections=None):
    cmd = [SERVER, "--data", data, "--port", "0", "--workers", "0", "--threads", str(THREADS)]
    if store:
        cmd += ["--store", store]
    if connections:
        cmd += ["--store-connections", str(connections)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        sys.exit(f"bench server: cairn-server did not start: {line}{proc.stderr.read()}")
    return proc, int(line.rsplit(":", 1)[1])


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def jobs_created(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("cairn_jobs_created_total "):
                return int(line.split()[1])
    return -1


def drive(label, port, connections=CONNECTIONS):
    load_before = os.getloadavg()[0]
    proc = subprocess.run([CLIENT, "--port", str(port), "--label", label, "--devices", str(DEVICES),
                           "--connections", str(connections), "--warmup-s", str(WARMUP_S),
                           "--duration-s", str(DURATION_S), "--max-rate", str(MAX_RATE)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench server: server_bench failed on {label}:\n{proc.stderr}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["client_connections"] = connections
    row["load_before"] = round(load_before, 2)
    row["load_after"] = round(os.getloadavg()[0], 2)
    # Every job the client saw accepted (warm-up included) is one the server created, and no more.
    row["server_jobs_created"] = jobs_created(port)
    return row


def run_sqlite(scratch, connections):
    data = os.path.join(scratch, "sqlite-data")
    proc, port = start_server(data)
    try:
        return drive("sqlite" if connections == CONNECTIONS else f"sqlite@{connections}", port,
                     connections)
    finally:
        stop_server(proc)
        shutil.rmtree(data, ignore_errors=True)


def run_postgresql(scratch, connections):
    env = dict(os.environ, PG_DURABLE="1", PG_PARENT=scratch)
    started = subprocess.run(["bash", PG_CLUSTER, "start"], capture_output=True, text=True, env=env)
    if started.returncode == 77:
        print("(PostgreSQL skipped: no PostgreSQL server binaries on this machine)")
        return None
    if started.returncode != 0:
        sys.exit(f"bench server: could not start PostgreSQL:\n{started.stderr}")
    pgdir, url = started.stdout.split()
    data = os.path.join(scratch, "pg-data")
    try:
        proc, port = start_server(data, url, connections)
        try:
            row = drive(f"postgresql/{connections}", port)
            row["store_connections"] = connections
            return row
        finally:
            stop_server(proc)
    finally:
        subprocess.run(["bash", PG_CLUSTER, "stop", pgdir], env=env)
        shutil.rmtree(data, ignore_errors=True)


def errors_of(r):
    return r["non2xx"] + r["other2xx"] + r["bad_body"] + r["io_errors"]


def bench_server():
    out = os.path.join(ROOT, "build", "bench")
    os.makedirs(out, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="server-", dir=out)
    os.chmod(scratch, 0o755)  # PostgreSQL runs as nobody when the bench runs as root
    try:
        rows = [run_sqlite(scratch, c) for c in CLIENT_CONNECTIONS]
        for connections in STORE_CONNECTIONS:
            pg = run_postgresql(scratch, connections)
            if pg:
                rows.append(pg)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"\nserver intake — signed POST /v1/jobs (caption-hq, unique keys) on loopback, "
          f"{CONNECTIONS} keep-alive connections (one client thread each; sqlite@N: N), "
          f"{DEVICES} devices, "
          f"pre-signed; cairn-server --workers 0 --threads {THREADS}; {WARMUP_S:g} s warm-up, "
          f"{DURATION_S:g} s measured; durable before acknowledged on both stores")
    print(f"{'store':<13} {'jobs/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'accepted':>9} {'errors':>7}  {'load before/after':>17}")
    for r in rows:
        errs = errors_of(r)
        print(f"{r['store']:<13} {r['jobs_per_s']:>8.0f} {r['p50_ms']:>8.1f} {r['p90_ms']:>8.1f} "
              f"{r['p99_ms']:>8.1f} {r['max_ms']:>8.1f} {r['accepted']:>9} {errs:>7}  "
              f"{r['load_before']:>8.1f}/{r['load_after']:<8.1f}")
    by = {r["store"]: r for r in rows}
    pgs = [r for r in rows if r["store"].startswith("postgresql")]
    if "sqlite" in by and by["sqlite"]["jobs_per_s"]:
        for r in pgs:
            ratio = r["jobs_per_s"] / by["sqlite"]["jobs_per_s"]
            print(f"{r['store']} vs sqlite: {ratio:.2f}x jobs/s; p99 {r['p99_ms']:.1f} vs "
                  f"{by['sqlite']['p99_ms']:.1f} ms")
            r["postgresql_vs_sqlite"] = round(ratio, 3)
    if len(pgs) > 1 and pgs[0]["jobs_per_s"]:
        for r in pgs[1:]:
            print(f"{r['store']} vs {pgs[0]['store']} (connections per store): "
                  f"{r['jobs_per_s'] / pgs[0]['jobs_per_s']:.2f}x jobs/s; p99 {r['p99_ms']:.1f} vs "
                  f"{pgs[0]['p99_ms']:.1f} ms")
    failed = False
    for r in rows:
        problems = []
        if errors_of(r):
            problems.append(f"{errors_of(r)} errors (statuses {r['statuses']}, bad bodies "
                            f"{r['bad_body']}, I/O {r['io_errors']})")
        # A job created but never seen accepted would be a response lost on the way.
        if r["server_jobs_created"] != r["created_all_phases"]:
            problems.append(f"the server created {r['server_jobs_created']} jobs, the client saw "
                            f"{r['created_all_phases']} accepted")
        if r["pool_exhausted"]:
            problems.append("the pre-signed pool ran out before the window ended (raise "
                            "CAIRN_BENCH_MAX_RATE)")
        r["problems"] = problems
        if problems:
            failed = True
            print(f"{r['store']}: RUN HAS ERRORS: " + "; ".join(problems))
    for s in (r for r in rows if r["store"].startswith("sqlite")):
        met = s["jobs_per_s"] >= GOAL_JOBS_PER_S and s["p99_ms"] < GOAL_P99_MS and not s["problems"]
        s["goal_met"] = met
        print(f"goal (sqlite >= {GOAL_JOBS_PER_S} jobs/s with p99 < {GOAL_P99_MS} ms) at "
              f"{s['client_connections']} connections: {'met' if met else 'NOT met'}")
    print("(closed loop: each connection sends its next request when the answer is in; latency "
          "from the first byte sent to the last received; load: 1-minute load average of this "
          "machine, other builds included)")
    if failed:
        print("bench server: a run had errors (see above)")
    return rows
