#!/usr/bin/env bash
# One harness as a test: every regression input once (each is a crash found earlier, named
# after it), then a short run from the committed seeds. The seeds stay untouched: new inputs
# go to a scratch corpus under the build tree.
# usage: run_fuzzer.sh BINARY FUZZ_DIR NAME WORK_DIR   (seconds: $CAIRN_FUZZ_SECONDS, default 10)
set -euo pipefail
bin=$1 src=$2 name=$3 work=$4
seconds=${CAIRN_FUZZ_SECONDS:-10}
rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
regressions=("$src/regressions/$name"/*)
if [ -e "${regressions[0]}" ]; then
  echo "== $name: ${#regressions[@]} regression input(s)"
  "$bin" -artifact_prefix="$work/artifacts/" "${regressions[@]}"
fi
echo "== $name: ${seconds}s from the seeds in $src/corpus/$name"
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$src/corpus/$name"
