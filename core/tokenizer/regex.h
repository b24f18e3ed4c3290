// A small backtracking regular-expression engine over Unicode code points, for the patterns in
// Hugging Face tokenizer.json files (Split / Replace pre-tokenizers and normalizers).
//
// The dialect is the Oniguruma one those files are written in, read the way the reference
// implementation (@huggingface/tokenizers, which rewrites it into JavaScript `gu` regexes) reads
// it:
//   - alternation `|`, groups `(...)` `(?:...)` `(?>...)` (atomic groups are plain groups),
//     `(?i:...)` (ASCII-only case folding, as the reference does), lookahead `(?=...)` `(?!...)`,
//     lookbehind `(?<=...)` `(?<!...)`;
//   - quantifiers `* + ? {n} {n,} {n,m} {,m}`, lazy with a trailing `?`; a possessive `+` is
//     read as greedy;
//   - classes `[...]` with ranges, negation and nested escapes; `.` is any code point but \n;
//   - `\s \S` (Unicode White_Space), `\d \D` (Nd), `\w \W` (letters, marks, Nd, Nl, Pc), `\h \H`
//     (hex digits), `\p{..} \P{..} \pL` with general categories (L, Lu, Letter, N, P, S, Z, C,
//     M and their two-letter forms) plus White_Space and Alphabetic (approximated as L + Nl);
//   - escapes `\n \r \t \f \v \a \e \xHH \x{H..} \uHHHH \u{H..}`, anchors `^ $` (line),
//     `\A \z \Z`, `\b \B`.
// Unsupported syntax (backreferences, named Unicode scripts such as \p{Han}, ...) is a
// kUnsupported error at Compile, never a crash. Matching backtracks, so pathological patterns
// can be slow; tokenizer patterns are linear in practice.
//
// A compiled Regex is immutable and may be used from several threads at once.
#ifndef CAIRN_CORE_TOKENIZER_REGEX_H_
#define CAIRN_CORE_TOKENIZER_REGEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/status.h"

namespace cairn::tokenizer {

class Regex {
 public:
  struct Match {
    size_t begin;  // code-point offsets into the searched text
    size_t end;
  };

  // Errors name the pattern and the code-point offset of the problem.
  static Result<Regex> Compile(std::string_view pattern);
  // A regex matching `literal` exactly (for tokenizer.json {"String": ...} patterns).
  static Regex Literal(std::u32string_view literal);

  // The leftmost match that starts at or after `start`, as JavaScript's RegExp.exec with the `g`
  // and `u` flags finds it (alternatives tried in order, greedy quantifiers longest first).
  bool Search(std::u32string_view text, size_t start, Match* match) const;
  // Every match, as String.prototype.matchAll does: after an empty match the search resumes one
  // code point later. Empty matches are included.
  std::vector<Match> FindAll(std::u32string_view text) const;

  // For a regex made by Literal: the literal (UTF-8), which callers may match with plain string
  // search; nullptr otherwise.
  const std::string* literal() const;

  // Internal program representation (defined in regex.cc).
  struct Program;

 private:
  explicit Regex(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const Program> program_;
};

}  // namespace cairn::tokenizer

#endif  // CAIRN_CORE_TOKENIZER_REGEX_H_
