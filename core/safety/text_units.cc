#include "core/safety/text_units.h"

#include <algorithm>
#include <string>

#include "core/base/utf8.h"
#include "core/safety/text_safety_filter.h"

namespace cairn::safety::internal {
namespace {

// U+00C0..U+00FF: base letter, '?' for a letter with none (æ, þ), '#' for a non-letter (× ÷).
constexpr std::string_view kLatin1 =
    "aaaaaa?ceeeeiiii"
    "dnooooo#ouuuuy?s"
    "aaaaaa?ceeeeiiii"
    "dnooooo#ouuuuy?y";
// U+0100..U+017F, same convention.
constexpr std::string_view kLatinExtA =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii??jjkkkllllllllllnnnnnnnnn"
    "oooooo??rrrrrrsssssssstttttt"
    "uuuuuuuuuuuuwwyyyzzzzzzs";
static_assert(kLatin1.size() == 64 && kLatinExtA.size() == 128);

struct Confusable {
  char32_t cp;
  char to;
};
// Cyrillic and Greek letters that render like Latin ones (after case folding), sorted by cp.
constexpr Confusable kConfusables[] = {
    {0x0391, 'a'}, {0x0392, 'b'}, {0x0395, 'e'}, {0x0396, 'z'}, {0x0397, 'h'}, {0x0399, 'i'},
    {0x039A, 'k'}, {0x039C, 'm'}, {0x039D, 'n'}, {0x039F, 'o'}, {0x03A1, 'p'}, {0x03A4, 't'},
    {0x03A5, 'y'}, {0x03A7, 'x'}, {0x03AC, 'a'}, {0x03AD, 'e'}, {0x03AF, 'i'}, {0x03B1, 'a'},
    {0x03B2, 'b'}, {0x03B3, 'y'}, {0x03B5, 'e'}, {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'},
    {0x03BF, 'o'}, {0x03C1, 'p'}, {0x03C4, 't'}, {0x03C5, 'u'}, {0x03C7, 'x'}, {0x03CC, 'o'},
    {0x03CD, 'u'}, {0x0405, 's'}, {0x0406, 'i'}, {0x0407, 'i'}, {0x0408, 'j'}, {0x0410, 'a'},
    {0x0412, 'b'}, {0x0415, 'e'}, {0x041A, 'k'}, {0x041C, 'm'}, {0x041D, 'h'}, {0x041E, 'o'},
    {0x0420, 'p'}, {0x0421, 'c'}, {0x0422, 't'}, {0x0423, 'y'}, {0x0425, 'x'}, {0x0430, 'a'},
    {0x0435, 'e'}, {0x043A, 'k'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'}, {0x0443, 'y'},
    {0x0445, 'x'}, {0x0451, 'e'}, {0x0455, 's'}, {0x0456, 'i'}, {0x0457, 'i'}, {0x0458, 'j'},
    {0x04AE, 'y'}, {0x04AF, 'y'}, {0x04BB, 'h'}, {0x04C0, 'l'}, {0x04CF, 'l'}, {0x0501, 'd'},
    {0x051A, 'q'}, {0x051B, 'q'}, {0x051C, 'w'}, {0x051D, 'w'},
};

bool IsInvisible(char32_t c) {
  return c == 0x00AD || c == 0x034F || c == 0x061C || c == 0x115F || c == 0x1160 ||
         c == 0x17B4 || c == 0x17B5 || (c >= 0x180B && c <= 0x180F) ||
         (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2060 && c <= 0x206F) || c == 0x3164 || (c >= 0xFE00 && c <= 0xFE0F) ||
         c == 0xFEFF || c == 0xFFA0 || (c >= 0x1D173 && c <= 0x1D17A) ||
         (c >= 0xE0000 && c <= 0xE0FFF);
}

bool IsCombiningMark(char32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
         (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
         (c >= 0xFE20 && c <= 0xFE2F);
}

bool IsUnicodeSpace(char32_t c) {
  return c == 0x00A0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

void SetLeet(Unit* u, char a, char b, bool ambiguous) {
  u->alt[0] = a;
  u->alt[1] = b;
  u->alt_ambiguous = ambiguous;
}

// Classifies an ASCII character (also reached from fullwidth forms).
void ClassifyAscii(char c, Unit* u) {
  if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (c >= 'a' && c <= 'z') {
    u->kind = UnitKind::kLetter;
    u->lit = c;
    u->flags |= kLatin;
    return;
  }
  if (c >= '0' && c <= '9') {
    u->kind = UnitKind::kDigit;
    u->lit = c;
    switch (c) {
      case '0': SetLeet(u, 'o', 0, false); break;
      case '1': SetLeet(u, 'i', 'l', true); break;
      case '3': SetLeet(u, 'e', 0, false); break;
      case '4': SetLeet(u, 'a', 0, false); break;
      case '5': SetLeet(u, 's', 0, false); break;
      case '7': SetLeet(u, 't', 0, false); break;
      default: break;
    }
    return;
  }
  switch (c) {
    case '@': u->kind = UnitKind::kSymbol; SetLeet(u, 'a', 0, false); return;
    case '$': u->kind = UnitKind::kSymbol; SetLeet(u, 's', 0, false); return;
    case '+': u->kind = UnitKind::kSymbol; SetLeet(u, 't', 0, false); return;
    case '!': u->kind = UnitKind::kSymbol; SetLeet(u, 'i', 0, true); return;
    case '|': u->kind = UnitKind::kSymbol; SetLeet(u, 'l', 'i', true); return;
    case '*': u->kind = UnitKind::kMask; return;
    case ' ': case '\t': case '\n': case '\r': case '\f': case '\v':
      u->kind = UnitKind::kSpace;
      return;
    case '.': case '-': case '_': case '~': case ',': case '/': case '\\': case ':': case ';':
    case '=': case '^':
      u->kind = UnitKind::kPunct;
      u->lit = c;
      return;
    default:
      u->kind = UnitKind::kBreak;
  }
}

void SetLetter(Unit* u, char c, uint32_t flags) {
  u->kind = UnitKind::kLetter;
  u->lit = c;
  u->flags |= flags;
}

void Classify(char32_t c, Unit* u) {
  if (c < 0x80) return ClassifyAscii(static_cast<char>(c), u);
  if (c >= 0xC0 && c <= 0x17F) {
    const char m = c < 0x100 ? kLatin1[c - 0xC0] : kLatinExtA[c - 0x100];
    if (m == '#') {
      u->kind = UnitKind::kBreak;
    } else if (m == '?') {
      u->kind = UnitKind::kOtherLetter;
      u->flags |= kLatin;
    } else {
      SetLetter(u, m, kDiacritics | kLatin);
    }
    return;
  }
  if (c == 0xA1) {  // ¡
    u->kind = UnitKind::kSymbol;
    return SetLeet(u, 'i', 0, true);
  }
  if (c == 0x20AC) {  // €
    u->kind = UnitKind::kSymbol;
    return SetLeet(u, 'e', 0, false);
  }
  if (c >= 0xFF01 && c <= 0xFF5E) {  // fullwidth ASCII
    ClassifyAscii(static_cast<char>(c - 0xFEE0), u);
    u->flags |= kStyled;
    return;
  }
  if (c >= 0x1D400 && c <= 0x1D6A3) {  // mathematical letters: 13 styles of A-Z a-z
    const uint32_t k = (c - 0x1D400) % 52;
    return SetLetter(u, static_cast<char>('a' + k % 26), kStyled | kLatin);
  }
  if (c >= 0x1D7CE && c <= 0x1D7FF) {  // mathematical digits
    ClassifyAscii(static_cast<char>('0' + (c - 0x1D7CE) % 10), u);
    u->flags |= kStyled;
    return;
  }
  if (c >= 0x24B6 && c <= 0x24E9) {  // circled letters
    return SetLetter(u, static_cast<char>('a' + (c - 0x24B6) % 26), kStyled | kLatin);
  }
  if (c >= 0x1F130 && c <= 0x1F189) {  // squared, negative circled, negative squared
    return SetLetter(u, static_cast<char>('a' + (c - 0x1F130) % 26), kStyled | kLatin);
  }
  const auto* it = std::lower_bound(std::begin(kConfusables), std::end(kConfusables), c,
                                    [](const Confusable& a, char32_t v) { return a.cp < v; });
  if (it != std::end(kConfusables) && it->cp == c) return SetLetter(u, it->to, kLookAlike);
  if (IsUnicodeSpace(c)) {
    u->kind = UnitKind::kSpace;
  } else if (c >= 0x2010 && c <= 0x2015) {
    u->kind = UnitKind::kPunct;
    u->lit = '-';
  } else if (c == 0x00B7 || c == 0x2022 || c == 0x2027) {
    u->kind = UnitKind::kPunct;
  } else if ((c >= 0x0180 && c <= 0x024F) || (c >= 0x0370 && c <= 0x052F) ||
             (c >= 0x0590 && c <= 0x1FFF)) {
    // Other letters of alphabetic scripts (Latin Extended-B, Greek, Cyrillic, Hebrew, Arabic,
    // Indic...): they join words, so a listed term next to them is not at a word boundary.
    u->kind = UnitKind::kOtherLetter;
  } else {
    u->kind = UnitKind::kBreak;  // symbols, emoji, CJK (no spaces between words there)
  }
}

bool SameReading(const Unit& a, const Unit& b) {
  return a.kind == b.kind && a.lit == b.lit && a.alt[0] == b.alt[0] && a.alt[1] == b.alt[1] &&
         (a.kind == UnitKind::kLetter || a.kind == UnitKind::kDigit ||
          a.kind == UnitKind::kSymbol);
}

}  // namespace

Status SplitIntoUnits(std::string_view utf8, std::vector<Unit>* out) {
  out->clear();
  bool pending_invisible = false;
  size_t i = 0;
  while (i < utf8.size()) {
    const int len = Utf8SequenceLength(utf8, i);
    if (len <= 0) {
      return InvalidArgument("text safety check: invalid UTF-8 at byte " + std::to_string(i) +
                             (len < 0 ? " (truncated sequence)" : "") +
                             "; the text must be valid UTF-8");
    }
    const auto b0 = static_cast<uint8_t>(utf8[i]);
    char32_t c = len == 1 ? b0 : (b0 & (0x7F >> len));
    for (int k = 1; k < len; ++k) c = (c << 6) | (static_cast<uint8_t>(utf8[i + k]) & 0x3F);
    const auto begin = static_cast<uint32_t>(i);
    const auto end = static_cast<uint32_t>(i + static_cast<size_t>(len));
    i = end;

    if (IsInvisible(c)) {
      pending_invisible = true;
      continue;
    }
    if (IsCombiningMark(c)) {
      if (!out->empty() && out->back().end == begin) {
        out->back().end = end;
        out->back().flags |= kDiacritics;
      }
      continue;
    }
    Unit u;
    u.begin = begin;
    u.end = end;
    Classify(c, &u);
    if (pending_invisible) u.flags |= kAfterInvisible;
    pending_invisible = false;

    // Runs: keep two units; the second absorbs the rest of the run.
    const size_t n = out->size();
    if (n >= 2 && SameReading((*out)[n - 1], u) && SameReading((*out)[n - 2], u)) {
      Unit& last = (*out)[n - 1];
      last.end = u.end;
      last.flags |= u.flags | kRepeated;
      continue;
    }
    out->push_back(u);
  }
  return Status::Ok();
}

}  // namespace cairn::safety::internal
