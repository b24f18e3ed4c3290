#include "core/tokenizer/decoder.h"

#include <utility>

#include "core/tokenizer/pattern.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/unicode.h"

namespace cairn::tokenizer {
namespace {

bool RawBytes(const DecodeContext& ctx) { return ctx.mode != DecodeContext::kText; }
bool IsFirst(const DecodeContext& ctx, size_t i) {
  return i == 0 && ctx.mode != DecodeContext::kBytesMid;
}

class ByteLevelDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens, const DecodeContext& ctx) const override {
    std::vector<std::string> out;
    std::string run;
    bool have_run = false;
    auto flush = [&] {
      if (have_run) out.push_back(RawBytes(ctx) ? run : Utf8Lossy(run));
      run.clear();
      have_run = false;
    };
    for (std::string& token : *tokens) {
      if (ctx.added_tokens != nullptr && ctx.added_tokens->count(token) != 0) {
        flush();
        out.push_back(std::move(token));
        continue;
      }
      have_run = true;
      for (size_t i = 0; i < token.size();) {
        char32_t cp;
        i += DecodeUtf8(token, i, &cp);
        const int b = UnicodeToByte(cp);
        run.push_back(static_cast<char>(b < 0 ? 0 : b));  // the reference maps strays to 0
      }
    }
    flush();
    *tokens = std::move(out);
  }
};

class ByteFallbackDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens, const DecodeContext& ctx) const override {
    std::vector<std::string> out;
    std::string bytes;
    auto flush = [&] {
      if (!bytes.empty()) out.push_back(RawBytes(ctx) ? bytes : Utf8Lossy(bytes));
      bytes.clear();
    };
    for (std::string& token : *tokens) {
      int value = -1;
      if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>') {
        value = HexByte(token[3], token[4]);
      }
      if (value >= 0) {
        bytes.push_back(static_cast<char>(value));
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    *tokens = std::move(out);
  }

 private:
  static int HexByte(char hi, char lo) {
    auto digit = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int h = digit(hi), l = digit(lo);
    // parseInt("1g", 16) is 1: a bad second digit still gives the first's value.
    if (h < 0) return -1;
    return l < 0 ? h : h * 16 + l;
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  explicit MetaspaceDecoder(std::string replacement) : replacement_(std::move(replacement)) {}
  void DecodeChain(std::vector<std::string>* tokens, const DecodeContext& ctx) const override {
    for (size_t i = 0; i < tokens->size(); ++i) {
      std::string s = ReplaceLiteral((*tokens)[i], replacement_, " ");
      if (IsFirst(ctx, i) && !s.empty() && s[0] == ' ') s.erase(0, 1);
      (*tokens)[i] = std::move(s);
    }
  }

 private:
  std::string replacement_;
};

std::string CleanUp(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) s = ReplaceLiteral(s, from, to);
  return s;
}

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void DecodeChain(std::vector<std::string>* tokens, const DecodeContext& ctx) const override {
    for (size_t i = 0; i < tokens->size(); ++i) {
      std::string& token = (*tokens)[i];
      if (!IsFirst(ctx, i)) {
        if (!prefix_.empty() && token.compare(0, prefix_.size(), prefix_) == 0) {
          token.erase(0, prefix_.size());
        } else {
          token.insert(0, " ");
        }
      }
      if (cleanup_) token = CleanUp(std::move(token));
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class BpeDecoder : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void DecodeChain(std::vector<std::string>* tokens, const DecodeContext& ctx) const override {
    for (size_t i = 0; i < tokens->size(); ++i) {
      const bool last = i + 1 == tokens->size() && ctx.mode == DecodeContext::kText;
      (*tokens)[i] = ReplaceLiteral((*tokens)[i], suffix_, last ? "" : " ");
    }
  }

 private:
  std::string suffix_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Regex regex, std::string content)
      : regex_(std::move(regex)), content_(std::move(content)) {}
  void DecodeChain(std::vector<std::string>* tokens, const DecodeContext&) const override {
    for (std::string& token : *tokens) {
      // Byte-level tokens may not be valid UTF-8 in the raw modes; leave those alone.
      if (!ValidateUtf8(token).ok()) continue;
      token = ReplaceAll(token, regex_, content_);
    }
  }

 private:
  Regex regex_;
  std::string content_;
};

class FuseDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens, const DecodeContext&) const override {
    std::string all;
    for (const std::string& t : *tokens) all += t;
    tokens->assign(1, std::move(all));
  }
};

// Strips up to `start` leading and `stop` trailing copies of a one-code-point `content`.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, int start, int stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void DecodeChain(std::vector<std::string>* tokens, const DecodeContext& ctx) const override {
    if (ctx.mode == DecodeContext::kBytesMid || content_.empty()) return;
    for (std::string& token : *tokens) {
      size_t begin = 0, end = token.size();
      for (int i = 0; i < start_ && token.compare(begin, content_.size(), content_) == 0; ++i) {
        begin += content_.size();
      }
      for (int i = 0; i < stop_ && end >= begin + content_.size() &&
                      token.compare(end - content_.size(), content_.size(), content_) == 0;
           ++i) {
        end -= content_.size();
      }
      token = token.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  int start_, stop_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(std::move(steps)) {}
  void DecodeChain(std::vector<std::string>* tokens, const DecodeContext& ctx) const override {
    for (const auto& step : steps_) step->DecodeChain(tokens, ctx);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

Result<std::unique_ptr<Decoder>> MakeDecoder(const Json& config, std::string_view path) {
  using Ptr = std::unique_ptr<Decoder>;
  CAIRN_RETURN_IF_ERROR(RequireObject(config, path));
  CAIRN_ASSIGN_OR_RETURN(std::string type, GetString(config, "type", path));
  if (type == "ByteLevel") return Ptr(new ByteLevelDecoder());
  if (type == "ByteFallback") return Ptr(new ByteFallbackDecoder());
  if (type == "Fuse") return Ptr(new FuseDecoder());
  if (type == "Metaspace") {
    CAIRN_ASSIGN_OR_RETURN(std::string r, GetString(config, "replacement", path, "\u2581"));
    return Ptr(new MetaspaceDecoder(r));
  }
  if (type == "WordPiece") {
    CAIRN_ASSIGN_OR_RETURN(std::string prefix, GetString(config, "prefix", path, "##"));
    CAIRN_ASSIGN_OR_RETURN(bool cleanup, GetBool(config, "cleanup", path, false));
    return Ptr(new WordPieceDecoder(prefix, cleanup));
  }
  if (type == "BPEDecoder") {
    CAIRN_ASSIGN_OR_RETURN(std::string suffix, GetString(config, "suffix", path, ""));
    return Ptr(new BpeDecoder(suffix));
  }
  if (type == "Replace") {
    CAIRN_ASSIGN_OR_RETURN(const Json* pattern, RequireMember(config, "pattern", path));
    CAIRN_ASSIGN_OR_RETURN(Regex regex, ParsePattern(*pattern, JoinPath(path, "pattern")));
    CAIRN_ASSIGN_OR_RETURN(std::string content, GetString(config, "content", path, ""));
    return Ptr(new ReplaceDecoder(std::move(regex), content));
  }
  if (type == "Strip") {
    CAIRN_ASSIGN_OR_RETURN(std::string content, GetString(config, "content", path, ""));
    CAIRN_ASSIGN_OR_RETURN(int64_t start, GetInt(config, "start", path, 0));
    CAIRN_ASSIGN_OR_RETURN(int64_t stop, GetInt(config, "stop", path, 0));
    if (start < 0 || stop < 0) return FieldError(path, "start and stop must not be negative");
    return Ptr(new StripDecoder(content, static_cast<int>(start), static_cast<int>(stop)));
  }
  if (type == "Sequence") {
    CAIRN_ASSIGN_OR_RETURN(const Json* list, RequireMember(config, "decoders", path));
    if (!list->is_array()) return FieldError(JoinPath(path, "decoders"), "must be an array");
    std::vector<Ptr> steps;
    for (size_t i = 0; i < list->size(); ++i) {
      CAIRN_ASSIGN_OR_RETURN(Ptr step, MakeDecoder((*list)[i], JoinPath(path, "decoders") + "[" +
                                                                   std::to_string(i) + "]"));
      steps.push_back(std::move(step));
    }
    return Ptr(new SequenceDecoder(std::move(steps)));
  }
  if (type == "CTC") {
    return Unsupported("tokenizer.json: " + JoinPath(path, "type") + " \"CTC\" is not supported");
  }
  return FieldError(JoinPath(path, "type"), "is an unknown decoder type \"" + type + "\"");
}

}  // namespace cairn::tokenizer
