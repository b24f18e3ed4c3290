"""`cairn-words/1`: the text-to-word rule of Cairn's word-vector embedding packs.

The rule is small on purpose so that C++, TypeScript and this recipe implement it identically
(models/README.md states it; this file is the reference):

1. Decode UTF-8; an invalid byte is a separator.
2. Lower-case A-Z, and U+00C0-U+00DE except U+00D7 (Latin-1 capitals: add 0x20). Nothing else
   changes case.
3. Word characters: a-z, 0-9, U+00DF-U+00FF except U+00F7, and U+0100-U+024F (Latin letters
   with diacritics). Every other character (space, punctuation, apostrophes, hyphens, '#', '@',
   emoji, other scripts) separates words. A word is a maximal run of word characters.
4. A word's id is its line number (0-based) in the pack's vocab.txt; line 0 is `<pad>`, id 0,
   the padding id. Words not in vocab.txt are dropped.
"""

VOCAB_PAD = "<pad>"


def lower(cp):
    if 0x41 <= cp <= 0x5A or (0xC0 <= cp <= 0xDE and cp != 0xD7):
        return cp + 0x20
    return cp


def is_word_char(cp):
    return (0x61 <= cp <= 0x7A or 0x30 <= cp <= 0x39 or (0xDF <= cp <= 0xFF and cp != 0xF7)
            or 0x100 <= cp <= 0x24F)


def split(text):
    """The words of text (str or UTF-8 bytes), lower-cased, in order."""
    if isinstance(text, bytes):
        # Invalid bytes decode to U+FFFD, which is not a word character: a separator.
        text = text.decode("utf-8", errors="replace")
    words, cur = [], []
    for ch in text:
        cp = lower(ord(ch))
        if is_word_char(cp):
            cur.append(chr(cp))
        elif cur:
            words.append("".join(cur))
            cur = []
    if cur:
        words.append("".join(cur))
    return words


def load_vocab(path):
    """vocab.txt → {word: id}; checks line 0 is the padding entry and words are unique."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != VOCAB_PAD:
        raise ValueError(f"{path}: line 0 must be {VOCAB_PAD!r}")
    ids = {}
    for i, w in enumerate(lines[1:], start=1):
        if w in ids:
            raise ValueError(f"{path}: word {w!r} appears twice (lines {ids[w]} and {i})")
        ids[w] = i
    return ids


def encode(text, vocab):
    """The ids of text's words that are in vocab (words not in it are dropped)."""
    return [vocab[w] for w in split(text) if w in vocab]
