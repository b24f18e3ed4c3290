// `cairn-words/1`: the text-to-word rule of Cairn's word-vector embedding packs, and their
// vocabulary file (models/README.md; the recipe's reference is models/recipe/words.py, and
// both must split every text the same way).
//
//   CAIRN_ASSIGN_OR_RETURN(WordVocab vocab, WordVocab::Parse(pack.Text("vocab.txt")));
//   std::vector<int64_t> ids = vocab.Encode("Golden hour at the pier #sunset");
//
// Sans-I/O: callers pass the verified file's text. Thread-safe once built (const methods).
#ifndef CAIRN_CORE_TOKENIZER_WORDS_H_
#define CAIRN_CORE_TOKENIZER_WORDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/base/status.h"

namespace cairn::tokenizer {

inline constexpr char kWordsRule[] = "cairn-words/1";
inline constexpr char kWordsPad[] = "<pad>";

// The words of UTF-8 text, lower-cased, in order: ASCII and Latin-1 capitals lowered; a word is
// a maximal run of a-z, 0-9, U+00DF-U+00FF except U+00F7, U+0100-U+024F; everything else (and
// each byte of invalid UTF-8) separates words.
std::vector<std::string> SplitWords(std::string_view text);

class WordVocab {
 public:
  // vocab.txt: UTF-8 lines ending in '\n'; line 0 is "<pad>" (id 0), then one word per line, id
  // = line number. Fails (kCorruption, naming the line) on a wrong first line, an empty or
  // repeated word.
  static Result<WordVocab> Parse(std::string_view text);

  // The ids of text's words that are in the vocabulary (others are dropped), in text order.
  std::vector<int64_t> Encode(std::string_view text) const;
  // Encode() without stopwords (IsStopword): what Cairn embeds for search and hashtags. A plain
  // mean of GloVe vectors is dominated by function words ("at", "the"), which every text shares;
  // dropping them lets the content words decide. A text whose known words are all stopwords
  // keeps them (a vector from them beats the zero vector).
  std::vector<int64_t> EncodeContent(std::string_view text) const;
  // The word with id `id` (1 .. size() - 1), or "" for the padding id and ids out of range.
  std::string_view Word(int64_t id) const;
  // The id of one word, or -1.
  int64_t Find(std::string_view word) const;
  size_t size() const { return ids_.size() + 1; }  // with the padding entry

 private:
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<std::string> words_;  // by id; words_[0] is "<pad>"
};

// English function words (articles, pronouns, prepositions, conjunctions, auxiliaries, the
// commonest adverbs), lower-case as SplitWords gives them. An explicit list rather than "the N
// most frequent words of the vocabulary": frequency rank also removes content words creators
// use ("new", "time", "day", "world" are in GloVe's top 200), and a list works the same on any
// vocabulary, the test packs' included.
bool IsStopword(std::string_view word);

}  // namespace cairn::tokenizer

#endif  // CAIRN_CORE_TOKENIZER_WORDS_H_
