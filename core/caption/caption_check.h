// Model output is untrusted data. ParseCaptions turns a caption model's output into captions
// (text only: it is never rendered as HTML anywhere) and checks each against the creator's
// constraints, saying exactly what is wrong with the ones that fail.
//
// Accepted shapes: {"captions": ["...", ...]} (what the constrained decoder produces) or a bare
// JSON array of strings. Control characters other than newline are removed from captions;
// invalid UTF-8 is an error.
#ifndef CAIRN_CORE_CAPTION_CAPTION_CHECK_H_
#define CAIRN_CORE_CAPTION_CAPTION_CHECK_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace cairn::caption {

struct Constraints {
  int count = 3;              // how many captions were asked for
  int max_chars = 220;        // per caption, in code points
  bool emoji_required = false;
  int max_hashtags = 10;
  std::vector<std::string> banned;  // words or brand names, matched case-insensitively as words
};

struct Caption {
  std::string text;
  std::vector<std::string> problems;  // empty: it meets every constraint
  bool ok() const { return problems.empty(); }
};

struct ParsedCaptions {
  std::vector<Caption> captions;
  std::vector<std::string> problems;  // about the set (e.g. too few)
};

Result<ParsedCaptions> ParseCaptions(std::string_view model_output, const Constraints& c);

// Helpers, exposed for tests and the safety filter.
int CountCodePoints(std::string_view utf8);
bool ContainsEmoji(std::string_view utf8);
std::vector<std::string> Hashtags(std::string_view text);

}  // namespace cairn::caption

#endif  // CAIRN_CORE_CAPTION_CAPTION_CHECK_H_
