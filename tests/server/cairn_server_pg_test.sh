#!/usr/bin/env bash
# Several cairn-server instances on one PostgreSQL job store (--store URL), on loopback, with a
# PostgreSQL the test starts itself (tests/support/pg_cluster.sh): server A takes jobs and
# renders none (--workers 0); B and C render (2 workers each) from the same queue. Every job
# submitted to A is rendered by B or C exactly once (their worker counters add up, none refused
# or abandoned), is done in every server's changes feed, and A serves its result; a submission
# retried on another server is the same job. Devices and request nonces are in PostgreSQL too:
# the device registers with A only and B and C know it; a signed request A accepted is refused
# as a replay by B (and by A again). No jobs.db or devices.db is made. Also the --store flag's
# errors (never echoing a password).
# usage: cairn_server_pg_test.sh PATH/TO/cairn-server PATH/TO/cairn-cli PATH/TO/test-models
# Exits 77 (ctest: skipped) only when this machine has no PostgreSQL server binaries.
set -u
bin=$1
export CAIRN_CLI=$2
cli=$2
test_models=$3
here=$(dirname "${BASH_SOURCE[0]}")
dir=$(mktemp -d)
pids=()
pgdir=
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [ -n "$pgdir" ] && bash "$here/../support/pg_cluster.sh" stop "$pgdir"
  rm -rf "$dir"
}
trap cleanup EXIT
source "$here/../support/expect.sh"

started=$(bash "$here/../support/pg_cluster.sh" start)
case $? in
  0) read -r pgdir url <<<"$started" ;;
  77) echo "skipped: no PostgreSQL server binaries on this machine"; exit 77 ;;
  *) echo "FAIL: could not start PostgreSQL"; exit 1 ;;
esac

expect "--help documents --store" 0 "--store sqlite\|URL" -- "$bin" --help
expect "--help says instances share one queue" 0 "SKIP LOCKED" -- "$bin" --help
expect "a --store that is neither sqlite nor PostgreSQL is refused" 1 \
  "must be sqlite or a postgresql:// URL" -- "$bin" --data "$dir/x" --port 0 --store mysql://db/jobs
out=$("$bin" --data "$dir/x" --port 0 --workers 0 \
        --store "postgresql://cairn:hunter2-secret@/cairn?host=$dir/nowhere&connect_timeout=2" 2>&1)
status=$?
expect "an unreachable PostgreSQL stops the server, naming it" 0 "" -- test "$status" = 1
expect "... the message names user, host and database" 0 \
  "PostgreSQL job store cairn@$dir/nowhere/cairn" -- echo "$out"
expect "... and never the password" 1 "" -- grep -q hunter2 <<<"$out"
expect "CAIRN_SERVER_STORE is read" 1 "must be sqlite or a postgresql:// URL" -- \
  env CAIRN_SERVER_STORE=redis://x "$bin" --data "$dir/x" --port 0

cp -r "$test_models" "$dir/models"
"$cli" pack keygen "$dir/pack.key" >"$dir/trusted.txt"
for p in tiny-gpt2 tiny-llama; do "$cli" pack sign "$dir/pack.key" "$dir/models/$p" >/dev/null; done

# start NAME ARGS...: a server on a free port with data dir $dir/NAME; sets port_NAME.
start() {
  local name=$1; shift
  "$bin" --port 0 --data "$dir/$name" --store "$url" "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  pids+=($!)
  local p=
  for _ in $(seq 150); do
    p=$(sed -n 's/^cairn-server listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$dir/$name.out")
    [ -n "$p" ] && break
    sleep 0.1
  done
  [ -n "$p" ] || { echo "FAIL: server $name did not start:"; cat "$dir/$name.err"; exit 1; }
  eval "port_$name=$p"
}
http() { local port=$1; shift; python3 "$here/http_client.py" "$port" "$@"; }
flat() { tr -d '\n' <<<"$1"; }
json=application/json
id_of() { sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' <<<"$1"; }
counter() {  # counter PORT OUTCOME: cairn_worker_jobs_total{outcome=OUTCOME} on that server
  http "$1" GET /metrics | sed -n "s/^cairn_worker_jobs_total{outcome=\"$2\"} //p"
}

dev=$("$cli" device keygen "$dir/a.key")
start a --workers 0
# Job ids are keyed by server.key: instances sharing a queue share it.
for n in b c; do mkdir -m 0700 "$dir/$n"; cp "$dir/a/server.key" "$dir/$n/server.key"; done
workers=(--workers 2 --models "$dir/models" --trust-file "$dir/trusted.txt"
         --caption-model cairn-test-tiny-llama --lease-seconds 5)
start b "${workers[@]}"
start c "${workers[@]}"
reg=$("$cli" device register "$dir/a.key")
expect "register the device on server A only" 0 "^201" -- \
  flat "$(http $port_a POST /v1/devices --sign "$dir/a.key" --type $json --body "$reg")"
expect "registering again on server B finds it registered (200)" 0 "^200" -- \
  flat "$(http $port_b POST /v1/devices --sign "$dir/a.key" --type $json --body "$reg")"

# A signed request accepted by A, replayed byte for byte to B (and to A): refused, nothing stored.
first='{"v":1,"idempotency_key":"key-pg-replay-0123456789","kind":"caption-hq","preset":"final",'
first+='"payload":{"task":"Write 1 caption","context":"pier","count":1,"max_chars":60}}'
captured=$(printf %s "$first" | "$cli" device sign "$dir/a.key" POST /v1/jobs --body-file -)
expect "server A accepts a signed submission" 0 '^201.*"state":"accepted"' -- \
  flat "$(http $port_a POST /v1/jobs --header "$captured" --type $json --body "$first")"
expect "the same signed request replayed to server B is 401 replayed_request" 0 \
  '^401.*"code":"replayed_request"' -- \
  flat "$(http $port_b POST /v1/jobs --header "$captured" --type $json --body "$first")"
expect "... and replayed to server A again too" 0 '^401.*"code":"replayed_request"' -- \
  flat "$(http $port_a POST /v1/jobs --header "$captured" --type $json --body "$first")"
expect "server B counts the replay" 0 '^cairn_auth_refused_total\{code="replayed_request"\} 1$' -- \
  bash -c 'python3 "$1" "$2" GET /metrics | grep replayed_request' _ "$here/http_client.py" "$port_b"
expect "a fresh signature for the same job on server B is the same job (200)" 0 \
  '^200.*"key-pg-replay-0123456789"' -- \
  flat "$(http $port_b POST /v1/jobs --sign "$dir/a.key" --type $json --body "$first")"

jobs=8
all=$((jobs + 1))  # with the replay test's job
ids=()
for i in $(seq $jobs); do
  body='{"v":1,"idempotency_key":"key-pg-'$i'-0123456789ab","kind":"caption-hq","preset":"final",'
  body+='"payload":{"task":"Write 1 caption","context":"pier","count":1,"max_chars":60}}'
  r=$(flat "$(http $port_a POST /v1/jobs --sign "$dir/a.key" --type $json --body "$body")")
  ids+=("$(id_of "$r")")
done
expect "server A accepted $jobs jobs" 0 "^$jobs$" -- \
  bash -c 'printf "%s\n" "$@" | grep -c .' _ "${ids[@]}"
again=$(flat "$(http $port_b POST /v1/jobs --sign "$dir/a.key" --type $json --body "$body")")
expect "the same submission retried on server B is the same job (200)" 0 \
  "^200.*\"id\":\"${ids[-1]}\"" -- echo "$again"

# Wait (60 s at most) until B's and C's workers have finished every job.
for _ in $(seq 300); do
  finished=$(($(counter $port_b done) + $(counter $port_c done) +
              $(counter $port_b failed) + $(counter $port_c failed)))
  [ "$finished" -ge $all ] && break
  sleep 0.2
done
done_b=$(counter $port_b done); done_c=$(counter $port_c done)
echo "jobs rendered: server B $done_b, server C $done_c (of $all submitted to A)"
expect "B and C rendered every job, each exactly once" 0 "" -- test $((done_b + done_c)) = $all
for n in b c; do
  p=$(eval echo "\$port_$n")
  expect "server $n: no render failed, refused or abandoned" 0 "^0 0 0$" -- \
    echo "$(counter "$p" failed) $(counter "$p" refused) $(counter "$p" abandoned)"
done
for n in a b c; do
  p=$(eval echo "\$port_$n")
  feed=$(http "$p" GET "/v1/jobs?since=0&limit=100" --sign "$dir/a.key")
  listed=$(grep -o '"idempotency_key"' <<<"$feed" | wc -l)
  finished=$(grep -o '"state":"done"' <<<"$feed" | wc -l)
  expect "server $n's changes feed has all $all jobs, every one done" 0 "^$all $all$" -- \
    echo "$listed $finished"
done
expect "server A serves the result B or C rendered" 0 '^200.*"captions":\[\{' -- \
  flat "$(http $port_a GET "/v1/jobs/${ids[0]}/result" --sign "$dir/a.key")"
expect "no server made a jobs.db or a devices.db" 0 "^$" -- \
  find "$dir/a" "$dir/b" "$dir/c" -name 'jobs.db*' -o -name 'devices.db*'

for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" || echo "FAIL: a server exited $?"; done
pids=()
expect_summary
