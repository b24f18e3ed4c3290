#include "core/tokenizer/pattern.h"

#include "core/tokenizer/unicode.h"

namespace cairn::tokenizer {

Result<Regex> ParsePattern(const Json& pattern, std::string_view path) {
  CAIRN_RETURN_IF_ERROR(RequireObject(pattern, path));
  if (const Json* s = Member(pattern, "String")) {
    if (!s->is_string()) return FieldError(JoinPath(path, "String"), "must be a string");
    const std::string text = s->get<std::string>();
    CAIRN_RETURN_IF_ERROR(ValidateUtf8(text).WithContext(JoinPath(path, "String")));
    return Regex::Literal(ToCodePoints(text));
  }
  if (const Json* r = Member(pattern, "Regex")) {
    if (!r->is_string()) return FieldError(JoinPath(path, "Regex"), "must be a string");
    Result<Regex> regex = Regex::Compile(r->get<std::string>());
    if (!regex.ok()) {
      return Status(regex.status().code(),
                    "tokenizer.json: " + JoinPath(path, "Regex") + ": " + regex.status().message());
    }
    return regex;
  }
  return FieldError(path, "must have a \"String\" or \"Regex\" member");
}

std::vector<Span> FindAllBytes(const Regex& regex, std::string_view text) {
  if (const std::string* lit = regex.literal(); lit != nullptr && !lit->empty()) {
    std::vector<Span> out;
    for (size_t at = text.find(*lit); at != std::string_view::npos;
         at = text.find(*lit, at + lit->size())) {
      out.push_back({at, at + lit->size()});
    }
    return out;
  }
  std::u32string cps;
  std::vector<size_t> offsets;  // byte offset of each code point, plus the end
  cps.reserve(text.size());
  offsets.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    offsets.push_back(i);
    i += DecodeUtf8(text, i, &cp);
    cps.push_back(cp);
  }
  offsets.push_back(text.size());
  std::vector<Span> out;
  for (const Regex::Match& m : regex.FindAll(cps))
    out.push_back({offsets[m.begin], offsets[m.end]});
  return out;
}

std::string ReplaceAll(std::string_view text, const Regex& regex, std::string_view content) {
  if (const std::string* lit = regex.literal(); lit != nullptr && !lit->empty()) {
    return ReplaceLiteral(text, *lit, content);
  }
  std::string out;
  size_t prev = 0;
  for (const Span& m : FindAllBytes(regex, text)) {
    out.append(text.substr(prev, m.begin - prev));
    out.append(content);
    prev = m.end;
  }
  out.append(text.substr(prev));
  return out;
}

std::string ReplaceLiteral(std::string_view text, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(text);
  std::string out;
  size_t prev = 0;
  for (size_t at = text.find(from); at != std::string_view::npos; at = text.find(from, prev)) {
    out.append(text.substr(prev, at - prev));
    out.append(to);
    prev = at + from.size();
  }
  out.append(text.substr(prev));
  return out;
}

std::string_view TrimStartJs(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    const size_t n = DecodeUtf8(text, i, &cp);
    if (!IsJsWhitespace(cp)) break;
    i += n;
  }
  return text.substr(i);
}

std::string_view TrimEndJs(std::string_view text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    char32_t cp;
    DecodeUtf8(text, start, &cp);
    if (!IsJsWhitespace(cp)) break;
    end = start;
  }
  return text.substr(0, end);
}

}  // namespace cairn::tokenizer
