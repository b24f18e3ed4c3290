#!/usr/bin/env bash
# cairn-cli end to end on the tiny test packs: keygen, sign, verify, caption (JSON with
# provenance), eval, the prompt the engine renders vs the training recipe's, bad flags, bad
# packs. usage: cairn_cli_test.sh PATH/TO/cairn-cli TEST_MODELS_DIR SOURCE_DIR
set -u
bin=$1
models=$2
src=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../support/expect.sh"

cp -r "$models/tiny-llama" "$dir/pack"
expect "no arguments is a usage error" 2 "usage:" -- "$bin"
expect "unknown command" 2 "unknown command 'frob'" -- "$bin" frob
pub=$("$bin" pack keygen "$dir/key.json")
expect "keygen prints a public key" 0 "^[0-9a-f]{64}$" -- echo "$pub"
expect "key file is private" 0 "^600$" -- stat -c %a "$dir/key.json"
expect "keygen never overwrites a key" 1 "already_exists" -- "$bin" pack keygen "$dir/key.json"
expect "sign" 0 "signed cairn-test-tiny-llama 1.0.0 with key" -- \
  "$bin" pack sign "$dir/key.json" "$dir/pack"
expect "verify" 0 "ok: cairn-test-tiny-llama 1.0.0 \(caption-lm, CC0-1.0\)" -- \
  "$bin" pack verify "$dir/pack" --trust "$pub"
expect "verify without trusted keys" 1 "no trusted signing keys" -- "$bin" pack verify "$dir/pack"

# Device keys and signed requests (cairn-server's test sends them over HTTP).
device=$("$bin" device keygen "$dir/device.json")
expect "device keygen prints the device id" 0 "^[0-9a-f]{32}$" -- echo "$device"
expect "device key file is private" 0 "^600$" -- stat -c %a "$dir/device.json"
expect "device keygen never overwrites a key" 1 "already_exists" -- "$bin" device keygen "$dir/device.json"
expect "device register prints the registration body" 0 '^\{"public_key":"[0-9a-f]{64}","v":1\}$' -- \
  "$bin" device register "$dir/device.json"
expect "device sign: fixed time and nonce give the device's headers" 0 \
  "^Cairn-Device: $device Cairn-Timestamp: 1700000000000 Cairn-Nonce: nonce-0123456789abcdef Cairn-Signature: [0-9a-f]{128} $" -- \
  bash -c 'tr "\n" " " <<<"$("$@")"' _ "$bin" device sign "$dir/device.json" DELETE /v1/jobs/x \
  --timestamp 1700000000000 --nonce nonce-0123456789abcdef
expect "device sign is deterministic (Ed25519)" 0 "" -- test \
  "$("$bin" device sign "$dir/device.json" GET /v1/jobs --timestamp 1 --nonce nonce-0123456789abcdef)" = \
  "$("$bin" device sign "$dir/device.json" GET /v1/jobs --timestamp 1 --nonce nonce-0123456789abcdef)"
expect "device sign refuses a bad nonce" 1 "Cairn-Nonce must be 16 to 64" -- \
  "$bin" device sign "$dir/device.json" GET /v1/jobs --nonce short
expect "device sign refuses a pack key" 1 "is not a device key file" -- \
  "$bin" device sign "$dir/key.json" GET /v1/jobs
expect "device sign needs METHOD and TARGET" 2 "device sign KEYFILE METHOD TARGET" -- \
  "$bin" device sign "$dir/device.json" GET

caption=("$bin" caption --model "$dir/pack" --trust "$pub" --task "Write 2 captions"
         --context "beach at sunset; sea, sky" --style "warm" --n 2 --max-chars 30
         --preset preview --seed 7 --max-new-tokens 300)
"${caption[@]}" >"$dir/out.json" 2>"$dir/err.txt"
expect "caption exits 0" 0 "" -- test -s "$dir/out.json"
check_json() {
  python3 - "$dir/out.json" "$pub" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
assert len(out["captions"]) == 2, out
for c in out["captions"]:
    assert isinstance(c["text"], str) and len(c["text"]) <= 30, c
    assert c["safety"]["level"] in ("clean", "needs_review", "blocked"), c
p = out["provenance"]
assert p["model_id"] == "cairn-test-tiny-llama" and p["model_version"] == "1.0.0", p
assert len(p["model_checksum"]) == 64 and p["quantization"] == "fp32", p
assert p["backend"] == "ort-native-cpu" and p["tier"] == "device", p
assert p["preset"] == "preview" and p["seed"] == 7 and p["prompt_schema"] == "cairn.prompt/1", p
assert out["stats"]["finish"] == "eos" and out["stats"]["tokens_per_second"] > 0, out["stats"]
print("json ok")
PY
}
expect "caption prints captions with provenance as JSON" 0 "json ok" -- check_json
"${caption[@]}" >"$dir/again.json" 2>/dev/null
expect "the same seed gives the same captions" 0 "" -- \
  python3 -c "import json,sys; a,b=(json.load(open(f))['captions'] for f in sys.argv[1:]); assert a==b" \
  "$dir/out.json" "$dir/again.json"

expect "caption needs --model" 2 "caption needs --model" -- "$bin" caption --task x
expect "unknown flag" 2 "unknown flag --colour" -- "$bin" caption --model "$dir/pack" --task x --colour red
expect "bad count" 2 "--n must be a whole number from 1 to 10" -- \
  "$bin" caption --model "$dir/pack" --task x --n 40
expect "bad preset" 2 "--preset must be low, preview or final" -- \
  "$bin" caption --model "$dir/pack" --task x --preset turbo
expect "flag without value" 2 "--seed needs a value" -- "$bin" caption --model "$dir/pack" --task x --seed
expect "missing pack" 1 "not_found: cannot open $dir/nope/manifest.json" -- \
  "$bin" caption --model "$dir/nope" --task x --trust "$pub"
expect "unknown signer" 1 "auth_failed" -- \
  "$bin" caption --model "$dir/pack" --task x --trust "$(printf '%064d' 1 | tr 0 a)"
expect "bad trusted key" 1 "trusted key" -- "$bin" caption --model "$dir/pack" --task x --trust zz

cp -r "$dir/pack" "$dir/tampered"
printf '\x01' | dd of="$dir/tampered/model.onnx" bs=1 seek=1000 conv=notrunc status=none
expect "a tampered model is refused, naming the file" 1 "corruption: .*model.onnx" -- \
  "$bin" caption --model "$dir/tampered" --task x --trust "$pub"
cp -r "$dir/pack" "$dir/edited"
sed -i 's/"version": "1.0.0"/"version": "1.0.1"/' "$dir/edited/manifest.json"
expect "an edited manifest is refused" 1 "modified after signing" -- \
  "$bin" pack verify "$dir/edited" --trust "$pub"

# A pack whose licence is unknown (as converted packs of unknown provenance are marked) loads in a
# personal workspace and is refused in a commercial one.
cp -r "$dir/pack" "$dir/unknown-licence"
sed -i -e 's/"spdx": "[^"]*"/"spdx": "LicenseRef-unknown"/' -e 's/"commercial_use": true/"commercial_use": false/' \
  "$dir/unknown-licence/manifest.json"
"$bin" pack sign "$dir/key.json" "$dir/unknown-licence" >/dev/null
expect "an unknown licence verifies" 0 "ok: .*LicenseRef-unknown" -- \
  "$bin" pack verify "$dir/unknown-licence" --trust "$pub"
expect "an unknown licence is refused in a commercial workspace" 1 "commercial" -- \
  "$bin" pack verify "$dir/unknown-licence" --trust "$pub" --commercial
expect "a commercial licence passes in a commercial workspace" 0 "ok: " -- \
  "$bin" pack verify "$dir/pack" --trust "$pub" --commercial

# Texts through the tiny embedding pack: known words and pairwise similarity.
cp -r "$models/tiny-embed" "$dir/embed"
"$bin" pack sign "$dir/key.json" "$dir/embed" >/dev/null
expect "embed" 0 '"known_words": 2' -- \
  "$bin" embed --model "$dir/embed" --trust "$pub" "Golden HOUR" "qqq"
expect "embed needs texts" 2 "embed needs one or more TEXT" -- \
  "$bin" embed --model "$dir/embed" --trust "$pub"
expect "embed refuses a caption pack" 1 "not an embedding pack" -- \
  "$bin" embed --model "$dir/pack" --trust "$pub" x

# The caption model is trained on the recipe's rendering of prompts; it must be the engine's.
prompt_matches_recipe() {
  python3 - "$bin" "$src" <<'PY'
import json, subprocess, sys
bin, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, src + "/models/recipe")
import caption_corpus
prompts = json.load(open(src + "/tests/data/caption_eval_prompts.json"))["prompts"]
for p in prompts[:25]:
    args = [bin, "prompt", "--task", p["task"], "--context", p["context"], "--style", p["style"],
            "--n", str(p["count"]), "--max-chars", str(p["max_chars"]),
            "--max-hashtags", str(p["max_hashtags"])]
    if p["emoji"]:
        args.append("--emoji")
    for b in p["banned"]:
        args += ["--ban", b]
    engine = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    recipe = caption_corpus.render_prompt({"task": p["task"], "context": p["context"],
        "style": p["style"], "constraints": {"count": p["count"], "max_chars": p["max_chars"],
        "emoji": p["emoji"], "max_hashtags": p["max_hashtags"], "banned": p["banned"]}})
    assert engine == recipe, f"engine:\n{engine!r}\nrecipe:\n{recipe!r}"
print("prompts match")
PY
}
expect "the engine renders prompts exactly as the training recipe does" 0 "prompts match" -- \
  prompt_matches_recipe
# Random test weights may not finish a long list within the model's context (generation stops
# there), so only the shape of the report is checked here; the engine's tests prove the JSON.
expect "eval prints caption metrics" 0 '"json_valid_pct":[0-9.]+.*"prompts":3' -- \
  "$bin" eval --model "$dir/pack" --trust "$pub" --prompts "$src/tests/data/caption_eval_prompts.json" \
  --limit 3 --show 0

expect_summary
