"""Trains Cairn's starter caption model and writes its pack (unsigned).

  python3 models/recipe/train_caption.py all WORK OUT [--minutes M] [--size small|base]
  python3 models/recipe/train_caption.py prepare WORK        # corpus, tokenizer, ids
  python3 models/recipe/train_caption.py train WORK --device cuda --size base --minutes 5
  python3 models/recipe/train_caption.py export WORK OUT     # ONNX fp32 + int8, manifest

1. Corpus: N examples from caption_corpus.py (seed 1), minus the evaluation prompts
   (tests/data/caption_eval_prompts.json, seed 999), which the model never sees.
2. Tokenizer: byte-level BPE (bpe.py) trained on the corpus, 2,048 tokens plus ChatML's.
3. Model: Llama-style decoder (decoder.py), rotary positions and grouped-query attention,
   sized by --size (SIZES); trained with AdamW on the answers only (the prompt is context, not target),
   for M minutes of wall time (the CPU default makes a usable model on 2 cores).
4. Export: model.onnx (fp32, Optimum layout, checked by ort_check.py), model-int8.onnx
   (ONNX Runtime's dynamic int8 quantization, for wasm), the manifest with variants
   native-fp32, wasm-int8, webgpu-fp32 and presets.
Deterministic for a device, seed and time budget except for the number of steps the budget
allows; the manifest records steps, loss and corpus.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.modules["onnxruntime"] = None  # see tiny_decoders.py
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import caption_corpus  # noqa: E402
import decoder  # noqa: E402
import pack  # noqa: E402

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
EVAL_PROMPTS = os.path.join(ROOT, "tests/data/caption_eval_prompts.json")


def encode(tokenizer_path, texts):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "texts.json"), os.path.join(tmp, "ids.json")
        with open(src, "w", encoding="utf-8") as f:
            json.dump(texts, f, ensure_ascii=False)
        subprocess.run(["node", os.path.join(HERE, "encode.mjs"), tokenizer_path, src, dst],
                       check=True, cwd=ROOT)
        with open(dst) as f:
            return json.load(f)


def batches(examples, batch, max_len, rng):
    """Yields (ids, targets) with targets -100 on the prompt and padding."""
    order = list(range(len(examples)))
    while True:
        rng.shuffle(order)
        for i in range(0, len(order) - batch + 1, batch):
            chunk = [examples[j] for j in order[i:i + batch]]
            length = min(max_len, max(len(p) + len(a) for p, a in chunk))
            ids = np.zeros((batch, length), np.int64)
            tgt = np.full((batch, length), -100, np.int64)
            for b, (p, a) in enumerate(chunk):
                seq = (p + a)[:length]
                ids[b, :len(seq)] = seq
                # position t predicts token t + 1: targets are the answer tokens
                for t in range(len(p) - 1, len(seq) - 1):
                    tgt[b, t] = seq[t + 1]
            yield torch.from_numpy(ids), torch.from_numpy(tgt)


SIZES = {
    # CPU default: trains to a usable model in about 12 minutes on 2 cores.
    "small": dict(d_model=160, n_layer=4, n_head=4, n_kv_head=2, d_ff=448),
    # For a longer run on a GPU (about 5 million parameters).
    "base": dict(d_model=256, n_layer=6, n_head=8, n_kv_head=4, d_ff=704),
}


def prepare(work, examples, node_modules):
    """Corpus, tokenizer and token ids -> WORK/{tokenizer.json, data.json}."""
    os.makedirs(work, exist_ok=True)
    with open(EVAL_PROMPTS, encoding="utf-8") as f:
        held_out = {(e["task"], e["context"], e["style"]) for e in json.load(f)["prompts"]}
    corpus = caption_corpus.examples(node_modules, 1, examples, exclude=held_out)
    prompts = [caption_corpus.render_prompt(e) for e in corpus]
    answers = [caption_corpus.answer(e["captions"]) + "<|im_end|>" for e in corpus]
    vocab, merges = bpe.train(prompts[:4000] + answers, 2048, SPECIALS)
    tok = bpe.tokenizer_json(vocab, merges, SPECIALS)
    tok_path = os.path.join(work, "tokenizer.json")
    bpe.write(tok_path, tok)
    ids = encode(tok_path, prompts + answers)
    data = {"vocab_size": len(tok["model"]["vocab"]), "examples": len(corpus),
            "pairs": list(zip(ids[:len(prompts)], ids[len(prompts):]))}
    with open(os.path.join(work, "data.json"), "w") as f:
        json.dump(data, f)
    print(f"corpus: {len(corpus)} examples, vocab {data['vocab_size']}, longest "
          f"{max(len(p) + len(a) for p, a in data['pairs'])} tokens", flush=True)


def config(size, vocab_size):
    return decoder.Config(style="llama", vocab_size=vocab_size, max_positions=1024, **SIZES[size])


def train(work, size, minutes, device, batch, lr):
    """Trains on WORK/data.json -> WORK/weights.pt (fp16) and WORK/train.json."""
    with open(os.path.join(work, "data.json")) as f:
        data = json.load(f)
    pairs = data["pairs"]
    c = config(size, data["vocab_size"])
    torch.manual_seed(1)
    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    model = decoder.Decoder(c).to(device)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.95))
    gen = batches(pairs, batch, max(len(p) + len(a) for p, a in pairs), np.random.default_rng(1))
    budget, start, step, ema, warmup = minutes * 60, time.time(), 0, None, 50
    model.train()
    while time.time() - start < budget:
        x, y = (t.to(device) for t in next(gen))
        frac = (time.time() - start) / budget
        cur = lr * min(1.0, (step + 1) / warmup) * (0.1 + 0.45 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = cur
        pos = torch.arange(x.shape[1], device=device)[None].expand_as(x)
        past = [t.to(device) for t in decoder.empty_past(c, x.shape[0])]
        logits = model(x, torch.ones_like(x), pos, *past)[0]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, c.vocab_size), y.reshape(-1),
                                                 ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        step += 1
        if step % 25 == 0:
            print(f"step {step} loss {ema:.3f} lr {cur:.2e} {time.time() - start:.0f}s", flush=True)
    state = {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()}
    torch.save(state, os.path.join(work, "weights.pt"))
    info = {"size": size, "steps": step, "loss": ema, "minutes": minutes, "device": device,
            "parameters": params, "examples": data["examples"], "batch": batch}
    with open(os.path.join(work, "train.json"), "w") as f:
        json.dump(info, f)
    print(f"trained {step} steps in {time.time() - start:.0f}s, loss {ema:.3f}, "
          f"{params} parameters", flush=True)


def export(work, out):
    """WORK/weights.pt -> the pack in OUT: fp32 and int8 models, tokenizer, manifest."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(work, "train.json")) as f:
        info = json.load(f)
    with open(os.path.join(work, "data.json")) as f:
        vocab_size = json.load(f)["vocab_size"]
    c = config(info["size"], vocab_size)
    model = decoder.Decoder(c)
    state = torch.load(os.path.join(work, "weights.pt"))
    model.load_state_dict({k: v.float() for k, v in state.items()})
    model.eval()
    with open(os.path.join(work, "tokenizer.json"), "rb") as src, \
            open(os.path.join(out, "tokenizer.json"), "wb") as dst:
        dst.write(src.read())
    fp32 = os.path.join(out, "model.onnx")
    decoder.export_onnx(model, fp32)
    int8 = os.path.join(out, "model-int8.onnx")
    subprocess.run([sys.executable, os.path.join(HERE, "quantize.py"), fp32, int8], check=True)
    inputs, outputs = decoder.tensor_specs(c)

    def variant(name, runtime, precision, eps, file):
        return {"name": name, "runtime": runtime, "precision": precision,
                "execution_providers": eps, "file": file, "inputs": inputs, "outputs": outputs}

    pack.write_manifest(
        out, id="cairn-caption-starter", version="0.1.0", task="caption-lm",
        licence={"spdx": "Apache-2.0", "commercial_use": True,
                 "attribution": "Cairn starter caption model, trained by Cairn's recipe on a "
                                "generated corpus: emojilib (MIT), WordNet 3.1 (WordNet licence, "
                                "Princeton University), COCO class names, Cairn's phrase banks"},
        variants=[variant("native-fp32", "ort-native", "fp32", ["cpu"], "model.onnx"),
                  variant("wasm-int8", "ort-web", "int8", ["wasm"], "model-int8.onnx"),
                  variant("webgpu-fp32", "ort-web", "fp32", ["webgpu", "wasm"], "model.onnx")],
        tokenizer_file="tokenizer.json", chat_format="chatml", context_length=c.max_positions,
        description=(f"Llama-style decoder ({info['size']}, {info['parameters']} parameters), "
                     f"trained {info['steps']} steps ({info['minutes']:g} min on "
                     f"{info['device']}; final loss {info['loss']:.3f}) on {info['examples']} "
                     f"generated 4-part prompts and JSON answers (models/recipe/caption_corpus.py)."),
        presets={"low": pack.DEFAULT_PRESETS["low"],
                 "preview": {**pack.DEFAULT_PRESETS["preview"], "temperature": 0.6},
                 "final": {**pack.DEFAULT_PRESETS["final"], "temperature": 0.7}})
    print(f"wrote {out}: model.onnx {os.path.getsize(fp32)} bytes, "
          f"model-int8.onnx {os.path.getsize(int8)} bytes", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["prepare", "train", "export", "all"])
    ap.add_argument("work")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--examples", type=int, default=20000)
    ap.add_argument("--size", choices=list(SIZES), default="small")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--node-modules", default=os.path.join(ROOT, "node_modules"))
    a = ap.parse_args()
    if a.phase in ("prepare", "all"):
        prepare(a.work, a.examples, a.node_modules)
    if a.phase in ("train", "all"):
        train(a.work, a.size, a.minutes, a.device, a.batch, a.lr)
    if a.phase in ("export", "all"):
        if not a.out:
            sys.exit("train_caption.py: export needs OUT")
        export(a.work, a.out)


if __name__ == "__main__":
    main()
