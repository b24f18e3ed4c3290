// Generated Unicode tables (see gen_unicode_tables.py for their layout). Internal to the
// tokenizer; use unicode.h.
#ifndef CAIRN_CORE_TOKENIZER_UNICODE_TABLES_H_
#define CAIRN_CORE_TOKENIZER_UNICODE_TABLES_H_

#include <cstddef>
#include <cstdint>

namespace cairn::tokenizer::tables {

struct Decomposition {
  uint32_t code_point;
  uint32_t offset_and_length;  // (offset into kDecompositionData << 5) | length
  uint8_t composable;          // 1: a primary composite that NFC recomposes
};

struct CasePair {
  uint32_t from;
  uint32_t to;
};

extern const char kUnicodeVersion[];
extern const uint32_t kCategoryRuns[];
extern const size_t kCategoryRunsSize;
extern const uint32_t kCombiningClassRuns[];
extern const size_t kCombiningClassRunsSize;
extern const Decomposition kDecompositions[];
extern const size_t kDecompositionsSize;
extern const uint32_t kDecompositionData[];
extern const CasePair kLowercase[];
extern const size_t kLowercaseSize;

}  // namespace cairn::tokenizer::tables

#endif  // CAIRN_CORE_TOKENIZER_UNICODE_TABLES_H_
