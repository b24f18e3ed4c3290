// tokenizer.json patterns ({"String": "..."} or {"Regex": "..."}) and the string operations the
// normalizers, pre-tokenizers and decoders build on (internal to the tokenizer).
#ifndef CAIRN_CORE_TOKENIZER_PATTERN_H_
#define CAIRN_CORE_TOKENIZER_PATTERN_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/tokenizer/json_util.h"
#include "core/tokenizer/regex.h"

namespace cairn::tokenizer {

// A byte range [begin, end) of a UTF-8 string.
struct Span {
  size_t begin;
  size_t end;
};

// Compiles the pattern object at `path` (a {"String": s} is matched literally).
Result<Regex> ParsePattern(const Json& pattern, std::string_view path);

// Every match of `regex` in `text` as byte ranges (String.prototype.matchAll semantics).
std::vector<Span> FindAllBytes(const Regex& regex, std::string_view text);

// Replaces every non-empty match; empty matches insert `content` as JavaScript's replaceAll does.
std::string ReplaceAll(std::string_view text, const Regex& regex, std::string_view content);
// Literal replacement of every occurrence of a non-empty `from`.
std::string ReplaceLiteral(std::string_view text, std::string_view from, std::string_view to);

// String.prototype.trimStart / trimEnd / trim (ECMAScript white space).
std::string_view TrimStartJs(std::string_view text);
std::string_view TrimEndJs(std::string_view text);

}  // namespace cairn::tokenizer

#endif  // CAIRN_CORE_TOKENIZER_PATTERN_H_
