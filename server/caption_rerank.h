// Reranking caption-hq candidates: the server samples more captions than the device asked for
// (several rounds with different seeds) and keeps the best `count`.
//
//   std::vector<Candidate> all = ...;            // every round's captions, in the order made
//   std::vector<engine::CheckedCaption> best = Rerank(std::move(all), request.prompt, count);
//
// Best first, by (each a tie-break for the one before):
//   1. safety verdict: clean, then needs-review, then blocked (blocked ones are kept only when
//      nothing better is left, flagged as they are; the device decides, as on the phone);
//   2. fewer constraint problems (over length, missing emoji, banned word, ...);
//   3. more distinct context words used (words of 3+ characters from the prompt's context,
//      case-insensitive, a hashtag counts as its word): captions about the photo win;
//   4. length nearest 60% of max_chars: substantial without crowding the limit;
//   5. the order they were made in (deterministic for a seed).
// Exact repeats (case-insensitive, outer spaces ignored) are dropped. Pure; any thread.
#ifndef CAIRN_SERVER_CAPTION_RERANK_H_
#define CAIRN_SERVER_CAPTION_RERANK_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine/caption_engine.h"

namespace cairn::server {

struct Candidate {
  engine::CheckedCaption caption;
  int order = 0;  // position in generation order
};

// The lowercased words of `text` with at least 3 characters (ASCII letters and digits, and any
// non-ASCII UTF-8, which stays inside words).
std::set<std::string> ContextWords(std::string_view text);

// How many of `context_words` appear in `caption`.
int ContextWordsUsed(std::string_view caption, const std::set<std::string>& context_words);

std::vector<engine::CheckedCaption> Rerank(std::vector<Candidate> candidates,
                                           const prompt::CaptionPrompt& prompt,
                                           const caption::Constraints& constraints, int count);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CAPTION_RERANK_H_
