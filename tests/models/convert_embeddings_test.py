"""Tests of the word-vector converter (models/recipe/convert_embeddings.py) and the
cairn-words/1 rule (words.py), on a tiny synthetic vector file in the npm package's format: no
real package needed.

  python3 tests/models/convert_embeddings_test.py
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models", "recipe"))
import convert_embeddings as ce  # noqa: E402
import words  # noqa: E402

DIMS = 8
# In "frequency" order, with entries the rule never produces (punctuation, hyphenated, "n't").
SOURCE_WORDS = ["the", ",", "sun", ".", "set", "e-mail", "beach", "café", "n't", "dog", "<pad>",
                "pier", "sky", "wave", "2024", "coffee", "photo", "night", "city", "rain",
                "mountain", "trail", "food", "lemon"]


def write_source(path, word_list=SOURCE_WORDS, dims=DIMS, seed=1, mutate=None):
    rng = np.random.default_rng(seed)
    vectors = {}
    for i, w in enumerate(word_list):
        v = rng.normal(size=dims) * rng.uniform(0.5, 4)
        vectors[w] = [round(float(x), 6) for x in v] + [float(np.linalg.norm(v)), i]
    src = {"precision": 6, "l2NormIndex": dims, "wordIndex": dims + 1, "size": len(word_list),
           "dimensions": dims, "words": word_list, "vectors": vectors,
           "unkVector": [0] * (dims + 2)}
    if mutate:
        mutate(src)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(src, f)
    return src


class WordsRule(unittest.TestCase):
    def test_split(self):
        self.assertEqual(words.split("Golden HOUR at the Pier, 2024!"),
                         ["golden", "hour", "at", "the", "pier", "2024"])
        self.assertEqual(words.split("#Sunset🌅at the beach—don't"),
                         ["sunset", "at", "the", "beach", "don", "t"])
        # Only ASCII and Latin-1 capitals are lowered; U+0178 (Latin Extended-A) stays.
        self.assertEqual(words.split("CAFÉ Crème × Ÿ"), ["café", "crème", "Ÿ"])
        self.assertEqual(words.split(b"caf\xc3\xa9\xffbar"), ["café", "bar"])  # invalid byte
        self.assertEqual(words.split(""), [])

    def test_vocab_file_checks(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "vocab.txt")
            with open(p, "w") as f:
                f.write("the\nsun\n")
            with self.assertRaisesRegex(ValueError, "line 0"):
                words.load_vocab(p)
            with open(p, "w") as f:
                f.write("<pad>\nsun\nsun\n")
            with self.assertRaisesRegex(ValueError, "'sun' appears twice"):
                words.load_vocab(p)


class Converter(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.tmp.name, "vectors.json")
        self.out = os.path.join(self.tmp.name, "pack")

    def tearDown(self):
        self.tmp.cleanup()

    def test_converts_and_matches_the_source(self):
        source = write_source(self.src)
        dims, vectors, n = ce.convert(self.src, self.out, 12)
        self.assertEqual((dims, n), (DIMS, 12))
        vocab = words.load_vocab(os.path.join(self.out, "vocab.txt"))
        # The first 12 usable words in source order: punctuation, "e-mail", "n't" and "<pad>"
        # are skipped; ids follow the order.
        self.assertEqual(sorted(vocab, key=vocab.get),
                         ["the", "sun", "set", "beach", "café", "dog", "pier", "sky", "wave",
                          "2024", "coffee", "photo"])
        result = ce.check(self.out, source["vectors"], dims, 60)
        self.assertLess(result["fp32_max_abs_diff"], 1e-6)
        self.assertGreater(result["int8_min_cosine"], 0.99)
        self.assertLess(result["int8_min_cosine"], 1.0)  # int8 is lossy, and measured so

    def test_padding_unknown_words_and_batches(self):
        write_source(self.src)
        ce.convert(self.src, self.out, 12)
        vocab = words.load_vocab(os.path.join(self.out, "vocab.txt"))
        path = os.path.join(self.out, "embedding-fp32.onnx")
        one = ce.run_model(path, ["Sun set over the pier"], vocab)
        # Padded in a batch next to a longer text, the output is the same.
        many = ce.run_model(path, ["Sun set over the pier", "dog " * 30, "qqq zzz"], vocab)
        np.testing.assert_allclose(one[0], many[0], atol=1e-6)
        self.assertAlmostEqual(float(np.linalg.norm(many[1])), 1.0, places=5)
        np.testing.assert_array_equal(many[2], np.zeros(DIMS))  # no known word: zero vector

    def test_a_wrong_row_is_caught(self):
        # The check must be able to fail: swap two rows of the fp32 table (the layout a wrong
        # vocabulary order would give) and the comparison with the source must catch it.
        import onnx
        from onnx import numpy_helper
        source = write_source(self.src)
        ce.convert(self.src, self.out, 12)
        path = os.path.join(self.out, "embedding-fp32.onnx")
        model = onnx.load(path)
        for init in model.graph.initializer:
            if init.name == "table":
                t = numpy_helper.to_array(init).copy()
                t[[2, 3]] = t[[3, 2]]
                init.CopyFrom(numpy_helper.from_array(t, "table"))
        onnx.save(model, path)
        with self.assertRaisesRegex(AssertionError, "embedding-fp32.onnx differs"):
            ce.check(self.out, source["vectors"], DIMS, 60)

    def test_bad_sources_are_named(self):
        write_source(self.src, mutate=lambda s: s.pop("vectors"))
        with self.assertRaisesRegex(ce.SourceError, "no 'vectors' field"):
            ce.convert(self.src, self.out, 12)
        write_source(self.src, mutate=lambda s: s["vectors"]["sun"].__setitem__(DIMS + 1, 7))
        with self.assertRaisesRegex(ce.SourceError, "'sun' is word 2 but its vector says"):
            ce.convert(self.src, self.out, 12)
        write_source(self.src, mutate=lambda s: s["vectors"].update(sun=[1.0, 2.0]))
        with self.assertRaisesRegex(ce.SourceError, "the vector of 'sun' has 2 values, not 8"):
            ce.convert(self.src, self.out, 12)
        with self.assertRaisesRegex(ce.SourceError, "cannot read"):
            ce.convert(os.path.join(self.tmp.name, "missing.json"), self.out, 12)


if __name__ == "__main__":
    unittest.main(verbosity=2)
