#include "core/tokenizer/normalizer.h"

#include <utility>
#include <vector>

#include "core/tokenizer/pattern.h"
#include "core/tokenizer/unicode.h"

namespace cairn::tokenizer {
namespace {

class NfcNormalizer : public Normalizer {
 public:
  std::string Normalize(std::string_view text) const override { return ToNfc(text); }
};

class NfdNormalizer : public Normalizer {
 public:
  std::string Normalize(std::string_view text) const override { return ToNfd(text); }
};

class LowercaseNormalizer : public Normalizer {
 public:
  std::string Normalize(std::string_view text) const override { return ToLower(text); }
};

std::string RemoveMarks(std::string_view text, uint32_t mask) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    const size_t n = DecodeUtf8(text, i, &cp);
    if (!InCategories(cp, mask)) out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

// StripAccents removes every \p{M} (the reference does not decompose first).
class StripAccentsNormalizer : public Normalizer {
 public:
  std::string Normalize(std::string_view text) const override {
    return RemoveMarks(text, kMaskMark);
  }
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Regex pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::string Normalize(std::string_view text) const override {
    return ReplaceAll(text, pattern_, content_);
  }

 private:
  Regex pattern_;
  std::string content_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string Normalize(std::string_view text) const override {
    return prefix_ + std::string(text);
  }

 private:
  std::string prefix_;
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  std::string Normalize(std::string_view text) const override {
    if (left_) text = TrimStartJs(text);
    if (right_) text = TrimEndJs(text);
    return std::string(text);
  }

 private:
  bool left_, right_;
};

bool IsChineseChar(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool lowercase, int strip_accents)
      : clean_text_(clean_text),
        chinese_(chinese),
        lowercase_(lowercase),
        strip_accents_(strip_accents) {}

  std::string Normalize(std::string_view text) const override {
    std::string s(text);
    if (clean_text_ || chinese_) {
      std::string out;
      for (size_t i = 0; i < s.size();) {
        char32_t cp;
        const size_t n = DecodeUtf8(s, i, &cp);
        i += n;
        if (clean_text_) {
          const bool control =
              cp != '\t' && cp != '\n' && cp != '\r' &&
              InCategories(cp, CategoryBit(Category::kCc) | CategoryBit(Category::kCf) |
                                   CategoryBit(Category::kCo) | CategoryBit(Category::kCs));
          if (cp == 0 || cp == 0xFFFD || control) continue;
          if (IsJsWhitespace(cp)) {
            out.push_back(' ');
            continue;
          }
        }
        if (chinese_ && IsChineseChar(cp)) {
          out.push_back(' ');
          AppendUtf8(&out, cp);
          out.push_back(' ');
        } else {
          AppendUtf8(&out, cp);
        }
      }
      s = std::move(out);
    }
    // strip_accents_: -1 unset (follows lowercase), 0 false, 1 true.
    const bool strip = lowercase_ ? strip_accents_ != 0 : strip_accents_ == 1;
    if (lowercase_) s = ToLower(s);
    if (strip) s = RemoveMarks(ToNfd(s), CategoryBit(Category::kMn));
    return s;
  }

 private:
  bool clean_text_, chinese_, lowercase_;
  int strip_accents_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  std::string Normalize(std::string_view text) const override {
    std::string s(text);
    for (const auto& step : steps_) s = step->Normalize(s);
    return s;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

Result<std::unique_ptr<Normalizer>> MakeNormalizer(const Json& config, std::string_view path) {
  CAIRN_RETURN_IF_ERROR(RequireObject(config, path));
  CAIRN_ASSIGN_OR_RETURN(std::string type, GetString(config, "type", path));
  if (type == "NFC") return std::unique_ptr<Normalizer>(new NfcNormalizer());
  if (type == "NFD") return std::unique_ptr<Normalizer>(new NfdNormalizer());
  if (type == "Lowercase") return std::unique_ptr<Normalizer>(new LowercaseNormalizer());
  if (type == "StripAccents") return std::unique_ptr<Normalizer>(new StripAccentsNormalizer());
  if (type == "Replace") {
    CAIRN_ASSIGN_OR_RETURN(const Json* pattern, RequireMember(config, "pattern", path));
    CAIRN_ASSIGN_OR_RETURN(Regex regex, ParsePattern(*pattern, JoinPath(path, "pattern")));
    CAIRN_ASSIGN_OR_RETURN(std::string content, GetString(config, "content", path, ""));
    return std::unique_ptr<Normalizer>(new ReplaceNormalizer(std::move(regex), content));
  }
  if (type == "Prepend") {
    CAIRN_ASSIGN_OR_RETURN(std::string prefix, GetString(config, "prepend", path));
    return std::unique_ptr<Normalizer>(new PrependNormalizer(prefix));
  }
  if (type == "Strip") {
    CAIRN_ASSIGN_OR_RETURN(bool left, GetBool(config, "strip_left", path, false));
    CAIRN_ASSIGN_OR_RETURN(bool right, GetBool(config, "strip_right", path, false));
    return std::unique_ptr<Normalizer>(new StripNormalizer(left, right));
  }
  if (type == "BertNormalizer") {
    CAIRN_ASSIGN_OR_RETURN(bool clean, GetBool(config, "clean_text", path, false));
    CAIRN_ASSIGN_OR_RETURN(bool chinese, GetBool(config, "handle_chinese_chars", path, false));
    CAIRN_ASSIGN_OR_RETURN(bool lower, GetBool(config, "lowercase", path, false));
    int strip = -1;
    if (Member(config, "strip_accents") != nullptr) {
      CAIRN_ASSIGN_OR_RETURN(bool s, GetBool(config, "strip_accents", path, false));
      strip = s ? 1 : 0;
    }
    return std::unique_ptr<Normalizer>(new BertNormalizer(clean, chinese, lower, strip));
  }
  if (type == "Sequence") {
    CAIRN_ASSIGN_OR_RETURN(const Json* list, RequireMember(config, "normalizers", path));
    if (!list->is_array()) return FieldError(JoinPath(path, "normalizers"), "must be an array");
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_null()) continue;
      CAIRN_ASSIGN_OR_RETURN(
          auto step, MakeNormalizer((*list)[i],
                                    JoinPath(path, "normalizers") + "[" + std::to_string(i) + "]"));
      steps.push_back(std::move(step));
    }
    return std::unique_ptr<Normalizer>(new SequenceNormalizer(std::move(steps)));
  }
  if (type == "NFKC" || type == "NFKD" || type == "Precompiled") {
    return Unsupported("tokenizer.json: " + JoinPath(path, "type") + " \"" + type +
                       "\" is not supported by this build (no compatibility-decomposition tables)");
  }
  return FieldError(JoinPath(path, "type"), "is an unknown normalizer type \"" + type + "\"");
}

}  // namespace cairn::tokenizer
