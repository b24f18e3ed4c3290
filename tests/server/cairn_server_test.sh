#!/usr/bin/env bash
# cairn-server end to end on loopback: start on a free port with a fresh data dir, then the
# protocol over real HTTP with devices that sign their requests (cairn-cli device keygen/sign,
# the project's own Ed25519): registration (idempotent, proof of possession), submit, a retried
# submit, get, feed, cancel, another device's job, bad JSON, unknown field, wrong content type,
# oversize body; then every authentication refusal (unsigned, forged, unknown device, stale,
# replayed) storing nothing; /healthz, /metrics, SIGTERM, and a restart on the same data dir that
# still has the job, the devices and the nonces (a replay is still refused). Then the render
# workers on the tiny test packs (signed here): a caption-hq job rendered to done with its
# captions and provenance, a bad caption payload and an image export without a source failed with
# their codes (image export end to end: image_export_http_test.py), the worker metrics; the model
# flags (an unknown --caption-model refuses to start; no trusted keys fails caption-hq jobs with
# no_model).
# usage: cairn_server_test.sh PATH/TO/cairn-server PATH/TO/cairn-cli PATH/TO/test-models
set -u
bin=$1
export CAIRN_CLI=$2
cli=$2
test_models=$3
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
  # Emptied here, not only by the background redirection: that runs in the child, so the loop
  # below could read the previous server's port (a restart after SIGKILL), then be refused.
  : >"$dir/out.txt"
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
flat() { tr -d '\n' <<<"$1"; }  # a response on one line, for the patterns
json=application/json
job='{"v":1,"idempotency_key":"key-0123456789abcdef","kind":"caption-hq","preset":"final","payload":{"task":"Write 2 captions"}}'
job2='{"v":1,"idempotency_key":"key-second-0123456789","kind":"image-export","preset":"final","payload":{}}'
job3='{"v":1,"idempotency_key":"key-third-01234567890","kind":"image-export","preset":"final","payload":{}}'
now_ms() { date +%s%3N; }
jobs_of() { grep -o '"idempotency_key"' <<<"$1" | wc -l; }

expect "--help" 0 "usage: cairn-server --data DIR" -- "$bin" --help
expect "--help says how devices authenticate" 0 "Cairn-Signature" -- "$bin" --help
expect "unknown flag" 2 "unknown flag --colour" -- "$bin" --colour red
expect "bad port" 2 "--port must be a whole number from 0 to 65535" -- "$bin" --port 70000 --data "$dir/x"
expect "CAIRN_SERVER_PORT is read" 2 "--port must be a whole number from 0 to 65535, not 'abc'" -- \
  env CAIRN_SERVER_PORT=abc "$bin" --data "$dir/x"
expect "--help lists the blob quota and expiry" 0 "--blob-max-age-hours N" -- "$bin" --help
expect "bad blob quota" 2 "--blob-quota must be a size in bytes, or with K, M or G" -- \
  "$bin" --blob-quota 2T --data "$dir/x"
expect "CAIRN_SERVER_BLOB_MAX_AGE_HOURS is read" 2 \
  "--blob-max-age-hours must be a whole number from 0 to 87600, not 'week'" -- \
  env CAIRN_SERVER_BLOB_MAX_AGE_HOURS=week "$bin" --data "$dir/x"
expect "--help lists job retention" 0 "--job-retention-hours N" -- "$bin" --help
expect "job retention 0 is refused" 2 \
  "--job-retention-hours cannot be 0: a finished job would be removed before its device fetched" -- \
  "$bin" --job-retention-hours 0 --data "$dir/x"
expect "bad job retention" 2 \
  "--job-retention-hours must be a whole number from 1 to 87600, not '87601'" -- \
  "$bin" --job-retention-hours 87601 --data "$dir/x"
expect "CAIRN_SERVER_JOB_RETENTION_HOURS is read" 2 \
  "--job-retention-hours must be a whole number from 1 to 87600, not 'month'" -- \
  env CAIRN_SERVER_JOB_RETENTION_HOURS=month "$bin" --data "$dir/x"
expect "bad store connections" 2 "--store-connections must be a whole number from 1 to 64, not '0'" -- \
  "$bin" --store-connections 0 --data "$dir/x"
expect "no data dir" 2 "needs --data DIR" -- env -u CAIRN_SERVER_DATA "$bin" --port 0

dev_a=$("$cli" device keygen "$dir/a.key")
dev_b=$("$cli" device keygen "$dir/b.key")
dev_c=$("$cli" device keygen "$dir/c.key")  # never registered
expect "device keygen prints a 32-hex device id" 0 '^[0-9a-f]{32}$' -- echo "$dev_a"
expect "the device key file is private" 0 "^600$" -- stat -c %a "$dir/a.key"
expect "device sign prints the four headers" 0 \
  "^Cairn-Device: $dev_a Cairn-Timestamp: [0-9]+ Cairn-Nonce: [0-9a-f]{32} Cairn-Signature: [0-9a-f]{128} ?$" -- \
  bash -c 'tr "\n" " " <<<"$("$1" device sign "$2" GET /v1/jobs)"' _ "$cli" "$dir/a.key"
expect "device sign refuses a target it cannot sign" 1 "printable ASCII" -- \
  "$cli" device sign "$dir/a.key" GET "/v1/jobs?x=a b"

start_server --data "$dir/data" --workers 0  # the jobs here stay queued
reg_a=$("$cli" device register "$dir/a.key")
expect "register a device is 201 with its id" 0 "^201.*\"device\":\{\"id\":\"$dev_a\"" -- \
  flat "$(http POST /v1/devices --sign "$dir/a.key" --type $json --body "$reg_a")"
expect "registering the same key again is 200, the same device" 0 "^200.*\"id\":\"$dev_a\"" -- \
  flat "$(http POST /v1/devices --sign "$dir/a.key" --type $json --body "$reg_a")"
expect "register a second device" 0 "^201.*\"id\":\"$dev_b\"" -- \
  flat "$(http POST /v1/devices --sign "$dir/b.key" --type $json \
            --body "$("$cli" device register "$dir/b.key")")"
expect "registering a key without holding it is 401" 0 '^401.*"code":"unauthenticated".*not the id of the key' -- \
  flat "$(http POST /v1/devices --sign "$dir/c.key" --type $json --body "$reg_a")"

created=$(flat "$(http POST /v1/jobs --sign "$dir/a.key" --type $json --body "$job")")
expect "POST a signed job is 201 with the job" 0 '^201.*"job":\{.*"state":"accepted"' -- echo "$created"
id=$(sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' <<<"$created")
expect "the job has a 32-hex id" 0 '^[0-9a-f]{32}$' -- echo "$id"
expect "a retry (same key, new signature and nonce) is 200 with the same job" 0 "^200.*\"id\":\"$id\"" -- \
  flat "$(http POST /v1/jobs --sign "$dir/a.key" --type $json --body "$job")"
expect "GET the job" 0 "\"id\":\"$id\".*\"state\":\"accepted\"" -- \
  http GET "/v1/jobs/$id" --sign "$dir/a.key"
other=$(http GET "/v1/jobs/$id" --sign "$dir/b.key")
missing=$(http GET /v1/jobs/0123456789abcdef0123456789abcdef --sign "$dir/b.key")
expect "another device's job is 404 not_found" 0 '^404.*"code":"not_found"' -- flat "$other"
expect "... exactly like a missing job" 0 "" -- \
  test "${other//$id/ID}" = "${missing//0123456789abcdef0123456789abcdef/ID}"
expect "another device cannot cancel it either" 0 '^404.*"code":"not_found"' -- \
  flat "$(http DELETE "/v1/jobs/$id" --sign "$dir/b.key")"
expect "... nor read its result" 0 '^404.*"code":"not_found"' -- \
  flat "$(http GET "/v1/jobs/$id/result" --sign "$dir/b.key")"
expect "the feed has the job" 0 "\"id\":\"$id\"" -- http GET "/v1/jobs?since=0" --sign "$dir/a.key"
expect "the other device's feed is empty" 0 '^200.*"jobs":\[\]' -- \
  flat "$(http GET "/v1/jobs?since=0" --sign "$dir/b.key")"
expect "bad JSON is 400 bad_json" 0 '^400.*"code":"bad_json"' -- \
  flat "$(http POST /v1/jobs --sign "$dir/a.key" --type $json --body '{"v":1,')"
expect "an unknown field is 400 unknown_field" 0 "^400.*\"code\":\"unknown_field\".*colour" -- \
  flat "$(http POST /v1/jobs --sign "$dir/a.key" --type $json \
    --body '{"v":1,"idempotency_key":"key-0123456789abcdeX","kind":"caption-hq","preset":"final","payload":{},"colour":"red"}')"
expect "wrong content type is 415" 0 '^415.*"code":"unsupported_media_type"' -- \
  flat "$(http POST /v1/jobs --sign "$dir/a.key" --type text/plain --body "$job")"
expect "an oversize body is 413 too_large, before it is read (or authenticated)" 0 \
  '^413.*"code":"too_large"' -- flat "$(http POST /v1/jobs --type $json --body-size 70000)"

# Authentication refusals: each a 401 with its code, and nothing stored.
expect "no signature is 401 unauthenticated, naming the header" 0 '^401.*"code":"unauthenticated".*Cairn-Device' -- \
  flat "$(http POST /v1/jobs --type $json --body "$job2")"
expect "... for any /v1 path, existing or not" 0 '^401.*"code":"unauthenticated"' -- \
  flat "$(http GET /v1/admin)"
expect "the old placeholder header is not an identity" 0 '^401.*"code":"unauthenticated"' -- \
  flat "$(http GET "/v1/jobs/$id" --header "X-Cairn-Device: $dev_a")"
signed_for_job=$(printf %s "$job" | "$cli" device sign "$dir/a.key" POST /v1/jobs --body-file -)
expect "a signature for another body is 401 bad_signature" 0 '^401.*"code":"bad_signature"' -- \
  flat "$(http POST /v1/jobs --header "$signed_for_job" --type $json --body "$job2")"
expect "a signature for another path is 401 bad_signature" 0 '^401.*"code":"bad_signature"' -- \
  flat "$(http POST "/v1/jobs/$id" --header "$signed_for_job" --type $json --body "$job")"
forged=$(sed "s/^Cairn-Device: .*/Cairn-Device: $dev_a/" <<<"$(printf %s "$job2" |
  "$cli" device sign "$dir/b.key" POST /v1/jobs --body-file -)")
expect "device b signing as device a is 401 bad_signature" 0 '^401.*"code":"bad_signature"' -- \
  flat "$(http POST /v1/jobs --header "$forged" --type $json --body "$job2")"
expect "an unregistered device is 401 unknown_device" 0 "^401.*\"code\":\"unknown_device\".*$dev_c" -- \
  flat "$(http POST /v1/jobs --sign "$dir/c.key" --type $json --body "$job2")"
expect "a timestamp 6 minutes old is 401 stale_request" 0 '^401.*"code":"stale_request".*behind' -- \
  flat "$(http POST /v1/jobs --sign "$dir/a.key" --timestamp $(($(now_ms) - 360000)) --type $json --body "$job2")"
expect "a timestamp 6 minutes ahead is 401 stale_request" 0 '^401.*"code":"stale_request".*ahead' -- \
  flat "$(http POST /v1/jobs --sign "$dir/a.key" --timestamp $(($(now_ms) + 360000)) --type $json --body "$job2")"
expect "a 401 carries WWW-Authenticate and the server's time" 0 \
  "Cairn-Server-Time: [0-9]{13} .*Www-Authenticate: Cairn-Ed25519" -- \
  bash -c 'python3 - "$1" <<PY
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("GET", "/v1/jobs")
r = c.getresponse()
print(" ".join(sorted(k.title() + ": " + v for k, v in r.getheaders())))
PY' _ "$port"
expect "the refused requests stored nothing (one job in the feed)" 0 '^1$' -- \
  jobs_of "$(http GET "/v1/jobs?since=0" --sign "$dir/a.key")"

captured=$(printf %s "$job2" | "$cli" device sign "$dir/a.key" POST /v1/jobs --body-file -)
expect "a captured request goes through once" 0 '^201.*"state":"accepted"' -- \
  flat "$(http POST /v1/jobs --header "$captured" --type $json --body "$job2")"
expect "its byte-identical replay is 401 replayed_request" 0 '^401.*"code":"replayed_request"' -- \
  flat "$(http POST /v1/jobs --header "$captured" --type $json --body "$job2")"
captured3=$(printf %s "$job3" | "$cli" device sign "$dir/a.key" POST /v1/jobs --body-file -)
expect "a replay with the nonce of an earlier request and a new body is refused too" 0 \
  '^401.*"code":"(bad_signature|replayed_request)"' -- \
  flat "$(http POST /v1/jobs --header "$(sed "s/^Cairn-Nonce: .*/$(grep Cairn-Nonce <<<"$captured")/" <<<"$captured3")" \
            --type $json --body "$job3")"
expect "the replays stored nothing (two jobs)" 0 '^2$' -- \
  jobs_of "$(http GET "/v1/jobs?since=0" --sign "$dir/a.key")"
expect "cancel the job" 0 "^200.*\"id\":\"$id\".*\"state\":\"cancelled\"" -- \
  flat "$(http DELETE "/v1/jobs/$id" --sign "$dir/a.key")"
expect "an unknown path outside /v1 is a JSON 404" 0 '^404.*"code":"not_found"' -- \
  flat "$(http GET /v2/jobs --sign "$dir/a.key")"
expect "/healthz" 0 '^200ok$' -- flat "$(http GET /healthz)"
metrics=$(http GET /metrics)
expect "/metrics counts 2xx" 0 'cairn_http_requests_total\{class="2xx"\} [1-9]' -- echo "$metrics"
expect "/metrics counts 4xx" 0 'cairn_http_requests_total\{class="4xx"\} [1-9]' -- echo "$metrics"
expect "/metrics counts created jobs (not devices)" 0 '^cairn_jobs_created_total 2$' -- echo "$metrics"
expect "/metrics counts replays" 0 '^cairn_auth_refused_total\{code="replayed_request"\} 1$' -- echo "$metrics"
expect "/metrics counts forgeries" 0 '^cairn_auth_refused_total\{code="bad_signature"\} [3-4]$' -- echo "$metrics"
stop_server; status=$?
expect "SIGTERM exits 0" 0 "" -- test "$status" = 0
expect "... after saying so" 0 "stopped" -- cat "$dir/err.txt"

start_server --workers 0  # the data dir from CAIRN_SERVER_DATA this time
expect "after a restart the job is still there" 0 "^200.*\"id\":\"$id\"" -- \
  flat "$(http GET "/v1/jobs/$id" --sign "$dir/a.key")"
expect "... and its key still gives the same job" 0 "^200.*\"id\":\"$id\"" -- \
  flat "$(http POST /v1/jobs --sign "$dir/a.key" --type $json --body "$job")"
expect "... the devices are still registered" 0 "^200.*\"id\":\"$dev_b\"" -- \
  flat "$(http POST /v1/devices --sign "$dir/b.key" --type $json \
            --body "$("$cli" device register "$dir/b.key")")"
expect "... and a replay from before the restart is still refused" 0 '^401.*"code":"replayed_request"' -- \
  flat "$(http POST /v1/jobs --header "$captured" --type $json --body "$job2")"
kill -INT "$pid"; wait "$pid"; status=$?; pid=
expect "SIGINT exits 0 too" 0 "" -- test "$status" = 0

# Render workers. The tiny test packs, signed with a key made here and trusted by a file.
cp -r "$test_models" "$dir/models"
"$cli" pack keygen "$dir/pack.key" >"$dir/trusted.txt"
for p in tiny-gpt2 tiny-llama; do "$cli" pack sign "$dir/pack.key" "$dir/models/$p" >/dev/null; done
# wait_job KEYFILE ID: polls the job (60 s at most) until it is done, failed or cancelled;
# prints the last answer on one line.
wait_job() {
  local r=
  for _ in $(seq 300); do
    r=$(flat "$(http GET "/v1/jobs/$2" --sign "$1")")
    grep -qE '"state":"(done|failed|cancelled)"' <<<"$r" && break
    sleep 0.2
  done
  echo "$r"
}
submit() { flat "$(http POST /v1/jobs --sign "$dir/a.key" --type $json --body "$1")"; }
id_of() { sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' <<<"$1"; }

expect "--workers must be a number" 2 "--workers must be a whole number from 0 to 64, not 'two'" -- \
  "$bin" --data "$dir/w0" --workers two
expect "an unknown --caption-model refuses to start, saying why" 1 \
  "--caption-model nope cannot be used: .*no pack with id nope" -- \
  "$bin" --data "$dir/w0" --port 0 --models "$dir/models" --trust-file "$dir/trusted.txt" \
    --caption-model nope
expect "a --caption-model whose signer is not trusted refuses to start" 1 \
  "--caption-model cairn-test-tiny-llama cannot be used: .*(signer|key)" -- \
  env CAIRN_TRUSTED_KEYS="$("$cli" pack keygen "$dir/other.key")" \
    "$bin" --data "$dir/w0" --port 0 --models "$dir/models" --caption-model cairn-test-tiny-llama

start_server --data "$dir/data-w" --workers 2 --models "$dir/models" \
  --trust-file "$dir/trusted.txt" --caption-model cairn-test-tiny-llama
expect "the workers say which model they run" 0 \
  "2 render worker\(s\); caption-hq on cairn-test-tiny-llama 1\.0\.0 \(native-fp32, ort-native-cpu\)" -- \
  cat "$dir/err.txt"
expect "register on the workers' server" 0 "^201" -- \
  flat "$(http POST /v1/devices --sign "$dir/a.key" --type $json --body "$reg_a")"
hq='{"v":1,"idempotency_key":"key-hq-0123456789abc","kind":"caption-hq","preset":"final","payload":{"task":"Write 2 captions","context":"pier at sunset; sea, sky","style":"warm","count":2,"max_chars":60}}'
hq_id=$(id_of "$(submit "$hq")")
bad_id=$(id_of "$(submit '{"v":1,"idempotency_key":"key-hq-bad-0123456789","kind":"caption-hq","preset":"final","payload":{"task":"t","colour":"red"}}')")
img_id=$(id_of "$(submit '{"v":1,"idempotency_key":"key-img-0123456789abc","kind":"image-export","preset":"final","payload":{}}')")
expect "a caption-hq job is rendered: done" 0 "\"id\":\"$hq_id\".*\"state\":\"done\"" -- \
  wait_job "$dir/a.key" "$hq_id"
result=$(flat "$(http GET "/v1/jobs/$hq_id/result" --sign "$dir/a.key")")
expect "its result has the 2 captions asked for" 0 "^2$" -- \
  bash -c 'grep -o "\"text\":" <<<"$1" | wc -l' _ "$result"
expect "... as JSON, with their checks" 0 '^200.*"captions":\[\{.*"ok":(true|false),"problems":\[.*"safety":\{"findings":' -- \
  echo "$result"
expect "... with provenance: the cloud tier on native ONNX Runtime, fp32, preset final" 0 \
  '"provenance":\{"backend":"ort-native-cpu","model_checksum":"[0-9a-f]{64}","model_id":"cairn-test-tiny-llama","model_version":"1.0.0","preset":"final","prompt_schema":"cairn.prompt/1","quantization":"fp32","seed":[0-9]+,"tier":"cloud"\}' -- \
  echo "$result"
expect "... from more candidates than asked for" 0 '"hq":\{"candidates":([4-9]|[1-9][0-9]),"rounds":[2-4],' -- \
  echo "$result"
expect "a bad payload fails the job with bad_payload, naming the field" 0 \
  "\"code\":\"bad_payload\".*'colour' is not a field of a caption-hq payload.*\"state\":\"failed\"" -- \
  wait_job "$dir/a.key" "$bad_id"
expect "... and it has no result" 0 '^409.*"code":"not_ready"' -- \
  flat "$(http GET "/v1/jobs/$bad_id/result" --sign "$dir/a.key")"
expect "an image export without a source fails with bad_payload, naming the field" 0 \
  "\"code\":\"bad_payload\".*'source' is missing.*\"state\":\"failed\"" -- wait_job "$dir/a.key" "$img_id"
metrics=$(http GET /metrics)
expect "/metrics counts the workers" 0 '^cairn_workers 2$' -- echo "$metrics"
expect "... the jobs done" 0 '^cairn_worker_jobs_total\{outcome="done"\} 1$' -- echo "$metrics"
expect "... and failed" 0 '^cairn_worker_jobs_total\{outcome="failed"\} 2$' -- echo "$metrics"
expect "... and the time spent rendering" 0 '^cairn_worker_run_seconds_total [0-9.]+$' -- echo "$metrics"
expect "... and none busy now" 0 '^cairn_workers_busy 0$' -- echo "$metrics"
stop_server; status=$?
expect "SIGTERM with workers exits 0" 0 "" -- test "$status" = 0

# A worker killed mid-job (SIGKILL: no drain): the job is neither lost nor failed; once its
# lease lapses, the restarted server's worker claims it again and finishes it. Then SIGTERM
# while a job runs: the server waits for it (the drain) and exits 0 with the job done.
big() {  # a longer caption-hq job (seconds): 4 captions of up to 300 characters, 2+ rounds
  echo '{"v":1,"idempotency_key":"'"$1"'","kind":"caption-hq","preset":"final","payload":{"task":"Write 4 captions","context":"pier","count":4,"max_chars":300}}'
}
wait_running() {
  for _ in $(seq 100); do
    grep -q '"state":"running"' <<<"$(http GET "/v1/jobs/$1" --sign "$dir/a.key")" && return 0
    sleep 0.1
  done
  return 1
}
workers_w=(--data "$dir/data-w" --models "$dir/models" --trust-file "$dir/trusted.txt" --lease-seconds 2
           --caption-model cairn-test-tiny-llama)
start_server "${workers_w[@]}" --workers 1
kill_id=$(id_of "$(submit "$(big key-kill-0123456789abc)")")
expect "a long job is running" 0 "" -- wait_running "$kill_id"
kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=
start_server "${workers_w[@]}" --workers 0
expect "after the kill the job is still there, not failed" 0 "\"id\":\"$kill_id\".*\"state\":\"(running|accepted)\"" -- \
  flat "$(http GET "/v1/jobs/$kill_id" --sign "$dir/a.key")"
stop_server
start_server "${workers_w[@]}" --workers 1
expect "once its lease lapsed another worker finished it" 0 "\"id\":\"$kill_id\".*\"state\":\"done\"" -- \
  wait_job "$dir/a.key" "$kill_id"
expect "... exactly once (this server's worker did it)" 0 '^cairn_worker_jobs_total\{outcome="done"\} 1$' -- \
  http GET /metrics
drain_id=$(id_of "$(submit "$(big key-drain-0123456789ab)")")
expect "another long job is running" 0 "" -- wait_running "$drain_id"
stop_server; status=$?
expect "SIGTERM during a job exits 0" 0 "" -- test "$status" = 0
expect "... after waiting for the job" 0 "stopping: waiting for 1 job" -- cat "$dir/err.txt"
start_server "${workers_w[@]}" --workers 0
expect "... which was done before the server stopped" 0 "\"id\":\"$drain_id\".*\"state\":\"done\"" -- \
  flat "$(http GET "/v1/jobs/$drain_id" --sign "$dir/a.key")"
stop_server

# Workers without a usable model (no trusted keys): the server starts, says why, and fails
# caption-hq jobs with no_model.
CAIRN_TRUSTED_KEYS= start_server --data "$dir/data-w" --models "$dir/models"
expect "without trusted keys the server says it has no caption model, and why" 0 \
  "no caption model for the render workers: .*no trusted signing keys.*fail with no_model" -- \
  cat "$dir/err.txt"
nm_id=$(id_of "$(submit '{"v":1,"idempotency_key":"key-nomodel-012345678","kind":"caption-hq","preset":"final","payload":{"task":"t"}}')")
expect "... and a caption-hq job fails with no_model" 0 '"code":"no_model".*"state":"failed"' -- \
  wait_job "$dir/a.key" "$nm_id"
expect "... while the job done before is still there" 0 "\"id\":\"$hq_id\".*\"state\":\"done\"" -- \
  flat "$(http GET "/v1/jobs/$hq_id" --sign "$dir/a.key")"
stop_server

expect_summary
