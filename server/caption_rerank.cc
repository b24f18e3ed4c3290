#include "server/caption_rerank.h"

#include <algorithm>
#include <cstdlib>
#include <tuple>

#include "core/caption/caption_check.h"

namespace cairn::server {
namespace {

bool WordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

std::string Normalized(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && (text[b] == ' ' || text[b] == '\n' || text[b] == '\t')) ++b;
  while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\n' || text[e - 1] == '\t')) --e;
  std::string out(text.substr(b, e - b));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::set<std::string> ContextWords(std::string_view text) {
  std::set<std::string> words;
  std::string word;
  auto flush = [&] {
    if (caption::CountCodePoints(word) >= 3) words.insert(word);
    word.clear();
  };
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (!WordByte(c)) {
      flush();
      continue;
    }
    word += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : ch;
  }
  flush();
  return words;
}

int ContextWordsUsed(std::string_view caption, const std::set<std::string>& context_words) {
  int used = 0;
  for (const std::string& w : ContextWords(caption)) used += context_words.count(w) ? 1 : 0;
  return used;
}

std::vector<engine::CheckedCaption> Rerank(std::vector<Candidate> candidates,
                                           const prompt::CaptionPrompt& prompt,
                                           const caption::Constraints& constraints, int count) {
  const std::set<std::string> context = ContextWords(prompt.context);
  const int target = std::max(1, constraints.max_chars * 3 / 5);
  // The sort key: smaller is better.
  using Key = std::tuple<int, size_t, int, int, int>;
  std::vector<std::pair<Key, size_t>> keyed;
  std::set<std::string> seen;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const engine::CheckedCaption& c = candidates[i].caption;
    if (!seen.insert(Normalized(c.text)).second) continue;
    const int length = caption::CountCodePoints(c.text);
    keyed.push_back({Key{static_cast<int>(c.safety.level), c.problems.size(),
                         -ContextWordsUsed(c.text, context), std::abs(length - target),
                         candidates[i].order},
                     i});
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<engine::CheckedCaption> best;
  for (const auto& [key, i] : keyed) {
    if (static_cast<int>(best.size()) >= count) break;
    best.push_back(std::move(candidates[i].caption));
  }
  return best;
}

}  // namespace cairn::server
