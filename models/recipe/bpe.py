"""Byte-level BPE: train merges on a corpus and write a Hugging Face tokenizer.json.

The output uses the GPT-2 layout that Cairn's tokenizer (core/tokenizer) and Hugging Face's
both read: a ByteLevel pre-tokenizer with the GPT-2 split regex, a BPE model whose symbols are
bytes mapped to printable code points, a ByteLevel decoder, and added special tokens.

Training splits words with an approximation of the GPT-2 regex (Python's `re` has no \\p{L});
that only affects which merges are learned, never whether encoding is correct.
"""
import collections
import json
import re


def byte_symbols():
    """The byte -> printable-character table of byte-level BPE (GPT-2's convention)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table = {}
    extra = 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


_SPLIT = re.compile(
    r"""'(?:s|t|re|ve|m|ll|d)| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""", re.UNICODE)


def _words(text):
    return _SPLIT.findall(text)


def train(texts, vocab_size, special_tokens, min_frequency=2):
    """Learns merges until the vocabulary (256 bytes + merges + specials) reaches vocab_size.

    Returns (vocab: dict symbol -> id, merges: list of (a, b)). Deterministic: ties between
    equally frequent pairs go to the lexicographically smallest pair.
    """
    table = byte_symbols()
    counts = collections.Counter()
    for t in texts:
        for w in _words(t):
            counts[w] += 1
    words = []  # [symbols list, frequency]
    for w, n in sorted(counts.items()):
        words.append([[table[b] for b in w.encode("utf-8")], n])

    pair_counts = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indexes of words containing it
    for i, (syms, n) in enumerate(words):
        for a, b in zip(syms, syms[1:]):
            pair_counts[(a, b)] += n
            where[(a, b)].add(i)

    vocab = {}
    for b in range(256):
        vocab[table[b]] = len(vocab)
    merges = []
    target = vocab_size - len(special_tokens)
    while len(vocab) < target and pair_counts:
        best_n = max(pair_counts.values())
        if best_n < min_frequency:
            break
        best = min(p for p, n in pair_counts.items() if n == best_n)
        a, b = best
        merged = a + b
        merges.append(best)
        if merged not in vocab:
            vocab[merged] = len(vocab)
        for i in sorted(where.pop(best, ())):
            syms, n = words[i]
            # Remove this word's old pairs, merge, add its new pairs.
            for p in zip(syms, syms[1:]):
                pair_counts[p] -= n
                if pair_counts[p] <= 0:
                    del pair_counts[p]
            out = []
            j = 0
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == a and syms[j + 1] == b:
                    out.append(merged)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            words[i][0] = out
            for p in zip(out, out[1:]):
                pair_counts[p] += n
                where[p].add(i)
        pair_counts.pop(best, None)
    return vocab, merges


def tokenizer_json(vocab, merges, special_tokens):
    """The tokenizer.json document; special tokens get the ids after the BPE vocabulary."""
    vocab = dict(vocab)
    added = []
    for tok in special_tokens:
        vocab[tok] = len(vocab)
        added.append({"id": vocab[tok], "content": tok, "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True})
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": None,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }


def write(path, doc):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
