// Helpers shared by Cairn's Catch2 tests.
#ifndef CAIRN_TESTS_SUPPORT_TEST_UTIL_H_
#define CAIRN_TESTS_SUPPORT_TEST_UTIL_H_

#include <string>
#include <string_view>

#include "core/base/bytes.h"
#include "core/base/status.h"

namespace cairn::testing {

// Hex from a test vector; whitespace (as vectors are printed in RFCs) is ignored.
inline Bytes Hex(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\t') compact += c;
  }
  return FromHex(compact).value();
}

inline std::string StatusText(const Status& s) { return s.ToString(); }

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_TEST_UTIL_H_
