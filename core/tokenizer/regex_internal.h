// Internals of the regex engine shared by its compiler (regex_compiler.cc) and matcher
// (regex.cc). Not part of the tokenizer's interface.
#ifndef CAIRN_CORE_TOKENIZER_REGEX_INTERNAL_H_
#define CAIRN_CORE_TOKENIZER_REGEX_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/tokenizer/regex.h"
#include "core/tokenizer/unicode.h"

namespace cairn::tokenizer {
namespace regex_internal {

// --- Character sets ---------------------------------------------------------------------------

struct SetItem {
  enum Kind : uint8_t { kRange, kCategories, kWhiteSpace, kWord, kHex } kind;
  bool negate = false;
  char32_t lo = 0, hi = 0;  // kRange
  uint32_t mask = 0;        // kCategories
};

struct CharSet {
  bool negate = false;
  std::vector<SetItem> items;

  bool ItemMatches(const SetItem& item, char32_t c) const {
    bool m = false;
    switch (item.kind) {
      case SetItem::kRange:
        m = c >= item.lo && c <= item.hi;
        break;
      case SetItem::kCategories:
        m = InCategories(c, item.mask);
        break;
      case SetItem::kWhiteSpace:
        m = IsWhiteSpace(c);
        break;
      case SetItem::kWord:
        m = InCategories(c, kMaskLetter | kMaskMark | CategoryBit(Category::kNd) |
                                CategoryBit(Category::kNl) | CategoryBit(Category::kPc));
        break;
      case SetItem::kHex:
        m = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        break;
    }
    return m != item.negate;
  }
  bool Matches(char32_t c) const {
    for (const SetItem& item : items) {
      if (ItemMatches(item, c)) return !negate;
    }
    return negate;
  }
};

inline SetItem Range(char32_t lo, char32_t hi) {
  SetItem item{SetItem::kRange};
  item.lo = lo;
  item.hi = hi;
  return item;
}

// Adds the other ASCII case of any ASCII letters in the set's ranges ((?i:...) folding).
inline void AddAsciiFold(CharSet* set) {
  std::vector<SetItem> extra;
  for (const SetItem& item : set->items) {
    if (item.kind != SetItem::kRange || item.negate) continue;
    for (char32_t c = 'A'; c <= 'Z'; ++c) {
      if (c >= item.lo && c <= item.hi) extra.push_back(Range(c + 32, c + 32));
      if (c + 32 >= item.lo && c + 32 <= item.hi) extra.push_back(Range(c, c));
    }
  }
  set->items.insert(set->items.end(), extra.begin(), extra.end());
}

// --- Program ----------------------------------------------------------------------------------

enum class Op : uint8_t {
  kSet,
  kSplit,
  kJmp,
  kMatch,
  kLook,
  kLineStart,
  kLineEnd,
  kTextStart,
  kTextEnd,
  kTextEndNewline,
  kWordBoundary,
  kNotWordBoundary,
  kMark,
  kProgress,
  kAtTarget
};

struct Inst {
  Op op;
  int x = 0, y = 0;  // kSet: set; kSplit: x preferred, y; kJmp: x; kLook: program, y = flags;
                     // kMark / kProgress: register
};

inline constexpr int kLookNegate = 1, kLookBehind = 2;

}  // namespace regex_internal

struct Regex::Program {
  std::vector<regex_internal::CharSet> sets;
  std::vector<std::vector<regex_internal::Inst>>
      programs;  // [0] is the main program; others are lookarounds
  int registers = 0;
  std::optional<std::string> literal;  // set by Regex::Literal
};

namespace regex_internal {

// Parses and compiles `pattern` (valid UTF-8). Errors are kUnsupported naming the position.
Result<std::shared_ptr<Regex::Program>> CompilePattern(std::string_view pattern);

}  // namespace regex_internal
}  // namespace cairn::tokenizer

#endif  // CAIRN_CORE_TOKENIZER_REGEX_INTERNAL_H_
