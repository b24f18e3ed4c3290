// UTF-8 structure, shared by everything that checks or splits UTF-8 byte by byte (the JSON
// matcher, token masks, streaming text, the tokenizer).
#ifndef CAIRN_CORE_BASE_UTF8_H_
#define CAIRN_CORE_BASE_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cairn {

// What a byte says as the first of a UTF-8 sequence: the sequence's length (1..4; 0: the byte
// cannot start one), and the range of the byte after it (later continuation bytes are always
// 0x80..0xBF). The ranges exclude overlong forms, surrogates and code points past U+10FFFF.
struct Utf8Lead {
  int length;
  uint8_t next_lo;
  uint8_t next_hi;
};

constexpr Utf8Lead Utf8LeadOf(uint8_t c) {
  if (c < 0x80) return {1, 0, 0};
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};
  if (c == 0xED) return {3, 0x80, 0x9F};
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

constexpr bool IsUtf8Continuation(uint8_t b) { return b >= 0x80 && b <= 0xBF; }

// The valid sequence at s[i]: its length (1..4), 0 if it is invalid, or -1 if it is valid so
// far but cut off by the end of `s`.
constexpr int Utf8SequenceLength(std::string_view s, size_t i) {
  const Utf8Lead lead = Utf8LeadOf(static_cast<uint8_t>(s[i]));
  if (lead.length <= 1) return lead.length;
  for (int k = 1; k < lead.length; ++k) {
    if (i + static_cast<size_t>(k) >= s.size()) return -1;
    const auto b = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
    if (k == 1 ? (b < lead.next_lo || b > lead.next_hi) : !IsUtf8Continuation(b)) return 0;
  }
  return lead.length;
}

// The longest prefix of `s` that is at most `max_bytes` long and ends on a UTF-8 sequence
// boundary (it stops early at an invalid sequence): for cutting text that goes into a message,
// a log line or a database column, where half a character makes the whole string invalid.
constexpr std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  size_t end = 0;
  while (end < s.size()) {
    const int n = Utf8SequenceLength(s, end);
    if (n <= 0 || end + static_cast<size_t>(n) > max_bytes) break;
    end += static_cast<size_t>(n);
  }
  return s.substr(0, end);
}

}  // namespace cairn

#endif  // CAIRN_CORE_BASE_UTF8_H_
