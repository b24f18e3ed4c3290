#include "core/decoding/token_mask.h"

#include <algorithm>
#include <map>
#include <memory>

namespace cairn::decoding {
namespace {

// Classifies token `s` for a JSON string body with `left` continuation bytes (0x80..0xBF)
// pending. kPlain: exactly those continuations, then ordinary characters (no '"', '\\' or
// control byte) in valid UTF-8, the last possibly unfinished; *chars is how many characters it
// starts. kMaybe: like that up to a '"' or '\\' that ends the string or starts an escape, so
// only a walk can tell. kNever: invalid there whatever follows.
enum class Fit { kPlain, kMaybe, kNever };

Fit Classify(const std::string& s, int left, int* chars_out) {
  size_t i = 0;
  for (; left > 0; --left, ++i) {
    if (i == s.size()) return *chars_out = 0, Fit::kPlain;  // all continuations
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80 || b > 0xBF) return Fit::kNever;
  }
  int chars = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    int len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      if (c == '"' || c == '\\') return Fit::kMaybe;
      if (c < 0x20) return Fit::kNever;
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
      return Fit::kNever;
    }
    ++chars;
    for (int k = 1; k < len; ++k) {
      if (i + static_cast<size_t>(k) >= s.size()) return *chars_out = chars, Fit::kPlain;
      const auto b = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return Fit::kNever;
    }
    i += static_cast<size_t>(len);
  }
  *chars_out = chars;
  return Fit::kPlain;
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
  std::vector<int32_t> all;
  std::vector<int32_t> others[4];
  for (PlainSet& p : m.plain_) {
    p.upto.assign(kShortChars + 1, std::vector<uint64_t>(m.words(), 0));
  }
  for (size_t i = 0; i < token_bytes.size(); ++i) {
    const std::string& t = token_bytes[i];
    if (t.empty()) continue;
    const auto id = static_cast<int32_t>(i);
    all.push_back(id);
    for (int left = 0; left < 4; ++left) {
      PlainSet& p = m.plain_[left];
      int chars = 0;
      switch (Classify(t, left, &chars)) {
        case Fit::kPlain:
          if (chars <= kShortChars) {
            for (int c = chars; c <= kShortChars; ++c) {
              p.upto[static_cast<size_t>(c)][i / 64] |= uint64_t{1} << (i % 64);
            }
          } else {
            p.long_ids.push_back(id);
            p.long_chars.push_back(static_cast<uint16_t>(std::min(chars, 65535)));
          }
          break;
        case Fit::kMaybe:
          others[left].push_back(id);  // only a walk can tell
          break;
        case Fit::kNever:
          break;
      }
    }
  }
  m.all_ = Trie::Build(token_bytes, all);
  for (int left = 0; left < 4; ++left) m.plain_[left].others = Trie::Build(token_bytes, others[left]);
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
  int remaining = 0, left = 0;
  if (matcher.InPlainStringBody(&remaining, &left) && left >= 0 && left < 4) {
    const PlainSet& p = plain_[left];
    const auto& base = p.upto[static_cast<size_t>(std::clamp(remaining, 0, kShortChars))];
    std::copy(base.begin(), base.end(), allowed->begin());
    for (size_t i = 0; i < p.long_ids.size(); ++i) {
      if (p.long_chars[i] <= remaining) {
        const auto id = static_cast<uint32_t>(p.long_ids[i]);
        (*allowed)[id / 64] |= uint64_t{1} << (id % 64);
      }
    }
    Walk(p.others, 0, matcher, allowed->data());
  } else {
    Walk(all_, 0, matcher, allowed->data());
  }
  return matcher.complete();
}

}  // namespace cairn::decoding
