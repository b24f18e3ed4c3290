// WordPiece (BERT family): greedy longest-match-first sub-words, "##" continuations.
#include <utility>

#include "core/tokenizer/model.h"
#include "core/tokenizer/unicode.h"

namespace cairn::tokenizer {
namespace {

class WordPieceModel : public Model {
 public:
  WordPieceModel(std::string prefix, size_t max_chars)
      : prefix_(std::move(prefix)), max_chars_(max_chars) {}

  void Encode(const std::vector<std::string>& pieces, const Vocab& vocab,
              std::vector<std::string>* tokens) const override {
    for (const std::string& piece : pieces) {
      std::vector<size_t> bounds;  // byte offset of each code point, then the end
      for (size_t i = 0; i < piece.size();) {
        char32_t cp;
        bounds.push_back(i);
        i += DecodeUtf8(piece, i, &cp);
      }
      const size_t chars = bounds.size();
      bounds.push_back(piece.size());
      if (chars > max_chars_) {
        PushUnk(vocab, tokens);
        continue;
      }
      std::vector<std::string> sub;
      bool unknown = false;
      for (size_t start = 0; start < chars;) {
        size_t end = chars;
        std::string found;
        bool ok = false;
        while (start < end) {
          std::string candidate = piece.substr(bounds[start], bounds[end] - bounds[start]);
          if (start > 0) candidate = prefix_ + candidate;
          if (vocab.Find(candidate) != nullptr) {
            found = std::move(candidate);
            ok = true;
            break;
          }
          --end;
        }
        if (!ok) {
          unknown = true;
          break;
        }
        sub.push_back(std::move(found));
        start = end;
      }
      if (unknown) {
        PushUnk(vocab, tokens);
      } else {
        for (std::string& s : sub) tokens->push_back(std::move(s));
      }
    }
  }

 private:
  static void PushUnk(const Vocab& vocab, std::vector<std::string>* tokens) {
    if (vocab.unk_token) tokens->push_back(*vocab.unk_token);
  }

  std::string prefix_;
  size_t max_chars_;
};

}  // namespace

Result<std::unique_ptr<Model>> MakeWordPieceModel(const Json& config, const Vocab& vocab) {
  CAIRN_ASSIGN_OR_RETURN(std::string prefix,
                         GetString(config, "continuing_subword_prefix", "model", "##"));
  CAIRN_ASSIGN_OR_RETURN(int64_t max_chars,
                         GetInt(config, "max_input_chars_per_word", "model", 100));
  if (max_chars < 0) return FieldError("model.max_input_chars_per_word", "must not be negative");
  if (!vocab.unk_token) return FieldError("model.unk_token", "is required by WordPiece");
  return std::unique_ptr<Model>(new WordPieceModel(prefix, static_cast<size_t>(max_chars)));
}

}  // namespace cairn::tokenizer
