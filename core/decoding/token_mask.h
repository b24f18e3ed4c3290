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
// every token is allowed: those made only of ordinary characters (no quote, backslash, control
// byte or kWalkedInStrings; valid UTF-8, possibly finishing or starting a character across
// tokens) are
// precomputed as bit sets, one per UTF-8 state, that are copied in; only the others are walked,
// in much smaller tries.
#ifndef CAIRN_CORE_DECODING_TOKEN_MASK_H_
#define CAIRN_CORE_DECODING_TOKEN_MASK_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/decoding/json_matcher.h"

namespace cairn::decoding {

class TokenMasker {
 public:
  // token_bytes[i]: what token i decodes to. Empty entries (special tokens) are never allowed.
  static TokenMasker Build(const std::vector<std::string>& token_bytes);

  // Characters that a string's schema may exclude (json_schema.h, "pattern") at no cost:
  // tokens holding one are always walked inside a string, never taken from the precomputed
  // sets. JSON's brackets: a caption must not carry a half-closed document's debris.
  static constexpr std::string_view kWalkedInStrings = "[]{}";

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

  // For each number of continuation bytes pending (0..3) in a plain string: the tokens made of
  // those continuations and then ordinary characters (the last possibly unfinished), and a trie
  // of the other tokens that could start there.
  static constexpr int kShortChars = 16;
  struct PlainSet {
    // upto[c]: the plain tokens that start at most c characters, for c <= kShortChars.
    std::vector<std::vector<uint64_t>> upto;
    // The rare longer ones, checked one by one.
    std::vector<int32_t> long_ids;
    std::vector<uint16_t> long_chars;
    Trie others;
  };

  size_t vocab_size_ = 0;
  Trie all_;
  PlainSet plain_[4];
};

}  // namespace cairn::decoding

#endif  // CAIRN_CORE_DECODING_TOKEN_MASK_H_
