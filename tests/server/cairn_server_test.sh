#!/usr/bin/env bash
# cairn-server end to end on loopback: start on a free port with a fresh data dir, then the
# protocol over real HTTP (submit, idempotent repeat, get, another device's job, bad JSON, unknown
# field, wrong content type, oversize body, no device header), /healthz, /metrics, SIGTERM, and a
# restart on the same data dir that still has the job. usage: cairn_server_test.sh PATH/TO/cairn-server
set -u
bin=$1
here=$(dirname "${BASH_SOURCE[0]}")
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  rm -rf "$dir"
}
trap cleanup EXIT
source "$here/../support/expect.sh"

# start_server [ARGS...]: runs cairn-server on a free port in the background (the data dir from
# ARGS, else from CAIRN_SERVER_DATA) and waits (10 s at most) for its listening line.
start_server() {
  CAIRN_SERVER_DATA="$dir/data" "$bin" --port 0 "$@" >"$dir/out.txt" 2>"$dir/err.txt" &
  pid=$!
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's/^cairn-server listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$dir/out.txt")
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "cairn-server did not start:"; cat "$dir/out.txt" "$dir/err.txt"
  exit 1
}
stop_server() {
  kill -TERM "$pid"
  wait "$pid"
  local status=$?
  pid=
  return $status
}
http() { python3 "$here/http_client.py" "$port" "$@"; }
json=application/json
job='{"v":1,"idempotency_key":"key-0123456789abcdef","kind":"caption-hq","preset":"final","payload":{"task":"Write 2 captions"}}'

expect "--help" 0 "usage: cairn-server --data DIR" -- "$bin" --help
expect "unknown flag" 2 "unknown flag --colour" -- "$bin" --colour red
expect "bad port" 2 "--port must be a whole number from 0 to 65535" -- "$bin" --port 70000 --data "$dir/x"
expect "CAIRN_SERVER_PORT is read" 2 "--port must be a whole number from 0 to 65535, not 'abc'" -- \
  env CAIRN_SERVER_PORT=abc "$bin" --data "$dir/x"
expect "no data dir" 2 "needs --data DIR" -- env -u CAIRN_SERVER_DATA "$bin" --port 0

start_server --data "$dir/data"
created=$(http POST /v1/jobs --device dev-a --type $json --body "$job")
expect "POST a job is 201 with the job" 0 '^201.*"job":\{.*"state":"accepted"' -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$created"
id=$(sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' <<<"$created")
expect "the job has a 32-hex id" 0 '^[0-9a-f]{32}$' -- echo "$id"
again=$(http POST /v1/jobs --device dev-a --type $json --body "$job")
expect "the same key again is 200 with the same job" 0 "^200.*\"id\":\"$id\"" -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$again"
expect "GET the job" 0 "\"id\":\"$id\".*\"state\":\"accepted\"" -- \
  http GET "/v1/jobs/$id" --device dev-a
other=$(http GET "/v1/jobs/$id" --device dev-b)
missing=$(http GET /v1/jobs/0123456789abcdef0123456789abcdef --device dev-b)
expect "another device's job is 404 not_found" 0 '"code":"not_found"' -- echo "$other"
expect "... exactly like a missing job" 0 "" -- \
  test "${other//$id/ID}" = "${missing//0123456789abcdef0123456789abcdef/ID}"
expect "the feed has the job" 0 "\"id\":\"$id\"" -- http GET "/v1/jobs?since=0" --device dev-a
expect "bad JSON is 400 bad_json" 0 '^400.*"code":"bad_json"' -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$(http POST /v1/jobs --device dev-a --type $json --body '{"v":1,')"
expect "an unknown field is 400 unknown_field" 0 "^400.*\"code\":\"unknown_field\".*colour" -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$(http POST /v1/jobs --device dev-a --type $json \
    --body '{"v":1,"idempotency_key":"key-0123456789abcdeX","kind":"caption-hq","preset":"final","payload":{},"colour":"red"}')"
expect "wrong content type is 415" 0 '^415.*"code":"unsupported_media_type"' -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$(http POST /v1/jobs --device dev-a --type text/plain --body "$job")"
expect "an oversize body is 413 too_large" 0 '^413.*"code":"too_large"' -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$(http POST /v1/jobs --device dev-a --type $json --body-size 70000)"
expect "no device header is 401" 0 '^401.*"code":"unauthenticated"' -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$(http POST /v1/jobs --type $json --body "$job")"
expect "a bad device id is 401" 0 '^401.*"code":"unauthenticated"' -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$(http GET "/v1/jobs/$id" --device 'dev a/../b')"
expect "an unknown path is a JSON 404" 0 '^404.*"code":"not_found"' -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$(http GET /v2/jobs --device dev-a)"
expect "the refused requests stored nothing (one job in the feed)" 0 '^1$' -- \
  bash -c 'grep -o "\"idempotency_key\"" <<<"$1" | wc -l' _ "$(http GET "/v1/jobs?since=0" --device dev-a)"
expect "/healthz" 0 '^200ok$' -- bash -c 'tr -d "\n" <<<"$1"' _ "$(http GET /healthz)"
metrics=$(http GET /metrics)
expect "/metrics counts 2xx" 0 'cairn_http_requests_total\{class="2xx"\} [1-9]' -- echo "$metrics"
expect "/metrics counts 4xx" 0 'cairn_http_requests_total\{class="4xx"\} [1-9]' -- echo "$metrics"
expect "/metrics counts created jobs" 0 '^cairn_jobs_created_total 1$' -- echo "$metrics"
stop_server; status=$?
expect "SIGTERM exits 0" 0 "" -- test "$status" = 0
expect "... after saying so" 0 "stopped" -- cat "$dir/err.txt"

start_server  # the data dir from CAIRN_SERVER_DATA this time
expect "after a restart the job is still there" 0 "^200.*\"id\":\"$id\"" -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$(http GET "/v1/jobs/$id" --device dev-a)"
expect "... and its key still gives the same job" 0 "^200.*\"id\":\"$id\"" -- \
  bash -c 'tr -d "\n" <<<"$1"' _ "$(http POST /v1/jobs --device dev-a --type $json --body "$job")"
kill -INT "$pid"; wait "$pid"; status=$?; pid=
expect "SIGINT exits 0 too" 0 "" -- test "$status" = 0

expect_summary
