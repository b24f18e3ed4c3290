"""The test pack `tiny-embed` (an embedding pack with a word vocabulary, 8-d random vectors) and
what the C++ side must compute from it, for the native tests.

  python3 tiny_embeddings.py OUT_DIR

Writes OUT_DIR/tiny-embed (unsigned; tests sign a copy) and OUT_DIR/tiny-embed-expected.json:
for each text, the ids cairn-words/1 gives (words.py, the reference) and the embedding the
numpy reference computes from the source's float vectors (convert_embeddings.reference).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_embeddings as ce  # noqa: E402
import words  # noqa: E402

DIMS = 8
# In "frequency" order, with entries the rule never produces (skipped by the vocabulary).
SOURCE_WORDS = ["the", ",", "sun", ".", "set", "e-mail", "beach", "café", "crème", "n't", "dog",
                "pier", "sky", "wave", "2024", "coffee", "straße", "ñandú", "ÿ", "łódź",
                "photo", "night", "city", "rain", "golden", "hour"]
TEXTS = [
    "Golden hour at the PIER, 2024!",
    "#Sunset🌅at the beach—don't",
    "CAFÉ CRÈME and a dog",
    "ÑANDÚ STRASSE Straße ŁÓDŹ łódź Ÿ",
    "coffee,coffee;COFFEE",
    "night city rain sky wave photo sun set the",
    "nothing here is known",
    "",
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(2026)
    vectors = {}
    for i, w in enumerate(SOURCE_WORDS):
        v = rng.normal(size=DIMS) * rng.uniform(0.5, 3)
        vectors[w] = [round(float(x), 6) for x in v] + [float(np.linalg.norm(v)), i]
    source = os.path.join(out, "tiny-embed-source.json")
    with open(source, "w", encoding="utf-8") as f:
        json.dump({"precision": 6, "l2NormIndex": DIMS, "wordIndex": DIMS + 1,
                   "size": len(SOURCE_WORDS), "dimensions": DIMS, "words": SOURCE_WORDS,
                   "vectors": vectors, "unkVector": [0] * (DIMS + 2)}, f, ensure_ascii=False)
    pack_dir = os.path.join(out, "tiny-embed")
    dims, vecs, n = ce.convert(source, pack_dir, 1000)
    result = ce.check(pack_dir, vecs, dims, 40)
    result.update({"words": n, "dimensions": dims})
    ce.write_pack_manifest(pack_dir, "a synthetic vector file (tiny_embeddings.py)", result)
    path = os.path.join(pack_dir, "manifest.json")
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    manifest.update(id="cairn-test-tiny-embed", description="Test pack: random 8-d vectors.",
                    licence={"spdx": "CC0-1.0", "commercial_use": True,
                             "attribution": "random test vectors"})
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    vocab = words.load_vocab(os.path.join(pack_dir, "vocab.txt"))
    ref = ce.reference(TEXTS, vocab, vecs, dims)
    expected = [{"text": t, "words": words.split(t), "ids": words.encode(t, vocab),
                 "embedding": [float(x) for x in ref[i]]} for i, t in enumerate(TEXTS)]
    with open(os.path.join(out, "tiny-embed-expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
    print(f"tiny-embed: {n} words, fp32 diff {result['fp32_max_abs_diff']:.2g}")


if __name__ == "__main__":
    main()
