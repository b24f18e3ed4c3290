#!/usr/bin/env bash
# cairn-server's static side over real HTTP (server/static_files.h): --app and --models on a
# made-up app and pack, MIME types, Cache-Control, ETag/304, Range, the cross-origin isolation
# headers on every response, 404s, /models/index.json, and path traversal refused (dot segments,
# encoded ones, dotfiles, a symlink out of the directory).
# usage: static_files_test.sh PATH/TO/cairn-server
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

# The served directories, and a secret beside them that must never come out.
app=$dir/app models=$dir/models
mkdir -p "$app/sub" "$models/pack-a" "$models/not-a-pack" "$app/.git"
echo '<!doctype html><title>Cairn</title>' >"$app/index.html"
echo 'self.addEventListener("fetch", () => {});' >"$app/sw.js"
echo '{"name":"Cairn"}' >"$app/app.webmanifest"
echo 'export default 1;' >"$app/cairn_web.mjs"
printf 'wasm-bytes' >"$app/cairn_web.wasm"
echo 'console.log(1);' >"$app/main.0123456789abcdef.js"
echo 'body{}' >"$app/sub/styles.css"
: >"$app/empty.txt"
echo 'secret' >"$app/.git/config"
echo 'TOP-SECRET' >"$dir/secret.txt"
ln -s "$dir/secret.txt" "$app/escape.txt"
echo '{"id":"pack-a","version":"1.2.3"}' >"$models/pack-a/manifest.json"
printf '0123456789' >"$models/pack-a/model.onnx"
echo 'no manifest here' >"$models/not-a-pack/readme.txt"

"$bin" --port 0 --data "$dir/data" --app "$app" --models "$models" >"$dir/out.txt" 2>"$dir/err.txt" &
pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/^cairn-server listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$dir/out.txt")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "cairn-server did not start:"; cat "$dir/out.txt" "$dir/err.txt"; exit 1; }
get() { python3 "$here/http_get.py" "$port" "$@"; }

expect "--help names --app and --models" 0 "--app DIR.*--models DIR" -- "$bin" --help
expect "/ is index.html as HTML" 0 "^200" -- get /
expect "... text/html" 0 "^Content-Type: text/html" -- get /
expect "... no-cache" 0 "^Cache-Control: no-cache" -- get /
expect "... COOP same-origin" 0 "^Cross-Origin-Opener-Policy: same-origin" -- get /
expect "... COEP require-corp" 0 "^Cross-Origin-Embedder-Policy: require-corp" -- get /
expect "... nosniff" 0 "^X-Content-Type-Options: nosniff" -- get /
expect "... the file's bytes" 0 "<title>Cairn</title>" -- get /
expect "sw.js is JavaScript" 0 "^Content-Type: text/javascript" -- get /sw.js
expect "sw.js is no-cache" 0 "^Cache-Control: no-cache" -- get /sw.js
expect "the manifest's type" 0 "^Content-Type: application/manifest\+json" -- get /app.webmanifest
expect "the manifest is no-cache" 0 "^Cache-Control: no-cache" -- get /app.webmanifest
expect ".mjs is JavaScript" 0 "^Content-Type: text/javascript" -- get /cairn_web.mjs
expect ".wasm is application/wasm" 0 "^Content-Type: application/wasm" -- get /cairn_web.wasm
expect "a content-hashed name is immutable" 0 \
  "^Cache-Control: public, max-age=31536000, immutable" -- get /main.0123456789abcdef.js
expect "a subdirectory's CSS" 0 "^Content-Type: text/css" -- get /sub/styles.css
expect "an empty file is 200" 0 "^200" -- get /empty.txt
expect "... with no body" 0 "^Content-Length: 0" -- get /empty.txt
expect "HEAD has the headers" 0 "^Content-Type: text/javascript" -- get /sw.js --method HEAD
etag=$(get /sw.js | sed -n 's/^ETag: //p' | tr -d '\r')
expect "an ETag" 0 '^".+"$' -- echo "$etag"
expect "If-None-Match with it is 304" 0 "^304" -- get /sw.js --header "If-None-Match: $etag"
expect "... with the isolation headers too" 0 "^Cross-Origin-Embedder-Policy: require-corp" -- \
  get /sw.js --header "If-None-Match: $etag"
expect "a missing file is 404" 0 "^404" -- get /nope.js
expect "... with COOP" 0 "^Cross-Origin-Opener-Policy: same-origin" -- get /nope.js
expect "a directory is not listed" 0 "^404" -- get /sub/

secret_out() { get "$1" | grep -c -e TOP-SECRET -e '^secret$'; }
for path in /../secret.txt /sub/../../secret.txt /%2e%2e/secret.txt /sub/%2e%2e/%2e%2e/secret.txt \
            /..%2fsecret.txt /sub%2f..%2f..%2fsecret.txt '/..\secret.txt' /.git/config \
            /escape.txt /models/../secret.txt /models/pack-a/../../secret.txt \
            /models/%2e%2e/%2e%2e/secret.txt /models/.. /models/pack-a/%2e%2e; do
  expect "traversal refused: $path" 0 "^404" -- get "$path"
  expect "... and nothing of the secret: $path" 1 "^0$" -- secret_out "$path"
done

index=$(get /models/index.json)
expect "/models/index.json is JSON" 0 "^Content-Type: application/json" -- echo "$index"
expect "... lists the pack with its manifest" 0 \
  '"id":"pack-a","manifest":\{"id":"pack-a","version":"1.2.3"\}' -- echo "$index"
expect "... and its files' sizes" 0 '\{"name":"model.onnx","size":10\}' -- echo "$index"
expect "... but not a directory without a manifest" 1 "" -- grep -q not-a-pack <<<"$index"
expect "a pack file" 0 "^200" -- get /models/pack-a/model.onnx
expect "... as octet-stream" 0 "^Content-Type: application/octet-stream" -- get /models/pack-a/model.onnx
expect "... resumes from a Range" 0 "^206" -- get /models/pack-a/model.onnx --header "Range: bytes=4-"
expect "... with the rest only" 0 "^456789$" -- get /models/pack-a/model.onnx --header "Range: bytes=4-"
expect "a pack's manifest as JSON" 0 "^Content-Type: application/json" -- get /models/pack-a/manifest.json
expect "no files at /models/ itself" 0 "^404" -- get /models/secret.txt
expect "a missing pack file is 404" 0 "^404" -- get /models/pack-a/nope.onnx
expect "the API still answers (JSON 401)" 0 '"code":"unauthenticated"' -- \
  python3 "$here/http_client.py" "$port" GET /v1/jobs/x
expect "... with the isolation headers" 0 "^Cross-Origin-Opener-Policy: same-origin" -- \
  get /v1/jobs/x
expect "/healthz still answers" 0 "^ok$" -- get /healthz

kill -TERM "$pid"; wait "$pid"; pid=
expect_summary
