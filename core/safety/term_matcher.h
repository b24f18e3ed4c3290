// Finds listed terms and whitelisted phrases in a text's units. Internal to cairn_safety.
//
// Both lists live in tries over [a-z0-9 ] (a space in a key is an optional word break). From each
// unit the matcher walks the trie depth-first, branching on a unit's readings (itself, its leet
// readings), on repeated letters (stay on the node), on separators (a natural break in the key,
// or spacing/splitting evasion) and on one '*' (any letter). Each walk is capped at
// kMaxStatesPerStart states, so a check is linear in the text whatever the input.
#ifndef CAIRN_CORE_SAFETY_TERM_MATCHER_H_
#define CAIRN_CORE_SAFETY_TERM_MATCHER_H_

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/status.h"
#include "core/safety/text_units.h"
#include "core/safety/wordlists.h"

namespace cairn::safety::internal {

class Trie {
 public:
  static constexpr int kAlphabet = 37;  // a-z, 0-9, ' '
  static constexpr int Index(char c) {
    return c >= 'a' && c <= 'z' ? c - 'a' : c >= '0' && c <= '9' ? 26 + c - '0' : c == ' ' ? 36 : -1;
  }

  Trie();
  // Adds `key` with `value`; kInternal if the key has a character outside the alphabet or the
  // trie would outgrow kMaxNodes.
  Status Add(std::string_view key, uint32_t value);
  void Finish();  // call once after the last Add

  // The child of `node` along `c`, or -1.
  int32_t Child(int32_t node, char c) const {
    const int k = Index(c);
    if (k < 0) return -1;
    const uint16_t next = nodes_[static_cast<size_t>(node)].next[static_cast<size_t>(k)];
    return next == 0 ? -1 : next;  // the root is nobody's child, so 0 means none
  }
  std::span<const uint32_t> Values(int32_t node) const {
    const Node& n = nodes_[static_cast<size_t>(node)];
    return {values_.data() + n.values_begin, n.values_end - n.values_begin};
  }
  size_t node_count() const { return nodes_.size(); }

 private:
  // 16-bit links keep a node at 80 bytes, so the tries (a few thousand nodes) stay in cache.
  static constexpr size_t kMaxNodes = 65535;
  struct Node {
    std::array<uint16_t, kAlphabet> next{};
    uint32_t values_begin = 0;
    uint32_t values_end = 0;
  };
  std::vector<Node> nodes_;
  std::vector<std::pair<int32_t, uint32_t>> pending_;  // (node, value) until Finish()
  std::vector<uint32_t> values_;
};

// A listed term found over units [first, last) with the Evasion bits (and kLatin) it needed.
struct Candidate {
  uint32_t first;
  uint32_t last;
  uint32_t term;  // index into kTerms
  uint32_t flags;
};

inline constexpr int kMaxStatesPerStart = 512;

// Appends every match of a listed term (respecting its boundaries) to *out.
void FindTerms(const Trie& terms, std::span<const TermEntry> entries, std::span<const Unit> units,
               std::vector<Candidate>* out);

// Appends the unit ranges [first, last) of every whitelisted phrase to *out.
void FindWhitelisted(const Trie& whitelist, std::span<const Unit> units,
                     std::vector<std::pair<uint32_t, uint32_t>>* out);

}  // namespace cairn::safety::internal

#endif  // CAIRN_CORE_SAFETY_TERM_MATCHER_H_
