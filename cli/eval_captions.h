// `cairn-cli eval`: caption quality metrics for a caption-lm pack over a prompt set.
#ifndef CAIRN_CLI_EVAL_CAPTIONS_H_
#define CAIRN_CLI_EVAL_CAPTIONS_H_

#include <string>

#include "core/base/status.h"
#include "core/engine/caption_engine.h"

namespace cairn::cli {

struct EvalOptions {
  std::string prompts_file;  // {"prompts": [{task, context, style, count, max_chars, emoji,
                             //   no_emoji, max_hashtags, banned}]}
  std::string preset = "low";
  int limit = 0;        // 0: every prompt
  int show = 5;         // prompts whose outputs are printed verbatim
  uint64_t seed = 1;
};

// Runs every prompt through GenerateCaptions and prints the metrics (a table on stderr, one
// JSON object on stdout): JSON-valid rate, constraint adherence (count, length, emoji, banned
// words, hashtags), context-word use, distinct-2, safety-flag rate, tokens/s.
Status EvalCaptions(const engine::CaptionModel& model, const EvalOptions& options);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_EVAL_CAPTIONS_H_
