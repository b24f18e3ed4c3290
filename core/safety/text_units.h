// Text → units: one unit per visible character, folded to what the matcher compares, with the
// byte span it came from and how it was disguised. Internal to cairn_safety.
//
// Folding: ASCII case; Latin-1 and Latin Extended-A letters to their base letter (kDiacritics);
// combining marks join the unit before them (kDiacritics); Cyrillic/Greek look-alikes to Latin
// (kLookAlike); fullwidth, mathematical alphanumeric, circled and squared letters to ASCII
// (kStyled). Invisible characters (zero-width, joiners, bidi controls, variation selectors, soft
// hyphen, tags) make no unit; the unit after one is marked so a match across it gets kInvisible.
// A run of three or more equal units becomes two, the second spanning the rest (kRepeated).
#ifndef CAIRN_CORE_SAFETY_TEXT_UNITS_H_
#define CAIRN_CORE_SAFETY_TEXT_UNITS_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace cairn::safety::internal {

enum class UnitKind : uint8_t {
  kLetter,       // lit is 'a'..'z'
  kDigit,        // lit is '0'..'9'; alt holds its leet readings
  kSymbol,       // @ $ ! | + and look-alikes: no lit, only leet readings
  kSpace,        // whitespace: separates words
  kPunct,        // . - _ ~ , / \ : ; = ^ and dashes: may split a word
  kMask,         // '*': may stand for one letter
  kOtherLetter,  // a letter of another script: part of a word, never matched
  kBreak,        // anything else (emoji, CJK, other punctuation): a word boundary
};

// Unit flags beyond the public Evasion bits (which the header's enum owns, bits 0..15).
inline constexpr uint32_t kAfterInvisible = 1u << 16;  // an invisible character came just before
inline constexpr uint32_t kLatin = 1u << 17;  // a Latin-script letter (plain, accented or styled)

struct Unit {
  uint32_t begin = 0;  // byte span in the original text
  uint32_t end = 0;
  UnitKind kind = UnitKind::kBreak;
  char lit = 0;                  // the folded letter or digit; for kPunct the ASCII mark
  char alt[2] = {0, 0};          // leet readings, or 0
  bool alt_ambiguous = false;    // the readings are a guess ('1': i or l)
  uint32_t flags = 0;            // Evasion bits and the flags above
};

inline bool IsWordChar(const Unit& u) {
  return u.kind == UnitKind::kLetter || u.kind == UnitKind::kDigit ||
         u.kind == UnitKind::kOtherLetter;
}
inline bool IsSeparator(const Unit& u) {
  return u.kind == UnitKind::kSpace || u.kind == UnitKind::kPunct;
}

// Replaces *out with the units of `utf8`. Invalid UTF-8 is kInvalidArgument naming the byte.
Status SplitIntoUnits(std::string_view utf8, std::vector<Unit>* out);

}  // namespace cairn::safety::internal

#endif  // CAIRN_CORE_SAFETY_TEXT_UNITS_H_
