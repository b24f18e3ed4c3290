// The word lists compiled into the filter. The definitions are generated at build time by
// gen_wordlists.mjs from the npm packages (see README.md); only these declarations are committed.
// Internal to cairn_safety.
#ifndef CAIRN_CORE_SAFETY_WORDLISTS_H_
#define CAIRN_CORE_SAFETY_WORDLISTS_H_

#include <cstddef>
#include <cstdint>

#include "core/safety/text_safety_filter.h"

namespace cairn::safety::internal {

enum : uint8_t { kBoundStart = 1, kBoundEnd = 2 };
enum : uint8_t { kMild = 1, kSevere = 2 };

struct TermEntry {
  const char* key;    // normalized: [a-z0-9] with single spaces at optional word breaks
  const char* name;   // the canonical term reported in findings
  Category category;
  uint8_t severity;   // kMild or kSevere
  uint8_t bounds;     // kBoundStart | kBoundEnd: needs a word boundary there
  uint8_t sources;    // bit i: kWordListSources[i] lists it
};

extern const WordListSource kWordListSources[];
extern const size_t kWordListSourceCount;
extern const TermEntry kTerms[];
extern const size_t kTermCount;
extern const char* const kWhitelist[];  // normalized like keys; a match inside one is innocent
extern const size_t kWhitelistCount;

}  // namespace cairn::safety::internal

#endif  // CAIRN_CORE_SAFETY_WORDLISTS_H_
