// Tokenizer models: BPE (byte-level and SentencePiece-style with byte fallback) and WordPiece
// (internal to the tokenizer). A model turns pre-tokenized pieces into token strings; the
// tokenizer maps those to ids.
#ifndef CAIRN_CORE_TOKENIZER_MODEL_H_
#define CAIRN_CORE_TOKENIZER_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/base/status.h"
#include "core/tokenizer/json_util.h"

namespace cairn::tokenizer {

// The token <-> id tables: the model's vocab with the added tokens laid over it, as the reference
// does (an added token's content maps to the added token's id).
struct Vocab {
  std::unordered_map<std::string, int32_t> token_to_id;
  std::vector<std::string> id_to_token;  // "" where an id has no token
  std::optional<std::string> unk_token;

  const int32_t* Find(std::string_view token) const {
    auto it = token_to_id.find(std::string(token));
    return it == token_to_id.end() ? nullptr : &it->second;
  }
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the token strings for `pieces` (one pre-tokenized section) to *tokens. Every string
  // appended is in the vocab, or is the unk token. `vocab` is the final table (with added tokens).
  virtual void Encode(const std::vector<std::string>& pieces, const Vocab& vocab,
                      std::vector<std::string>* tokens) const = 0;
  // A suffix the decoder turns into spaces (BPE end_of_word_suffix), or "".
  virtual std::string_view end_of_word_suffix() const { return {}; }
};

// Reads model.vocab (token -> id) into *vocab, and builds the model from `config` ("model").
// Added tokens are laid over `vocab` by the caller afterwards; the model only reads the vocab
// during Encode.
Result<std::unique_ptr<Model>> MakeModel(const Json& config, Vocab* vocab);

// Implementations (bpe.cc, wordpiece.cc).
Result<std::unique_ptr<Model>> MakeBpeModel(const Json& config, const Vocab& vocab);
Result<std::unique_ptr<Model>> MakeWordPieceModel(const Json& config, const Vocab& vocab);

}  // namespace cairn::tokenizer

#endif  // CAIRN_CORE_TOKENIZER_MODEL_H_
