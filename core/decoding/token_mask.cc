#include "core/decoding/token_mask.h"

#include <algorithm>
#include <map>
#include <memory>

#include "core/base/utf8.h"

namespace cairn::decoding {
namespace {

// Classifies token `s` for a JSON string body with `left` continuation bytes (0x80..0xBF)
// pending. kPlain: exactly those continuations, then ordinary characters (no '"', '\\',
// control byte or TokenMasker::kWalkedInStrings) in valid UTF-8, the last possibly unfinished;
// *chars is how many characters it starts. kMaybe: like that up to a '"' or '\\' that ends the
// string or starts an escape, or a character a schema may exclude, so only a walk can tell.
// kNever: invalid there whatever follows.
enum class Fit { kPlain, kMaybe, kNever };

Fit Classify(const std::string& s, int left, int* chars_out) {
  size_t i = 0;
  for (; left > 0; --left, ++i) {
    if (i == s.size()) return *chars_out = 0, Fit::kPlain;  // all continuations
    if (!IsUtf8Continuation(static_cast<uint8_t>(s[i]))) return Fit::kNever;
  }
  int chars = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c == '"' || c == '\\' || TokenMasker::kWalkedInStrings.find(static_cast<char>(c)) !=
                                     std::string_view::npos) {
      return Fit::kMaybe;
    }
    if (c < 0x20) return Fit::kNever;
    const int len = Utf8SequenceLength(s, i);
    if (len == 0) return Fit::kNever;
    ++chars;
    if (len < 0) return *chars_out = chars, Fit::kPlain;  // unfinished at the end: fine
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
  std::string_view excluded;
  // The precomputed sets hold no token with a character of kWalkedInStrings, so they serve any
  // string that excludes only such characters; one that excludes others is walked in full.
  if (matcher.InPlainStringBody(&remaining, &left, &excluded) && left >= 0 && left < 4 &&
      excluded.find_first_not_of(kWalkedInStrings) == std::string_view::npos) {
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
