// TokenMasker: which tokens of a vocabulary may come next so the output stays a valid prefix
// of a document the JsonMatcher accepts. Works for any vocabulary given each token's bytes.
//
//   TokenMasker masker = TokenMasker::Build(token_bytes);   // once per model
//   JsonMatcher m(&schema);
//   loop: bool eos_ok = masker.Mask(m, &allowed);           // allowed: one bit per token
//         sample a token t with allowed bit set (or EOS if eos_ok); m.Feed(token_bytes[t]);
//
// How it is fast: tokens are kept in a byte trie walked depth-first with the matcher, so whole
// subtrees die at their first rejected byte. Inside a plain string (most of a caption) almost
// every token is allowed: those made only of ordinary characters (no quote, backslash or
// control byte; whole UTF-8 characters) are precomputed as a bit set that is copied in, and only
// the others are walked, in a second, much smaller trie.
#ifndef CAIRN_CORE_DECODING_TOKEN_MASK_H_
#define CAIRN_CORE_DECODING_TOKEN_MASK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/decoding/json_matcher.h"

namespace cairn::decoding {

class TokenMasker {
 public:
  // token_bytes[i]: what token i decodes to. Empty entries (special tokens) are never allowed.
  static TokenMasker Build(const std::vector<std::string>& token_bytes);

  size_t vocab_size() const { return vocab_size_; }
  size_t words() const { return (vocab_size_ + 63) / 64; }

  // Sets *allowed (resized to words()) to the tokens that may follow; returns whether the
  // document is complete, i.e. whether end-of-sequence may be sampled.
  bool Mask(const JsonMatcher& matcher, std::vector<uint64_t>* allowed) const;

 private:
  struct Trie {
    struct Node {
      uint32_t first_edge = 0, edges = 0, first_token = 0, tokens = 0;
    };
    std::vector<Node> nodes;
    std::vector<uint8_t> edge_byte;
    std::vector<uint32_t> edge_child;
    std::vector<int32_t> token_ids;
    static Trie Build(const std::vector<std::string>& bytes, const std::vector<int32_t>& ids);
  };
  void Walk(const Trie& trie, uint32_t node, const JsonMatcher& m, uint64_t* bits) const;

  size_t vocab_size_ = 0;
  Trie all_;
  Trie special_;                      // tokens not in `plain_`
  std::vector<uint64_t> plain_bits_;  // tokens of ordinary string characters only
  std::vector<int32_t> plain_ids_;
  std::vector<uint16_t> plain_chars_;  // code points in each plain token
  int max_plain_chars_ = 0;
};

}  // namespace cairn::decoding

#endif  // CAIRN_CORE_DECODING_TOKEN_MASK_H_
