"""Builds the two tiny test model packs (random weights, a few hundred KB each).

  python3 models/recipe/tiny_decoders.py OUT_DIR [PACK...]

OUT_DIR/tiny-gpt2   GPT-2 style, ChatML chat format
OUT_DIR/tiny-llama  Llama style (rotary positions, grouped-query attention), Llama 3 chat format

Each pack: model.onnx (Optimum decoder layout with KV cache), tokenizer.json (byte-level BPE
trained here), manifest.json (unsigned). The recipe checks its own export (ort_check.py):
ONNX Runtime's logits match torch's, decoding with the KV cache matches decoding without it,
and greedy output is not degenerate.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

# torch.onnx.export would import onnxruntime next to onnx; in Debian both register ONNX's
# operator schemas and the second floods stderr. The export does not need it (ort_check.py runs
# ONNX Runtime in its own process), so it is kept out of this one.
sys.modules["onnxruntime"] = None
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import decoder  # noqa: E402
import pack  # noqa: E402

CORPUS = [
    "Golden hour at the pier, waves rolling in and the sky on fire.",
    "Coffee first, then the mountains. Weekend mode is on!",
    "Fresh bread, old friends and a table by the window.",
    "Chasing sunsets in the city: rooftops, neon and warm light.",
    "Write 3 Instagram captions. Use the context and match the style.",
    "Context: photo of a beach at sunset; tags: sea, sky, summer.",
    "Style: warm, short, one emoji each. Output: JSON {\"captions\": [string]}",
    '{"captions": ["Sun, sea and salt in the air", "Summer nights by the water"]}',
    "Our new collection drops Friday - soft cotton, bold colours, made to last.",
    "Trail run at dawn, 12 km, mud everywhere and zero regrets.",
    "Café au lait, croissant, rainy Paris morning. 2024 was a good year.",
    "#travel #sunset #coffee #weekend #fitness #food #style #nature",
]

PACKS = {
    "tiny-gpt2": dict(
        config=decoder.Config(style="gpt2", vocab_size=0, d_model=64, n_layer=2, n_head=4,
                              n_kv_head=4, d_ff=128, max_positions=1024),
        chat_format="chatml",
        specials=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        seed=6),
    "tiny-llama": dict(
        # Rotary positions have no table to run out of: the context it states is a choice.
        config=decoder.Config(style="llama", vocab_size=0, d_model=64, n_layer=2, n_head=4,
                              n_kv_head=2, d_ff=128, max_positions=4096),
        chat_format="llama3",
        specials=["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                  "<|end_header_id|>", "<|eot_id|>"],
        seed=2),
}

# Not built by default: a bigger Llama-style decoder for `./cairn bench inference`, with a
# real-sized vocabulary (rows beyond the tokenizer's tokens are padding, as in many exports).
BENCH_PACKS = {
    "bench-llama": dict(
        config=decoder.Config(style="llama", vocab_size=0, d_model=256, n_layer=4, n_head=8,
                              n_kv_head=4, d_ff=768, max_positions=2048),
        chat_format="llama3",
        specials=["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                  "<|end_header_id|>", "<|eot_id|>"],
        seed=3, model_vocab=32768),
}

VOCAB_SIZE = 384


def init_weights(model, seed):
    # Larger than usual weights, so random logits have clear winners: tests compare greedy
    # tokens across code paths and must not hinge on float rounding between near ties.
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
                continue
            if "bias" in name:
                p.zero_()
            else:
                std = 1.0 if name == "embed.weight" else 0.3
                p.copy_(torch.randn(p.shape, generator=g) * std)


def check(path, model):
    """Runs ort_check.py on the export against torch's logits; returns its figures."""
    c = model.c
    prompt = torch.arange(5, 17)[None]
    with torch.no_grad():
        ref = model(prompt, torch.ones_like(prompt), torch.arange(prompt.shape[1])[None],
                    *decoder.empty_past(c))[0].numpy()
    with tempfile.TemporaryDirectory() as tmp:
        ref_path = os.path.join(tmp, "reference.npy")
        np.save(ref_path, ref)
        out = subprocess.run([sys.executable, os.path.join(HERE, "ort_check.py"), path, ref_path],
                             capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{path}: the export check failed:\n{out.stderr.strip().splitlines()[-1]}")
    return json.loads(out.stdout)


def build(out_dir, name, spec):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    vocab, merges = bpe.train(CORPUS, VOCAB_SIZE, spec["specials"])
    tok = bpe.tokenizer_json(vocab, merges, spec["specials"])
    bpe.write(os.path.join(d, "tokenizer.json"), tok)
    c = spec["config"]
    c.vocab_size = max(len(tok["model"]["vocab"]), spec.get("model_vocab", 0))
    torch.manual_seed(spec["seed"])
    model = decoder.Decoder(c)
    init_weights(model, spec["seed"])
    model.eval()
    path = os.path.join(d, "model.onnx")
    decoder.export_onnx(model, path)
    figures = check(path, model)
    inputs, outputs = decoder.tensor_specs(c)
    pack.write_manifest(
        d, id=f"cairn-test-{name}", version="1.0.0", task="caption-lm",
        licence={"spdx": "CC0-1.0", "commercial_use": True,
                 "attribution": "Random weights made by Cairn's test recipe"},
        variants=[{"name": "native-fp32", "runtime": "ort-native", "precision": "fp32",
                   "execution_providers": ["cpu"], "file": "model.onnx",
                   "inputs": inputs, "outputs": outputs},
                  {"name": "webgpu-fp32", "runtime": "ort-web", "precision": "fp32",
                   "execution_providers": ["webgpu", "wasm"], "file": "model.onnx",
                   "inputs": inputs, "outputs": outputs}],
        tokenizer_file="tokenizer.json", chat_format=spec["chat_format"],
        context_length=c.max_positions,
        description=f"Tiny {c.style}-style decoder with random weights, for tests only.",
        presets=pack.DEFAULT_PRESETS)
    size = os.path.getsize(path)
    print(f"{name}: {size} bytes, vocab {c.vocab_size}, ort-vs-torch "
          f"{figures['max_abs_err']:.2e}, min greedy gap {figures['min_greedy_gap']:.3f}, "
          f"{figures['distinct']} distinct greedy tokens")


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: tiny_decoders.py OUT_DIR [PACK...]  (default: the test packs; also: "
                 + ", ".join(BENCH_PACKS) + ")")
    torch.set_num_threads(1)
    known = {**PACKS, **BENCH_PACKS}
    names = sys.argv[2:] or list(PACKS)
    for name in names:
        if name not in known:
            sys.exit(f"tiny_decoders.py: unknown pack '{name}' (have: {', '.join(known)})")
        build(sys.argv[1], name, known[name])


if __name__ == "__main__":
    main()
