// Shared by the libFuzzer harnesses (tests/fuzz/README.md). A harness's oracle is more than "no
// crash": where a parser promises something (a round trip, an invariant of what it accepts), the
// harness checks it, and a broken promise aborts like a crash so libFuzzer keeps the input.
#ifndef CAIRN_TESTS_FUZZ_FUZZ_UTIL_H_
#define CAIRN_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#define CAIRN_FUZZ_CHECK(cond, what)                                                    \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n  %s\n", __FILE__, __LINE__, \
                   #cond, std::string(what).c_str());                                   \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace cairn::fuzz {

// A file the harness needs at start-up (a reference tokenizer); aborts with its path if absent.
inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz harness: cannot read %s\n", path.c_str());
    std::abort();
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace cairn::fuzz

#endif  // CAIRN_TESTS_FUZZ_FUZZ_UTIL_H_
