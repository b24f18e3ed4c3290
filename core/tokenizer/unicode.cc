#include "core/tokenizer/unicode.h"

#include <algorithm>
#include <string>
#include <unordered_map>

#include "core/base/bytes.h"
#include "core/base/utf8.h"
#include "core/tokenizer/unicode_tables.h"

namespace cairn::tokenizer {
namespace {

// Hangul syllable arithmetic (Unicode §3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr int kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
              kSCount = kLCount * kNCount;

// Index of the last run whose start is <= cp, in a table of (start << shift) | value.
uint32_t RunValue(const uint32_t* runs, size_t n, int shift, char32_t cp) {
  const uint32_t key = (static_cast<uint32_t>(cp) << shift) | ((1u << shift) - 1);
  const uint32_t* it = std::upper_bound(runs, runs + n, key);
  if (it == runs) return 0;
  return *(it - 1) & ((1u << shift) - 1);
}

const tables::Decomposition* FindDecomposition(char32_t cp) {
  const tables::Decomposition* begin = tables::kDecompositions;
  const tables::Decomposition* end = begin + tables::kDecompositionsSize;
  const tables::Decomposition* it = std::lower_bound(
      begin, end, cp, [](const tables::Decomposition& d, char32_t c) { return d.code_point < c; });
  return (it != end && it->code_point == cp) ? it : nullptr;
}

void Decompose(char32_t cp, std::u32string* out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const int s = static_cast<int>(cp - kSBase);
    out->push_back(kLBase + s / kNCount);
    out->push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out->push_back(kTBase + s % kTCount);
    return;
  }
  const tables::Decomposition* d = FindDecomposition(cp);
  if (d == nullptr) {
    out->push_back(cp);
    return;
  }
  const uint32_t offset = d->offset_and_length >> 5, length = d->offset_and_length & 31;
  for (uint32_t i = 0; i < length; ++i) Decompose(tables::kDecompositionData[offset + i], out);
}

std::u32string DecomposeAndOrder(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    i += DecodeUtf8(text, i, &cp);
    Decompose(cp, &out);
  }
  // Canonical ordering: stable sort each run of non-starters by combining class.
  for (size_t i = 0; i < out.size();) {
    if (CombiningClass(out[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < out.size() && CombiningClass(out[j]) != 0) ++j;
    std::stable_sort(out.begin() + i, out.begin() + j,
                     [](char32_t a, char32_t b) { return CombiningClass(a) < CombiningClass(b); });
    i = j;
  }
  return out;
}

const std::unordered_map<uint64_t, char32_t>& CompositionMap() {
  static const auto* map = [] {
    auto* m = new std::unordered_map<uint64_t, char32_t>();
    for (size_t i = 0; i < tables::kDecompositionsSize; ++i) {
      const tables::Decomposition& d = tables::kDecompositions[i];
      if (!d.composable) continue;
      const uint32_t offset = d.offset_and_length >> 5;
      const uint64_t key = (static_cast<uint64_t>(tables::kDecompositionData[offset]) << 32) |
                           tables::kDecompositionData[offset + 1];
      (*m)[key] = d.code_point;
    }
    return m;
  }();
  return *map;
}

// 0 when the pair does not compose.
char32_t Compose(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  const auto& map = CompositionMap();
  auto it = map.find((static_cast<uint64_t>(a) << 32) | b);
  return it == map.end() ? 0 : it->second;
}

bool IsCased(char32_t cp) {
  return InCategories(
      cp, CategoryBit(Category::kLu) | CategoryBit(Category::kLl) | CategoryBit(Category::kLt));
}
bool IsCaseIgnorable(char32_t cp) {
  return cp == '\'' || cp == '.' || cp == ':' || cp == 0x2019 ||
         InCategories(cp, CategoryBit(Category::kMn) | CategoryBit(Category::kMe) |
                              CategoryBit(Category::kCf) | CategoryBit(Category::kLm) |
                              CategoryBit(Category::kSk));
}

}  // namespace

const char* UnicodeVersion() { return tables::kUnicodeVersion; }

Category GetCategory(char32_t cp) {
  if (cp > 0x10FFFF) return Category::kCn;
  return static_cast<Category>(RunValue(tables::kCategoryRuns, tables::kCategoryRunsSize, 5, cp));
}

uint8_t CombiningClass(char32_t cp) {
  if (cp > 0x10FFFF) return 0;
  return static_cast<uint8_t>(
      RunValue(tables::kCombiningClassRuns, tables::kCombiningClassRunsSize, 8, cp));
}

std::optional<uint32_t> CategoryMaskByName(std::string_view name) {
  struct Named {
    const char* short_name;
    const char* long_name;
    uint32_t mask;
  };
  static const Named kNames[] = {
      {"L", "Letter", kMaskLetter},
      {"Lu", "Uppercase_Letter", CategoryBit(Category::kLu)},
      {"Ll", "Lowercase_Letter", CategoryBit(Category::kLl)},
      {"Lt", "Titlecase_Letter", CategoryBit(Category::kLt)},
      {"Lm", "Modifier_Letter", CategoryBit(Category::kLm)},
      {"Lo", "Other_Letter", CategoryBit(Category::kLo)},
      {"M", "Mark", kMaskMark},
      {"Mn", "Nonspacing_Mark", CategoryBit(Category::kMn)},
      {"Mc", "Spacing_Mark", CategoryBit(Category::kMc)},
      {"Me", "Enclosing_Mark", CategoryBit(Category::kMe)},
      {"N", "Number", kMaskNumber},
      {"Nd", "Decimal_Number", CategoryBit(Category::kNd)},
      {"Nl", "Letter_Number", CategoryBit(Category::kNl)},
      {"No", "Other_Number", CategoryBit(Category::kNo)},
      {"P", "Punctuation", kMaskPunctuation},
      {"Pc", "Connector_Punctuation", CategoryBit(Category::kPc)},
      {"Pd", "Dash_Punctuation", CategoryBit(Category::kPd)},
      {"Ps", "Open_Punctuation", CategoryBit(Category::kPs)},
      {"Pe", "Close_Punctuation", CategoryBit(Category::kPe)},
      {"Pi", "Initial_Punctuation", CategoryBit(Category::kPi)},
      {"Pf", "Final_Punctuation", CategoryBit(Category::kPf)},
      {"Po", "Other_Punctuation", CategoryBit(Category::kPo)},
      {"S", "Symbol", kMaskSymbol},
      {"Sm", "Math_Symbol", CategoryBit(Category::kSm)},
      {"Sc", "Currency_Symbol", CategoryBit(Category::kSc)},
      {"Sk", "Modifier_Symbol", CategoryBit(Category::kSk)},
      {"So", "Other_Symbol", CategoryBit(Category::kSo)},
      {"Z", "Separator", kMaskSeparator},
      {"Zs", "Space_Separator", CategoryBit(Category::kZs)},
      {"Zl", "Line_Separator", CategoryBit(Category::kZl)},
      {"Zp", "Paragraph_Separator", CategoryBit(Category::kZp)},
      {"C", "Other", kMaskOther},
      {"Cc", "Control", CategoryBit(Category::kCc)},
      {"Cf", "Format", CategoryBit(Category::kCf)},
      {"Cs", "Surrogate", CategoryBit(Category::kCs)},
      {"Co", "Private_Use", CategoryBit(Category::kCo)},
      {"Cn", "Unassigned", CategoryBit(Category::kCn)},
      {"Alphabetic", "Alpha", kMaskLetter | CategoryBit(Category::kNl)},
  };
  for (const Named& n : kNames) {
    if (name == n.short_name || name == n.long_name) return n.mask;
  }
  return std::nullopt;
}

bool IsWhiteSpace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

bool IsJsWhitespace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0xA0 || cp == 0xFEFF || cp == 0x2028 ||
         cp == 0x2029 || GetCategory(cp) == Category::kZs;
}

Status ValidateUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return InvalidArgument("text is not valid UTF-8: bad byte 0x" +
                             ToHex(AsBytes(text.substr(i, 1))) + " at byte offset " +
                             std::to_string(i));
    }
    for (size_t k = 1; k < len; ++k) {
      const unsigned char b = i + k < n ? s[i + k] : 0;
      const bool ok = i + k < n && (k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF));
      if (!ok) {
        return InvalidArgument("text is not valid UTF-8: " +
                               std::string(i + k < n ? "bad continuation" : "truncated sequence") +
                               " in the sequence starting at byte offset " + std::to_string(i));
      }
    }
    i += len;
  }
  return Status::Ok();
}

size_t DecodeUtf8(std::string_view text, size_t pos, char32_t* cp) {
  const auto c = static_cast<unsigned char>(text[pos]);
  auto cont = [&](size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(text[pos + k]) & 0x3F);
  };
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c < 0xE0) {
    *cp = ((c & 0x1F) << 6) | cont(1);
    return 2;
  }
  if (c < 0xF0) {
    *cp = ((c & 0x0F) << 12) | (cont(1) << 6) | cont(2);
    return 3;
  }
  *cp = ((c & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
  return 4;
}

void AppendUtf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::u32string ToCodePoints(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    i += DecodeUtf8(text, i, &cp);
    out.push_back(cp);
  }
  return out;
}

std::string FromCodePoints(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) AppendUtf8(&out, cp);
  return out;
}

namespace {

// Length of the valid sequence at i (1..4), or 0 with *bad set to the number of bytes that form
// a maximal invalid subpart (WHATWG), or 0 with *bad == 0 when the sequence is valid so far but
// truncated by the end of input.
size_t ScanUtf8(const unsigned char* s, size_t n, size_t i, size_t* bad) {
  const Utf8Lead lead = Utf8LeadOf(s[i]);
  if (lead.length == 1) return 1;
  if (lead.length == 0) {
    *bad = 1;
    return 0;
  }
  const auto len = static_cast<size_t>(lead.length);
  const unsigned char lo = lead.next_lo, hi = lead.next_hi;
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= n) {
      *bad = 0;
      return 0;
    }
    const unsigned char b = s[i + k];
    const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) {
      *bad = k;
      return 0;
    }
  }
  return len;
}

}  // namespace

std::string Utf8Lossy(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n;) {
    size_t bad = 0;
    const size_t len = ScanUtf8(s, n, i, &bad);
    if (len > 0) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      i = bad == 0 ? n : i + bad;
    }
  }
  return out;
}

size_t CompleteUtf8Prefix(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    size_t bad = 0;
    const size_t len = ScanUtf8(s, n, i, &bad);
    if (len > 0) {
      i += len;
    } else if (bad == 0) {
      return i;  // valid so far, truncated: hold it back
    } else {
      i += bad;
    }
  }
  return i;
}

std::string ToNfd(std::string_view text) { return FromCodePoints(DecomposeAndOrder(text)); }

std::string ToNfc(std::string_view text) {
  std::u32string d = DecomposeAndOrder(text);
  if (d.empty()) return {};
  // Canonical composition (Unicode §3.11).
  std::u32string out;
  out.reserve(d.size());
  size_t starter = std::u32string::npos;  // index in out
  int last_ccc = -1;
  for (char32_t cp : d) {
    const int ccc = CombiningClass(cp);
    if (starter != std::u32string::npos) {
      const bool blocked = last_ccc != -1 && (last_ccc == 0 || last_ccc >= ccc);
      if (!blocked) {
        if (char32_t c = Compose(out[starter], cp); c != 0) {
          out[starter] = c;
          continue;
        }
      }
    }
    if (ccc == 0) {
      starter = out.size();
      last_ccc = -1;
    } else {
      last_ccc = ccc;
    }
    out.push_back(cp);
  }
  return FromCodePoints(out);
}

std::string ToLower(std::string_view text) {
  std::u32string cps = ToCodePoints(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < cps.size(); ++i) {
    const char32_t cp = cps[i];
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
      continue;
    }
    if (cp == 0x130) {  // İ: full lowercase is i + combining dot above
      out += "i\xCC\x87";
      continue;
    }
    if (cp == 0x3A3) {  // Σ: final sigma when preceded by a cased letter and not followed by one
      size_t b = i;
      while (b > 0 && IsCaseIgnorable(cps[b - 1])) --b;
      size_t a = i + 1;
      while (a < cps.size() && IsCaseIgnorable(cps[a])) ++a;
      const bool final = b > 0 && IsCased(cps[b - 1]) && !(a < cps.size() && IsCased(cps[a]));
      AppendUtf8(&out, final ? 0x3C2 : 0x3C3);
      continue;
    }
    const tables::CasePair* begin = tables::kLowercase;
    const tables::CasePair* end = begin + tables::kLowercaseSize;
    const tables::CasePair* it = std::lower_bound(
        begin, end, cp, [](const tables::CasePair& p, char32_t c) { return p.from < c; });
    AppendUtf8(&out, (it != end && it->from == cp) ? it->to : cp);
  }
  return out;
}

}  // namespace cairn::tokenizer
