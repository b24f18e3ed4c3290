// Tokenizer::Impl: the loaded pipeline (internal; tokenizer.cc builds it, streaming uses it).
#ifndef CAIRN_CORE_TOKENIZER_TOKENIZER_IMPL_H_
#define CAIRN_CORE_TOKENIZER_TOKENIZER_IMPL_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/tokenizer/decoder.h"
#include "core/tokenizer/model.h"
#include "core/tokenizer/normalizer.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/tokenizer.h"

namespace cairn {

namespace tokenizer {

struct AddedToken {
  std::string content;
  int32_t id;
  bool single_word, lstrip, rstrip, normalized, special;
};

// Finds added tokens in text: at each position the longest token that starts there, scanning
// left to right (the reference's DictionarySplitter).
class AddedTokenTrie {
 public:
  void Insert(const std::string& content, int token_index);
  // Splits `text` into alternating plain text and token matches; *token_of[i] is the added
  // token index for piece i, or -1 for plain text.
  void Split(std::string_view text, const std::vector<AddedToken>& tokens,
             std::vector<std::string>* pieces, std::vector<int>* token_of) const;
  bool empty() const { return ends_.size() <= 1; }

 private:
  std::unordered_map<uint64_t, int> children_;  // (node << 8 | byte) -> node
  std::vector<int> ends_{-1};                   // per node: added token index or -1
};

// One post-processing step (TemplateProcessing, BertProcessing, RobertaProcessing; ByteLevel
// is a no-op and is not stored).
struct PostStep {
  std::vector<std::string> before, after;  // special token strings around the sequence
};

}  // namespace tokenizer

struct Tokenizer::Impl {
  std::unique_ptr<tokenizer::Normalizer> normalizer;
  std::unique_ptr<tokenizer::PreTokenizer> pre_tokenizer;
  std::unique_ptr<tokenizer::Model> model;
  std::unique_ptr<tokenizer::Decoder> decoder;
  std::vector<tokenizer::PostStep> post;
  tokenizer::Vocab vocab;
  std::vector<tokenizer::AddedToken> added;
  std::unordered_map<std::string, int> added_by_text;  // content and normalized content -> index
  std::unordered_set<std::string> added_contents;
  std::unordered_set<std::string> special_contents;
  std::vector<bool> is_special;  // by id
  tokenizer::AddedTokenTrie unnormalized_trie, normalized_trie;
  SpecialTokenIds special_ids;
  std::vector<std::string> token_bytes;

  // The token string for `id`, or an error naming `position`.
  Result<const std::string*> TokenFor(int32_t id, size_t position) const;
  // The raw bytes token `id` contributes, first in its sequence or after others.
  std::string BytesInContext(int32_t id, bool first) const;
};

}  // namespace cairn

#endif  // CAIRN_CORE_TOKENIZER_TOKENIZER_IMPL_H_
