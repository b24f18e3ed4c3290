#include "core/decoding/token_mask.h"

#include <algorithm>
#include <map>
#include <memory>

namespace cairn::decoding {
namespace {

// Code points in `s` if it is a run of ordinary JSON string characters (no '"', '\\' or
// control byte) made of whole, valid UTF-8 sequences; -1 otherwise.
int PlainChars(const std::string& s) {
  int chars = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    int len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      if (c < 0x20 || c == '"' || c == '\\') return -1;
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      len = 3;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;
    } else {
      return -1;
    }
    if (i + static_cast<size_t>(len) > s.size()) return -1;
    for (int k = 1; k < len; ++k) {
      const auto b = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return -1;
    }
    i += static_cast<size_t>(len);
    ++chars;
  }
  return chars;
}

}  // namespace

TokenMasker::Trie TokenMasker::Trie::Build(const std::vector<std::string>& bytes,
                                           const std::vector<int32_t>& ids) {
  // A pointer trie first, then flattened breadth-first into arrays.
  struct Tmp {
    std::map<uint8_t, std::unique_ptr<Tmp>> kids;
    std::vector<int32_t> tokens;
  };
  Tmp root;
  for (int32_t id : ids) {
    Tmp* n = &root;
    for (char ch : bytes[static_cast<size_t>(id)]) {
      auto& k = n->kids[static_cast<uint8_t>(ch)];
      if (!k) k = std::make_unique<Tmp>();
      n = k.get();
    }
    n->tokens.push_back(id);
  }
  Trie t;
  std::vector<const Tmp*> order = {&root};
  t.nodes.emplace_back();
  for (size_t i = 0; i < order.size(); ++i) {
    const Tmp* n = order[i];
    Node& out = t.nodes[i];
    out.first_token = static_cast<uint32_t>(t.token_ids.size());
    out.tokens = static_cast<uint32_t>(n->tokens.size());
    t.token_ids.insert(t.token_ids.end(), n->tokens.begin(), n->tokens.end());
    out.first_edge = static_cast<uint32_t>(t.edge_byte.size());
    out.edges = static_cast<uint32_t>(n->kids.size());
    for (const auto& [b, kid] : n->kids) {
      t.edge_byte.push_back(b);
      t.edge_child.push_back(static_cast<uint32_t>(order.size()));
      order.push_back(kid.get());
      t.nodes.emplace_back();
    }
  }
  return t;
}

TokenMasker TokenMasker::Build(const std::vector<std::string>& token_bytes) {
  TokenMasker m;
  m.vocab_size_ = token_bytes.size();
  m.plain_bits_.assign(m.words(), 0);
  std::vector<int32_t> all, special;
  for (size_t i = 0; i < token_bytes.size(); ++i) {
    if (token_bytes[i].empty()) continue;
    const auto id = static_cast<int32_t>(i);
    all.push_back(id);
    const int chars = PlainChars(token_bytes[i]);
    if (chars > 0) {
      m.plain_bits_[i / 64] |= uint64_t{1} << (i % 64);
      m.plain_ids_.push_back(id);
      m.plain_chars_.push_back(static_cast<uint16_t>(std::min(chars, 65535)));
      m.max_plain_chars_ = std::max(m.max_plain_chars_, chars);
    } else {
      special.push_back(id);
    }
  }
  m.all_ = Trie::Build(token_bytes, all);
  m.special_ = Trie::Build(token_bytes, special);
  return m;
}

void TokenMasker::Walk(const Trie& trie, uint32_t node, const JsonMatcher& m,
                       uint64_t* bits) const {
  const Trie::Node& n = trie.nodes[node];
  for (uint32_t e = n.first_edge; e < n.first_edge + n.edges; ++e) {
    JsonMatcher next = m;
    if (!next.Feed(trie.edge_byte[e])) continue;
    const uint32_t child = trie.edge_child[e];
    const Trie::Node& c = trie.nodes[child];
    for (uint32_t t = c.first_token; t < c.first_token + c.tokens; ++t) {
      const auto id = static_cast<uint32_t>(trie.token_ids[t]);
      bits[id / 64] |= uint64_t{1} << (id % 64);
    }
    if (c.edges > 0) Walk(trie, child, next, bits);
  }
}

bool TokenMasker::Mask(const JsonMatcher& matcher, std::vector<uint64_t>* allowed) const {
  allowed->assign(words(), 0);
  int remaining = 0;
  if (matcher.InPlainStringBody(&remaining)) {
    if (remaining >= max_plain_chars_) {
      std::copy(plain_bits_.begin(), plain_bits_.end(), allowed->begin());
    } else {
      for (size_t i = 0; i < plain_ids_.size(); ++i) {
        if (plain_chars_[i] <= remaining) {
          const auto id = static_cast<uint32_t>(plain_ids_[i]);
          (*allowed)[id / 64] |= uint64_t{1} << (id % 64);
        }
      }
    }
    Walk(special_, 0, matcher, allowed->data());
  } else {
    Walk(all_, 0, matcher, allowed->data());
  }
  return matcher.complete();
}

}  // namespace cairn::decoding
