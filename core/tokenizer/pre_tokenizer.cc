#include "core/tokenizer/pre_tokenizer.h"

#include <array>
#include <utility>

#include "core/tokenizer/pattern.h"
#include "core/tokenizer/unicode.h"

namespace cairn::tokenizer {
namespace {

const std::array<char32_t, 256>& ByteTable() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      t[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
    }
    return t;
  }();
  return table;
}

// Splits with a regex, keeping both the matches and the text between them (empty pieces dropped),
// as the reference's regex_split does.
void SplitIsolated(const Regex& regex, std::string_view text, std::vector<std::string>* out) {
  size_t prev = 0;
  for (const Span& m : FindAllBytes(regex, text)) {
    if (prev < m.begin) out->emplace_back(text.substr(prev, m.begin - prev));
    if (m.end > m.begin) out->emplace_back(text.substr(m.begin, m.end - m.begin));
    prev = m.end;
  }
  if (prev < text.size()) out->emplace_back(text.substr(prev));
}

// The matches only (String.prototype.match with /g), empty ones dropped.
void Matches(const Regex& regex, std::string_view text, std::vector<std::string>* out) {
  for (const Span& m : FindAllBytes(regex, text)) {
    if (m.end > m.begin) out->emplace_back(text.substr(m.begin, m.end - m.begin));
  }
}

// The text between matches (String.prototype.split), empty pieces dropped.
void Removed(const Regex& regex, std::string_view text, std::vector<std::string>* out) {
  size_t prev = 0;
  for (const Span& m : FindAllBytes(regex, text)) {
    if (m.end == m.begin) continue;
    if (prev < m.begin) out->emplace_back(text.substr(prev, m.begin - prev));
    prev = m.end;
  }
  if (prev < text.size()) out->emplace_back(text.substr(prev));
}

const Regex& Gpt2Pattern() {
  // The GPT-2 pattern the reference's ByteLevel uses; JavaScript's \s there is Unicode White_Space
  // plus U+FEFF minus U+0085, which [\t-\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F
  // \u3000\uFEFF] spells out.
  static const Regex* regex = [] {
    const std::string s =
        "[\\t-\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}"
        "\\x{3000}\\x{FEFF}]";
    const std::string not_s = "[^" + s.substr(1);
    const std::string pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" +
                                s.substr(1, s.size() - 2) + "\\p{L}\\p{N}]+|" + s + "+(?!" + not_s +
                                ")|" + s + "+";
    return new Regex(Regex::Compile(pattern).value());
  }();
  return *regex;
}

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {}
  void Split(std::string_view text, int, std::vector<std::string>* out) const override {
    std::string s(text);
    if (add_prefix_space_ && (s.empty() || s[0] != ' ')) s.insert(s.begin(), ' ');
    std::vector<std::string> pieces;
    if (use_regex_) {
      Matches(Gpt2Pattern(), s, &pieces);
    } else {
      pieces.push_back(std::move(s));
    }
    for (const std::string& piece : pieces) {
      std::string mapped;
      for (unsigned char b : piece) AppendUtf8(&mapped, ByteToUnicode(b));
      out->push_back(std::move(mapped));
    }
  }

 private:
  bool add_prefix_space_, use_regex_;
};

class SplitPreTokenizer : public PreTokenizer {
 public:
  enum Mode { kIsolated, kMatchesOnly, kRemoved };
  SplitPreTokenizer(Regex regex, Mode mode) : regex_(std::move(regex)), mode_(mode) {}
  void Split(std::string_view text, int, std::vector<std::string>* out) const override {
    switch (mode_) {
      case kIsolated:
        SplitIsolated(regex_, text, out);
        break;
      case kMatchesOnly:
        Matches(regex_, text, out);
        break;
      case kRemoved:
        Removed(regex_, text, out);
        break;
    }
  }

 private:
  Regex regex_;
  Mode mode_;
};

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, std::string scheme)
      : replacement_(std::move(replacement)), scheme_(std::move(scheme)) {}
  void Split(std::string_view text, int section_index,
             std::vector<std::string>* out) const override {
    std::string s = ReplaceLiteral(text, " ", replacement_);
    const bool starts = s.compare(0, replacement_.size(), replacement_) == 0;
    if (!starts && (scheme_ == "always" || (scheme_ == "first" && section_index == 0))) {
      s = replacement_ + s;
    }
    out->push_back(std::move(s));
  }

 private:
  std::string replacement_, scheme_;
};

class ReplacePreTokenizer : public PreTokenizer {
 public:
  ReplacePreTokenizer(Regex regex, std::string content)
      : regex_(std::move(regex)), content_(std::move(content)) {}
  void Split(std::string_view text, int, std::vector<std::string>* out) const override {
    out->push_back(ReplaceAll(text, regex_, content_));
  }

 private:
  Regex regex_;
  std::string content_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void Split(std::string_view text, int section_index,
             std::vector<std::string>* out) const override {
    std::vector<std::string> pieces{std::string(text)};
    for (const auto& step : steps_) {
      std::vector<std::string> next;
      for (const std::string& piece : pieces) step->Split(piece, section_index, &next);
      pieces = std::move(next);
    }
    for (std::string& piece : pieces) out->push_back(std::move(piece));
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

// Regex-defined pre-tokenizers that keep only the matches, after an optional JS trim.
class MatchPreTokenizer : public PreTokenizer {
 public:
  MatchPreTokenizer(std::string pattern, bool trim)
      : regex_(Regex::Compile(pattern).value()), trim_(trim) {}
  void Split(std::string_view text, int, std::vector<std::string>* out) const override {
    if (trim_) text = TrimEndJs(TrimStartJs(text));
    Matches(regex_, text, out);
  }

 private:
  Regex regex_;
  bool trim_;
};

// ASCII and general-category punctuation, as the reference's PUNCTUATION_REGEX.
constexpr char kPunct[] = "\\p{P}\\x{21}-\\x{2F}\\x{3A}-\\x{40}\\x{5B}-\\x{60}\\x{7B}-\\x{7E}";

}  // namespace

char32_t ByteToUnicode(uint8_t byte) { return ByteTable()[byte]; }

int UnicodeToByte(char32_t cp) {
  if (cp < 256) {
    const bool printable = (cp >= '!' && cp <= '~') || (cp >= 0xA1 && cp <= 0xAC) || cp >= 0xAE;
    return printable ? static_cast<int>(cp) : -1;
  }
  for (int b = 0; b < 256; ++b) {
    if (ByteTable()[b] == cp) return b;
  }
  return -1;
}

Result<std::unique_ptr<PreTokenizer>> MakePreTokenizer(const Json& config, std::string_view path) {
  using Ptr = std::unique_ptr<PreTokenizer>;
  CAIRN_RETURN_IF_ERROR(RequireObject(config, path));
  CAIRN_ASSIGN_OR_RETURN(std::string type, GetString(config, "type", path));
  if (type == "ByteLevel") {
    CAIRN_ASSIGN_OR_RETURN(bool prefix, GetBool(config, "add_prefix_space", path, false));
    CAIRN_ASSIGN_OR_RETURN(bool use_regex, GetBool(config, "use_regex", path, true));
    return Ptr(new ByteLevelPreTokenizer(prefix, use_regex));
  }
  if (type == "Split") {
    CAIRN_ASSIGN_OR_RETURN(const Json* pattern, RequireMember(config, "pattern", path));
    CAIRN_ASSIGN_OR_RETURN(Regex regex, ParsePattern(*pattern, JoinPath(path, "pattern")));
    CAIRN_ASSIGN_OR_RETURN(bool invert, GetBool(config, "invert", path, false));
    CAIRN_ASSIGN_OR_RETURN(std::string behavior, GetString(config, "behavior", path, "Isolated"));
    static const char* const kBehaviors[] = {"Removed", "Isolated", "MergedWithPrevious",
                                             "MergedWithNext", "Contiguous"};
    bool known = false;
    for (const char* b : kBehaviors) known = known || behavior == b;
    if (!known) {
      return FieldError(JoinPath(path, "behavior"),
                        "is an unknown split behavior \"" + behavior + "\"");
    }
    // The reference wraps a String pattern in a capture group unless `invert`, so "Removed"
    // with a String pattern keeps the separators (String.prototype.split returns captures).
    const bool removes = behavior == "Removed" && Member(*pattern, "String") == nullptr;
    auto mode = invert    ? SplitPreTokenizer::kMatchesOnly
                : removes ? SplitPreTokenizer::kRemoved
                          : SplitPreTokenizer::kIsolated;
    return Ptr(new SplitPreTokenizer(std::move(regex), mode));
  }
  if (type == "Metaspace") {
    CAIRN_ASSIGN_OR_RETURN(std::string replacement,
                           GetString(config, "replacement", path, "\u2581"));
    CAIRN_ASSIGN_OR_RETURN(std::string scheme, GetString(config, "prepend_scheme", path, "always"));
    if (Member(config, "prepend_scheme") == nullptr) {
      CAIRN_ASSIGN_OR_RETURN(bool add, GetBool(config, "add_prefix_space", path, true));
      if (!add) scheme = "never";
    }
    return Ptr(new MetaspacePreTokenizer(replacement, scheme));
  }
  if (type == "Digits") {
    CAIRN_ASSIGN_OR_RETURN(bool individual, GetBool(config, "individual_digits", path, false));
    return Ptr(new MatchPreTokenizer(individual ? "[^0-9]+|[0-9]" : "[^0-9]+|[0-9]+", false));
  }
  if (type == "Whitespace") return Ptr(new MatchPreTokenizer("\\w+|[^\\w\\s]+", false));
  if (type == "WhitespaceSplit") return Ptr(new MatchPreTokenizer("\\S+", false));
  if (type == "BertPreTokenizer") {
    return Ptr(new MatchPreTokenizer(std::string("[^\\s") + kPunct + "]+|[" + kPunct + "]", true));
  }
  if (type == "Punctuation") {
    return Ptr(new MatchPreTokenizer(std::string("[^") + kPunct + "]+|[" + kPunct + "]+", false));
  }
  if (type == "Replace") {
    CAIRN_ASSIGN_OR_RETURN(const Json* pattern, RequireMember(config, "pattern", path));
    CAIRN_ASSIGN_OR_RETURN(Regex regex, ParsePattern(*pattern, JoinPath(path, "pattern")));
    CAIRN_ASSIGN_OR_RETURN(std::string content, GetString(config, "content", path, ""));
    return Ptr(new ReplacePreTokenizer(std::move(regex), content));
  }
  if (type == "Sequence") {
    CAIRN_ASSIGN_OR_RETURN(const Json* list, RequireMember(config, "pretokenizers", path));
    if (!list->is_array()) return FieldError(JoinPath(path, "pretokenizers"), "must be an array");
    std::vector<Ptr> steps;
    for (size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_null()) continue;
      CAIRN_ASSIGN_OR_RETURN(Ptr step,
                             MakePreTokenizer((*list)[i], JoinPath(path, "pretokenizers") + "[" +
                                                              std::to_string(i) + "]"));
      steps.push_back(std::move(step));
    }
    return Ptr(new SequencePreTokenizer(std::move(steps)));
  }
  return FieldError(JoinPath(path, "type"), "is an unknown pre-tokenizer type \"" + type + "\"");
}

}  // namespace cairn::tokenizer
