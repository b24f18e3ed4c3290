"""The test pack `tiny-embed` (an embedding pack with a word vocabulary, 8-d random vectors) and
what the C++ side must compute from it, for the native tests; and `tiny-topics`, an 8-d pack
whose vectors are placed by hand in topics (sea, evening light, city, office paperwork, pets),
with function words ("at", "the") long and alike as GloVe's are, for the search and hashtag
tests (native and in the browser).

  python3 tiny_embeddings.py OUT_DIR

Writes OUT_DIR/tiny-embed and OUT_DIR/tiny-topics (unsigned; tests sign a copy) and
OUT_DIR/tiny-embed-expected.json:
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


# tiny-topics: axis 0 sea, 1 evening light, 2 city, 3 office paperwork, 4 pets, 5-6 what
# function words share (long vectors, as in GloVe, so a plain mean is dominated by them), 7 noise.
TOPIC_AXES = {
    "beach": [3, .4, 0, 0, 0, 0, 0, .3], "ocean": [3, .1, 0, 0, 0, 0, 0, -.2],
    "waves": [2.8, .3, 0, 0, 0, 0, 0, .1], "sea": [3, .2, 0, 0, 0, 0, 0, 0],
    "surf": [2.5, 0, 0, 0, 0, 0, 0, .4], "sand": [2.6, .2, 0, 0, .2, 0, 0, -.3],
    "sunset": [1, 2.6, 0, 0, 0, 0, 0, .1], "dusk": [.6, 2.7, .2, 0, 0, 0, 0, 0],
    "golden": [.3, 2.2, 0, .3, 0, 0, 0, .2], "sky": [.8, 2, .3, 0, 0, 0, 0, -.1],
    "city": [0, .3, 3, .3, 0, 0, 0, 0], "night": [0, 1, 2.6, 0, 0, 0, 0, .2],
    "rain": [.4, .2, 2.4, 0, 0, 0, 0, -.2], "street": [0, 0, 2.8, .2, .1, 0, 0, 0],
    "coffee": [0, .2, 2, .8, 0, 0, 0, .3], "quarterly": [0, 0, .2, 3, 0, 0, 0, 0],
    "tax": [0, 0, 0, 3, 0, 0, 0, .2], "filing": [0, 0, .1, 2.8, 0, 0, 0, -.1],
    "office": [0, 0, .6, 2.6, 0, 0, 0, 0], "invoice": [0, 0, 0, 2.9, 0, 0, 0, .3],
    "dog": [.2, 0, 0, 0, 3, 0, 0, 0], "puppy": [0, 0, 0, 0, 3, 0, 0, .3],
    "cat": [0, 0, .2, 0, 2.8, 0, 0, -.2],
}
TOPIC_STOPWORDS = ["the", "at", "a", "of", "for", "and", "in", "on", "with", "was"]


def write_source(path, words_in_order, vectors):
    data = {}
    for i, w in enumerate(words_in_order):
        v = np.asarray(vectors[w], dtype=np.float64)
        data[w] = [round(float(x), 6) for x in v] + [float(np.linalg.norm(v)), i]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"precision": 6, "l2NormIndex": DIMS, "wordIndex": DIMS + 1,
                   "size": len(words_in_order), "dimensions": DIMS, "words": words_in_order,
                   "vectors": data, "unkVector": [0] * (DIMS + 2)}, f, ensure_ascii=False)


def build_pack(out, name, source, pack_id, description, attribution):
    pack_dir = os.path.join(out, name)
    dims, vecs, n = ce.convert(source, pack_dir, 1000)
    result = ce.check(pack_dir, vecs, dims, 40)
    result.update({"words": n, "dimensions": dims})
    ce.write_pack_manifest(pack_dir, "a synthetic vector file (tiny_embeddings.py)", result)
    path = os.path.join(pack_dir, "manifest.json")
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    manifest.update(id=pack_id, description=description,
                    licence={"spdx": "CC0-1.0", "commercial_use": True,
                             "attribution": attribution})
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return pack_dir, dims, vecs, n


def topics(out):
    rng = np.random.default_rng(7)
    vectors = {}
    for w in TOPIC_STOPWORDS:  # function words first: the most frequent, as in GloVe
        vectors[w] = [0, 0, 0, 0, 0, 4.0, 4.0, float(rng.normal(scale=.3))]
    vectors.update(TOPIC_AXES)
    order = TOPIC_STOPWORDS + list(TOPIC_AXES)
    source = os.path.join(out, "tiny-topics-source.json")
    write_source(source, order, vectors)
    _, _, _, n = build_pack(out, "tiny-topics", source, "cairn-test-tiny-topics",
                            "Test pack: hand-placed 8-d topic vectors.", "hand-made test vectors")
    print(f"tiny-topics: {n} words")


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
    topics(out)


if __name__ == "__main__":
    main()
