#include "core/tokenizer/words.h"

#include <algorithm>
#include <iterator>

namespace cairn::tokenizer {
namespace {

char32_t Lower(char32_t cp) {
  if ((cp >= 0x41 && cp <= 0x5A) || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)) return cp + 0x20;
  return cp;
}

bool IsWordChar(char32_t cp) {
  return (cp >= 0x61 && cp <= 0x7A) || (cp >= 0x30 && cp <= 0x39) ||
         (cp >= 0xDF && cp <= 0xFF && cp != 0xF7) || (cp >= 0x100 && cp <= 0x24F);
}

// Decodes one code point at text[pos]; returns its length, or 0 for an invalid sequence (the
// caller skips one byte: a separator, like U+FFFD in the Python reference).
size_t Decode(std::string_view text, size_t pos, char32_t* cp) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const size_t left = text.size() - pos;
  const unsigned char c = b(0);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n = 0;
  char32_t v = 0, min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    v = c & 0x1F;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    v = c & 0x0F;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    v = c & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (left < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(i) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

void Append(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else {  // word characters are below U+0800: two bytes
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    size_t n = Decode(text, pos, &cp);
    if (n == 0) {
      n = 1;
      cp = 0xFFFD;
    }
    pos += n;
    cp = Lower(cp);
    if (IsWordChar(cp)) {
      Append(&cur, cp);
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

Result<WordVocab> WordVocab::Parse(std::string_view text) {
  WordVocab v;
  int64_t line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    pos = end + 1;
    if (line == 0) {
      if (word != kWordsPad) {
        return Status(StatusCode::kCorruption,
                      std::string("word vocabulary: line 0 must be '") + kWordsPad + "'");
      }
      v.words_.emplace_back(word);
    } else if (word.empty()) {
      return Status(StatusCode::kCorruption,
                    "word vocabulary: line " + std::to_string(line) + " is empty");
    } else if (v.ids_.emplace(std::string(word), line).second) {
      v.words_.emplace_back(word);
      ++line;
      continue;
    } else {
      return Status(StatusCode::kCorruption, "word vocabulary: '" + std::string(word) +
                                                 "' appears twice (line " + std::to_string(line) +
                                                 ")");
    }
    ++line;
  }
  if (line == 0) return Status(StatusCode::kCorruption, "word vocabulary: the file is empty");
  return v;
}

int64_t WordVocab::Find(std::string_view word) const {
  auto it = ids_.find(std::string(word));
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int64_t> WordVocab::Encode(std::string_view text) const {
  std::vector<int64_t> ids;
  for (const std::string& w : SplitWords(text)) {
    const int64_t id = Find(w);
    if (id > 0) ids.push_back(id);
  }
  return ids;
}

std::vector<int64_t> WordVocab::EncodeContent(std::string_view text) const {
  std::vector<int64_t> all, content;
  for (const std::string& w : SplitWords(text)) {
    const int64_t id = Find(w);
    if (id <= 0) continue;
    all.push_back(id);
    if (!IsStopword(w)) content.push_back(id);
  }
  return content.empty() ? all : content;
}

std::string_view WordVocab::Word(int64_t id) const {
  if (id <= 0 || static_cast<size_t>(id) >= words_.size()) return {};
  return words_[static_cast<size_t>(id)];
}

bool IsStopword(std::string_view word) {
  // Sorted, for binary search.
  static constexpr std::string_view kStopwords[] = {
      "a",       "about",  "above",   "after",  "again",   "against", "all",     "also",
      "am",      "an",     "and",     "any",    "are",     "as",      "at",      "be",
      "because", "been",   "before",  "being",  "below",   "between", "both",    "but",
      "by",      "can",    "could",   "d",      "did",     "do",      "does",    "doing",
      "down",    "during", "each",    "even",   "few",     "for",     "from",    "further",
      "had",     "has",    "have",    "having", "he",      "her",     "here",    "hers",
      "herself", "him",    "himself", "his",    "how",     "i",       "if",      "in",
      "into",    "is",     "it",      "its",    "itself",  "just",    "ll",      "m",
      "may",     "me",     "might",   "more",   "most",    "much",    "must",    "my",
      "myself",  "no",     "nor",     "not",    "now",     "of",      "off",     "on",
      "once",    "only",   "or",      "other",  "our",     "ours",    "ourselves", "out",
      "over",    "own",    "re",      "s",      "said",    "same",    "shall",   "she",
      "should",  "so",     "some",    "such",   "t",       "than",    "that",    "the",
      "their",   "theirs", "them",    "themselves", "then", "there",  "these",   "they",
      "this",    "those",  "through", "to",     "too",     "under",   "until",   "up",
      "upon",    "us",     "ve",      "very",   "was",     "we",      "were",    "what",
      "when",    "where",  "which",   "while",  "who",     "whom",    "why",     "will",
      "with",    "would",  "you",     "your",   "yours",   "yourself", "yourselves",
  };
  return std::binary_search(std::begin(kStopwords), std::end(kStopwords), word);
}

}  // namespace cairn::tokenizer
