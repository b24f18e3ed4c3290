#include "core/safety/term_matcher.h"

#include <algorithm>
#include <string>

#include "core/safety/text_safety_filter.h"

namespace cairn::safety::internal {

Trie::Trie() { nodes_.emplace_back(); }

Status Trie::Add(std::string_view key, uint32_t value) {
  if (key.empty()) return Internal("safety word list: empty key");
  int32_t node = 0;
  for (char c : key) {
    const int k = Index(c);
    if (k < 0) return Internal("safety word list: bad character in key '" + std::string(key) + "'");
    const auto slot = static_cast<size_t>(k);
    if (nodes_[static_cast<size_t>(node)].next[slot] == 0) {
      if (nodes_.size() >= kMaxNodes) return Internal("safety word list: too many trie nodes");
      nodes_[static_cast<size_t>(node)].next[slot] = static_cast<uint16_t>(nodes_.size());
      nodes_.emplace_back();
    }
    node = nodes_[static_cast<size_t>(node)].next[slot];
  }
  pending_.emplace_back(node, value);
  return Status::Ok();
}

void Trie::Finish() {
  std::sort(pending_.begin(), pending_.end());
  values_.clear();
  for (size_t i = 0; i < pending_.size();) {
    Node& n = nodes_[static_cast<size_t>(pending_[i].first)];
    n.values_begin = static_cast<uint32_t>(values_.size());
    const int32_t node = pending_[i].first;
    for (; i < pending_.size() && pending_[i].first == node; ++i) {
      values_.push_back(pending_[i].second);
    }
    n.values_end = static_cast<uint32_t>(values_.size());
  }
  pending_.clear();
  pending_.shrink_to_fit();
}

namespace {

struct State {
  uint32_t i;       // next unit to consume
  int32_t node;
  uint32_t flags;
  uint16_t seg;     // letters since the last separator
  uint16_t letters; // units consumed as plain letters (a match needs one)
  char prev;        // last letter consumed, for repeats
  bool masked;
};

// The readings of a letter-like unit: (character, leet flag).
int Readings(const Unit& u, std::pair<char, uint32_t> out[3]) {
  int n = 0;
  if (u.lit) out[n++] = {u.lit, 0};
  const uint32_t leet = u.alt_ambiguous ? kLeetAmbiguous : kLeet;
  for (char a : u.alt) {
    if (a) out[n++] = {a, leet};
  }
  return n;
}

bool IsLetterLike(const Unit& u) {
  return u.kind == UnitKind::kLetter || u.kind == UnitKind::kDigit || u.kind == UnitKind::kSymbol;
}

// The end of a separator run starting at i (at most 3 units), or i if none is allowed.
uint32_t SkipSeparators(std::span<const Unit> units, uint32_t i, bool* has_space) {
  uint32_t j = i;
  *has_space = false;
  while (j < units.size() && IsSeparator(units[j]) && j - i < 3) {
    *has_space |= units[j].kind == UnitKind::kSpace;
    ++j;
  }
  if (j == units.size() || !IsLetterLike(units[j]) ) return i;
  return j;
}

}  // namespace

void FindTerms(const Trie& trie, std::span<const TermEntry> entries, std::span<const Unit> units,
               std::vector<Candidate>* out) {
  std::vector<State> stack;
  const auto n = static_cast<uint32_t>(units.size());
  for (uint32_t s = 0; s < n; ++s) {
    if (!IsLetterLike(units[s])) continue;
    const bool start_ok = s == 0 || !IsWordChar(units[s - 1]);
    stack.clear();
    stack.push_back({s, 0, 0, 0, 0, 0, false});
    int budget = kMaxStatesPerStart;
    while (!stack.empty() && budget-- > 0) {
      const State st = stack.back();
      stack.pop_back();
      if (st.i > s && st.letters > 0) {
        const bool end_ok = st.i == n || !IsWordChar(units[st.i]);
        const bool spaced = st.flags & kSpaced;
        const bool split = st.flags & (kSpaced | kSplit);
        for (uint32_t t : trie.Values(st.node)) {
          const TermEntry& e = entries[t];
          if ((e.bounds & kBoundStart || split) && !start_ok) continue;
          if ((e.bounds & kBoundEnd || split) && !end_ok) continue;
          if (spaced && st.seg != 1) continue;  // "f u c k", not "f u ck"
          out->push_back({s, st.i, t, st.flags});
        }
      }
      if (st.i == n) continue;
      const Unit& u = units[st.i];
      const uint32_t inner = st.i > s && (u.flags & kAfterInvisible) ? uint32_t{kInvisible} : 0u;
      const uint32_t uflags = (u.flags & ~kAfterInvisible) | inner;
      if (IsLetterLike(u)) {
        std::pair<char, uint32_t> readings[3];
        const int count = Readings(u, readings);
        const int32_t word_break = st.i > s ? trie.Child(st.node, ' ') : -1;
        for (int r = 0; r < count; ++r) {
          const auto [c, leet] = readings[r];
          const uint32_t flags = st.flags | uflags | leet;
          const auto letters = static_cast<uint16_t>(st.letters + (leet == 0 && u.lit >= 'a'));
          if (const int32_t child = trie.Child(st.node, c); child >= 0) {
            stack.push_back({st.i + 1, child, flags, static_cast<uint16_t>(st.seg + 1), letters,
                             c, st.masked});
          }
          if (st.i > s && c == st.prev) {
            stack.push_back({st.i + 1, st.node, flags | kRepeated, st.seg, letters, c, st.masked});
          }
          if (word_break >= 0) {  // "blowjob" for the key "blow job"
            if (const int32_t child = trie.Child(word_break, c); child >= 0) {
              stack.push_back({st.i + 1, child, flags, 1, letters, c, st.masked});
            }
          }
        }
      } else if (IsSeparator(u) && st.i > s) {
        bool has_space = false;
        const uint32_t j = SkipSeparators(units, st.i, &has_space);
        if (j == st.i) continue;
        if (const int32_t child = trie.Child(st.node, ' '); child >= 0) {
          stack.push_back({j, child, st.flags, 0, st.letters, 0, st.masked});
        } else if (has_space) {
          if (st.seg == 1) stack.push_back({j, st.node, st.flags | kSpaced, 0, st.letters, 0, st.masked});
        } else {
          stack.push_back({j, st.node, st.flags | kSplit, 0, st.letters, 0, st.masked});
        }
      } else if (u.kind == UnitKind::kMask && st.i > s && !st.masked) {
        for (char c = 'a'; c <= 'z'; ++c) {
          if (const int32_t child = trie.Child(st.node, c); child >= 0) {
            stack.push_back({st.i + 1, child, st.flags | uflags | kMasked,
                             static_cast<uint16_t>(st.seg + 1), st.letters, c, true});
          }
        }
      }
    }
  }
}

void FindWhitelisted(const Trie& trie, std::span<const Unit> units,
                     std::vector<std::pair<uint32_t, uint32_t>>* out) {
  std::vector<State> stack;
  const auto n = static_cast<uint32_t>(units.size());
  for (uint32_t s = 0; s < n; ++s) {
    if (!IsLetterLike(units[s])) continue;
    stack.clear();
    stack.push_back({s, 0, 0, 0, 0, 0, false});
    int budget = kMaxStatesPerStart;
    while (!stack.empty() && budget-- > 0) {
      const State st = stack.back();
      stack.pop_back();
      if (st.i > s && !trie.Values(st.node).empty()) out->emplace_back(s, st.i);
      if (st.i == n) continue;
      const Unit& u = units[st.i];
      if (IsLetterLike(u)) {
        std::pair<char, uint32_t> readings[3];
        const int count = Readings(u, readings);
        for (int r = 0; r < count; ++r) {
          const char c = readings[r].first;
          if (const int32_t child = trie.Child(st.node, c); child >= 0) {
            stack.push_back({st.i + 1, child, 0, 0, 0, c, false});
          }
          if (st.i > s && c == st.prev) stack.push_back({st.i + 1, st.node, 0, 0, 0, c, false});
        }
      } else if (IsSeparator(u) && st.i > s) {
        // A space in a whitelisted phrase ("kung fu", "sh it") stands for whitespace or a
        // hyphen between words, not for punctuation splitting a word ("sh.it").
        bool has_space = false;
        const uint32_t j = SkipSeparators(units, st.i, &has_space);
        const bool hyphen = j == st.i + 1 && units[st.i].lit == '-';
        const int32_t child = trie.Child(st.node, ' ');
        if (j > st.i && child >= 0 && (has_space || hyphen)) {
          stack.push_back({j, child, 0, 0, 0, 0, false});
        }
      }
    }
  }
}

}  // namespace cairn::safety::internal
