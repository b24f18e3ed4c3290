// Generation as a step machine: the core decides, the host runs the model.
//
//   Generation g(config, prompt_ids, &token_bytes, &masker, &schema);
//   while (!g.done()) {
//     Feeds f = g.NextFeeds();         // first: the whole prompt; then one token at a time
//     logits = host.Run(f);            // native ORT (sync) or ORT Web (await): the host keeps
//                                      // the KV cache, feeding present.* back as past_key_values.*
//     Result<Step> s = g.Consume(logits);   // the last position's logits only
//     stream(s->text);                 // complete UTF-8 only; a stop sequence is never shown
//   }
//
// Decoder-only models in Hugging Face Optimum's layout take input_ids, attention_mask (all ones,
// past_length + input length) and position_ids (past_length ..). Sampling: sampler.h. With a
// TokenMasker and Schema, only tokens that keep the output a valid prefix of a conforming JSON
// document can be sampled, and end-of-sequence only once it is complete.
// Deterministic for a seed. Not thread-safe; one per candidate (n candidates: n objects with
// seeds seed, seed + 1, ...).
#ifndef CAIRN_CORE_GENERATION_GENERATION_H_
#define CAIRN_CORE_GENERATION_GENERATION_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/decoding/json_matcher.h"
#include "core/decoding/token_mask.h"
#include "core/generation/sampler.h"

namespace cairn::generation {

struct GenerationConfig {
  SamplingParams sampling;
  int max_new_tokens = 128;
  std::vector<std::string> stop_sequences;  // matched on the output text; never emitted
  std::vector<int32_t> eos_ids;
};

struct Feeds {
  std::vector<int64_t> input_ids;
  int64_t past_length = 0;  // tokens already in the host's KV cache
};

enum class FinishReason { kNone, kEos, kStop, kMaxTokens, kCancelled, kNoAllowedToken };
const char* FinishReasonName(FinishReason r);

struct Step {
  int32_t token = -1;  // the sampled token; -1 if the step ended generation without one
  std::string text;    // text completed by this step (UTF-8, possibly empty)
  FinishReason finished = FinishReason::kNone;
};

class Generation {
 public:
  Generation(const GenerationConfig& config, std::vector<int32_t> prompt,
             const std::vector<std::string>* token_bytes,
             const decoding::TokenMasker* masker = nullptr,
             const decoding::Schema* schema = nullptr);

  Feeds NextFeeds() const;
  // kInvalidArgument if logits do not have one value per token; kFailedPrecondition when done.
  Result<Step> Consume(std::span<float> last_logits);
  // The next Consume (or now, if called between steps) ends generation as cancelled.
  void Cancel() { cancelled_ = true; }

  bool done() const { return finish_ != FinishReason::kNone; }
  FinishReason finish_reason() const { return finish_; }
  const std::vector<int32_t>& tokens() const { return generated_; }
  const std::string& text() const { return emitted_; }  // everything streamed so far

 private:
  std::string TakeText(bool final);
  Step Finish(FinishReason reason, int32_t token);

  GenerationConfig config_;
  std::vector<int32_t> prompt_;
  const std::vector<std::string>* token_bytes_;
  const decoding::TokenMasker* masker_;
  std::optional<decoding::JsonMatcher> matcher_;
  Sampler sampler_;
  std::vector<int32_t> generated_;
  std::vector<uint64_t> allowed_;
  std::string raw_;      // all output bytes
  size_t emitted_bytes_ = 0;
  std::string emitted_;
  bool cancelled_ = false;
  FinishReason finish_ = FinishReason::kNone;
};

}  // namespace cairn::generation

#endif  // CAIRN_CORE_GENERATION_GENERATION_H_
