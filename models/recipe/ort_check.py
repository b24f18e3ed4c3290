"""Checks an exported decoder with ONNX Runtime, in its own process.

  python3 ort_check.py MODEL.onnx REFERENCE.npy

REFERENCE.npy holds torch's logits for the prompt 5..16. The check: ONNX Runtime's logits match
torch's, greedy decoding with the KV cache gives the same tokens as decoding without it, and
the greedy output is not degenerate (the C++ tests rely on all three, with the same prompt).
Prints one JSON line. It runs apart from torch because Debian's onnx and onnxruntime modules
both register ONNX's operator schemas, and loading both in one process floods stderr.
"""
import json
import sys

import numpy as np
import onnxruntime as ort

PROMPT = list(range(5, 17))


def main():
    path, reference = sys.argv[1], sys.argv[2]
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    pasts = [i for i in sess.get_inputs() if i.name.startswith("past_key_values.")]
    kv_heads, head_dim = pasts[0].shape[1], pasts[0].shape[3]
    empty = {i.name: np.zeros((1, kv_heads, 0, head_dim), np.float32) for i in pasts}
    names = [o.name for o in sess.get_outputs()]

    def run(ids, past, past_len):
        feeds = {"input_ids": np.array([ids], np.int64),
                 "attention_mask": np.ones((1, past_len + len(ids)), np.int64),
                 "position_ids": np.arange(past_len, past_len + len(ids), dtype=np.int64)[None]}
        feeds.update(past)
        out = dict(zip(names, sess.run(None, feeds)))
        present = {n.replace("present.", "past_key_values."): v
                   for n, v in out.items() if n.startswith("present.")}
        return out["logits"], present

    logits, _ = run(PROMPT, empty, 0)
    err = float(np.abs(logits - np.load(reference)).max())
    assert err < 1e-3, f"ONNX Runtime and torch logits differ by {err}"

    cached, uncached = list(PROMPT), list(PROMPT)
    logits, past = run(PROMPT, empty, 0)
    min_gap = float("inf")
    for _ in range(24):
        last = logits[0, -1]
        top2 = np.sort(last)[-2:]
        min_gap = min(min_gap, float(top2[1] - top2[0]))
        cached.append(int(last.argmax()))
        logits, past = run([cached[-1]], past, len(cached) - 1)
    for _ in range(24):
        full, _ = run(uncached, empty, 0)
        uncached.append(int(full[0, -1].argmax()))
    assert cached == uncached, f"cached {cached} != uncached {uncached}"
    distinct = len(set(cached[len(PROMPT):]))
    assert distinct > 6, f"greedy decoding of the random model is degenerate: {cached}"
    print(json.dumps({"max_abs_err": err, "min_greedy_gap": min_gap, "distinct": distinct}))


if __name__ == "__main__":
    main()
