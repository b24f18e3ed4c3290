// Unicode support for the tokenizer: UTF-8, general categories, white space, canonical
// normalization (NFC/NFD) and lowercasing, over the generated tables in unicode_tables.cc
// (python3 unicodedata; the version is UnicodeVersion()).
//
// Everything here is pure and thread-safe. Functions taking `std::string_view` text expect valid
// UTF-8 (check with ValidateUtf8 first) unless they say otherwise.
#ifndef CAIRN_CORE_TOKENIZER_UNICODE_H_
#define CAIRN_CORE_TOKENIZER_UNICODE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace cairn::tokenizer {

// General categories, in the generated table's order.
enum class Category : uint8_t {
  kCn,
  kLu,
  kLl,
  kLt,
  kLm,
  kLo,
  kMn,
  kMc,
  kMe,
  kNd,
  kNl,
  kNo,
  kPc,
  kPd,
  kPs,
  kPe,
  kPi,
  kPf,
  kPo,
  kSm,
  kSc,
  kSk,
  kSo,
  kZs,
  kZl,
  kZp,
  kCc,
  kCf,
  kCs,
  kCo,
};

constexpr uint32_t CategoryBit(Category c) { return 1u << static_cast<uint32_t>(c); }
// Masks for the one-letter groups (\p{L}, \p{N}, ...).
constexpr uint32_t kMaskLetter = CategoryBit(Category::kLu) | CategoryBit(Category::kLl) |
                                 CategoryBit(Category::kLt) | CategoryBit(Category::kLm) |
                                 CategoryBit(Category::kLo);
constexpr uint32_t kMaskMark =
    CategoryBit(Category::kMn) | CategoryBit(Category::kMc) | CategoryBit(Category::kMe);
constexpr uint32_t kMaskNumber =
    CategoryBit(Category::kNd) | CategoryBit(Category::kNl) | CategoryBit(Category::kNo);
constexpr uint32_t kMaskPunctuation = CategoryBit(Category::kPc) | CategoryBit(Category::kPd) |
                                      CategoryBit(Category::kPs) | CategoryBit(Category::kPe) |
                                      CategoryBit(Category::kPi) | CategoryBit(Category::kPf) |
                                      CategoryBit(Category::kPo);
constexpr uint32_t kMaskSymbol = CategoryBit(Category::kSm) | CategoryBit(Category::kSc) |
                                 CategoryBit(Category::kSk) | CategoryBit(Category::kSo);
constexpr uint32_t kMaskSeparator =
    CategoryBit(Category::kZs) | CategoryBit(Category::kZl) | CategoryBit(Category::kZp);
constexpr uint32_t kMaskOther = CategoryBit(Category::kCn) | CategoryBit(Category::kCc) |
                                CategoryBit(Category::kCf) | CategoryBit(Category::kCs) |
                                CategoryBit(Category::kCo);

// "15.1.0": the Unicode version the tables were generated from.
const char* UnicodeVersion();

Category GetCategory(char32_t cp);
inline bool InCategories(char32_t cp, uint32_t mask) {
  return (CategoryBit(GetCategory(cp)) & mask) != 0;
}

// The mask for a general category or group by short or long name ("L", "Letter", "Nd",
// "Decimal_Number", ...; "Alphabetic" is approximated as L + Nl), or nullopt.
std::optional<uint32_t> CategoryMaskByName(std::string_view name);

// The Unicode White_Space property (what \s means in tokenizer.json regexes).
bool IsWhiteSpace(char32_t cp);
// ECMAScript's WhiteSpace + LineTerminator (String.prototype.trim), which the reference
// implementation uses for added-token lstrip/rstrip and the Strip normalizer.
bool IsJsWhitespace(char32_t cp);

// --- UTF-8 ---------------------------------------------------------------------------------

// OK, or kInvalidArgument naming the byte offset of the first byte that is not valid UTF-8
// (overlongs, surrogates and code points past U+10FFFF are invalid).
Status ValidateUtf8(std::string_view text);
// Decodes the code point at `pos` of valid UTF-8 into *cp; returns its length in bytes.
size_t DecodeUtf8(std::string_view text, size_t pos, char32_t* cp);
void AppendUtf8(std::string* out, char32_t cp);
std::u32string ToCodePoints(std::string_view text);
std::string FromCodePoints(std::u32string_view cps);
// Bytes to text the way the WHATWG TextDecoder does (and Rust's from_utf8_lossy): each maximal
// invalid subpart becomes U+FFFD. Accepts any bytes.
std::string Utf8Lossy(std::string_view bytes);
// The length of the longest prefix of `bytes` that does not end inside an incomplete (but so far
// valid) UTF-8 sequence; bytes that can never become valid count as complete.
size_t CompleteUtf8Prefix(std::string_view bytes);

// --- Normalization and case ----------------------------------------------------------------

std::string ToNfd(std::string_view text);
std::string ToNfc(std::string_view text);
uint8_t CombiningClass(char32_t cp);
// Full lowercase mapping as JavaScript's toLowerCase does it (U+0130 becomes "i̇", final sigma
// becomes ς when it ends a word).
std::string ToLower(std::string_view text);

}  // namespace cairn::tokenizer

#endif  // CAIRN_CORE_TOKENIZER_UNICODE_H_
