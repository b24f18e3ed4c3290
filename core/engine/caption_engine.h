// CaptionEngine: one request for captions, end to end, on any synchronous DecoderRuntime.
//
//   CAIRN_ASSIGN_OR_RETURN(CaptionModel model, CaptionModel::Create(pack_info, tokenizer_json,
//                                                                   runtime.get()));
//   CaptionRequest req;
//   req.prompt = {"Write 3 Instagram captions", "beach at sunset; sea, sky", "warm, short", ""};
//   req.constraints.count = 3;
//   CAIRN_ASSIGN_OR_RETURN(CaptionResult r, GenerateCaptions(model, req, on_text));
//   for (const auto& c : r.captions) show_as_text(c.text, c.problems);   // never as HTML
//   store(r.provenance);
//
// The steps: the 4-part prompt is rendered in the model's chat format within its token budget
// (prompt.h); the model answers under a JSON schema ({"captions": [count strings of at most
// max_chars]}) so the output always parses (decoding/token_mask.h); the captions are parsed and
// checked against the creator's constraints (caption/caption_check.h) and by the text-safety
// filter (safety/text_safety_filter.h), which flags, never drops; the result carries its
// provenance. Greedy presets ("low") are deterministic; sampled ones are for a seed.
//
// Threading: a CaptionModel is immutable after Create and may serve several threads at once if
// its runtime can; GenerateCaptions keeps its state on the stack.
#ifndef CAIRN_CORE_ENGINE_CAPTION_ENGINE_H_
#define CAIRN_CORE_ENGINE_CAPTION_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/caption/caption_check.h"
#include "core/decoding/token_mask.h"
#include "core/generation/generation.h"
#include "core/model/manifest.h"
#include "core/prompt/prompt.h"
#include "core/provenance/provenance.h"
#include "core/runtime/decoder_runtime.h"
#include "core/safety/text_safety_filter.h"
#include "core/tokenizer/tokenizer.h"

namespace cairn::engine {

// What the host knows about the model it loaded, for provenance.
struct ModelInfo {
  model::Manifest manifest;
  std::string variant;         // the variant that was loaded
  std::string model_checksum;  // BLAKE2b-256 of that variant's file (from the verified manifest)
  std::string tier = "device";
};

class CaptionModel {
 public:
  // Builds the tokenizer and the token masker (special tokens can never be sampled inside a
  // caption). The runtime is not owned and must outlive the model.
  static Result<CaptionModel> Create(ModelInfo info, std::string_view tokenizer_json,
                                     runtime::DecoderRuntime* runtime);
  // For hosts that run the model themselves and drive a CaptionSession (the browser's ONNX
  // Runtime Web): no runtime, only the width of the model's logits.
  static Result<CaptionModel> CreateForHost(ModelInfo info, std::string_view tokenizer_json,
                                            int vocab_size);

  const ModelInfo& info() const { return info_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  prompt::ChatFormat chat_format() const { return chat_format_; }
  const std::vector<int32_t>& eos_ids() const { return eos_ids_; }
  runtime::DecoderRuntime* runtime() const { return runtime_; }  // nullptr from CreateForHost
  const std::vector<std::string>& token_bytes() const { return *token_bytes_; }
  const decoding::TokenMasker& masker() const { return *masker_; }
  const safety::TextSafetyFilter& safety_filter() const { return *safety_; }

 private:
  CaptionModel(ModelInfo info, Tokenizer tok) : info_(std::move(info)), tokenizer_(std::move(tok)) {}
  ModelInfo info_;
  Tokenizer tokenizer_;
  prompt::ChatFormat chat_format_ = prompt::ChatFormat::kChatML;
  std::vector<int32_t> eos_ids_;
  std::shared_ptr<const std::vector<std::string>> token_bytes_;
  std::shared_ptr<const decoding::TokenMasker> masker_;
  std::shared_ptr<const safety::TextSafetyFilter> safety_;
  runtime::DecoderRuntime* runtime_ = nullptr;
};

struct CaptionRequest {
  prompt::CaptionPrompt prompt;  // an empty output_format gets the engine's JSON format line
  caption::Constraints constraints;
  std::string preset = "preview";  // "low" (greedy), "preview" or "final": the pack's sampling
  uint64_t seed = 0;
  int max_prompt_tokens = 384;
  int max_new_tokens = 0;  // 0: the preset's, raised to what count x max_chars can need
};

struct CheckedCaption {
  std::string text;                   // plain text: render it as text, never as HTML
  std::vector<std::string> problems;  // constraints it misses (empty: meets them all)
  safety::Verdict safety;             // kNeedsReview / kBlocked come with reasons
  bool ok() const { return problems.empty() && safety.clean(); }
};

struct CaptionResult {
  std::vector<CheckedCaption> captions;
  std::vector<std::string> problems;  // about the set
  Provenance provenance;
  std::string raw_output;  // the model's text, exactly (untrusted)
  generation::FinishReason finish = generation::FinishReason::kNone;
  int prompt_tokens = 0;
  int generated_tokens = 0;
  bool context_truncated = false;
  double prefill_ms = 0;
  double total_ms = 0;
  double tokens_per_second = 0;  // generated tokens over decode time
};

// The JSON schema the answer is constrained to.
std::string CaptionSchemaJson(const caption::Constraints& c);
// The prompt's OutputFormat line for these constraints (the model is trained on exactly this:
// models/recipe/caption_corpus.py output_format must stay in step).
std::string CaptionOutputFormat(const caption::Constraints& c);

struct GenerateOptions {
  std::function<void(std::string_view)> on_text;  // streamed output (complete UTF-8)
  const std::atomic<bool>* cancel = nullptr;       // set from another thread to stop
  const Clock* clock = nullptr;                    // default: SystemClock
};

// Errors: kInvalidArgument for a bad request (e.g. count out of 1..10), kCancelled, and the
// runtime's errors. A finished generation whose captions fail constraints is not an error:
// each caption says what is wrong with it. Needs a model made with a runtime.
Result<CaptionResult> GenerateCaptions(const CaptionModel& model, const CaptionRequest& request,
                                       const GenerateOptions& options = {});

// The same request as a step machine, for a host whose model runs asynchronously (ONNX Runtime
// Web awaits): GenerateCaptions is this loop with a synchronous runtime.
//
//   CAIRN_ASSIGN_OR_RETURN(auto s, CaptionSession::Start(model, request));
//   while (!s->done()) {
//     logits = await host.run(s->NextFeeds());      // the host keeps the KV cache
//     CAIRN_ASSIGN_OR_RETURN(std::string text, s->Consume(logits));
//     stream(text);
//   }
//   CAIRN_ASSIGN_OR_RETURN(CaptionResult r, s->Finish("ort-web-wasm"));
//
// The model must outlive the session. Not thread-safe.
class CaptionSession {
 public:
  // Validates the request (kInvalidArgument) and renders and tokenizes the prompt.
  static Result<std::unique_ptr<CaptionSession>> Start(const CaptionModel& model,
                                                       const CaptionRequest& request,
                                                       const Clock* clock = nullptr);
  ~CaptionSession();

  bool done() const;
  generation::Feeds NextFeeds() const;
  // The last position's logits (vocab_size values; may be modified in place). Returns the text
  // this step completed (complete UTF-8, possibly empty).
  Result<std::string> Consume(std::span<float> logits);
  // The next Consume ends the session as cancelled.
  void Cancel();
  // After done(): the parsed, checked captions with provenance naming `backend`, the backend
  // that actually ran. kCancelled if the session was cancelled.
  Result<CaptionResult> Finish(std::string_view backend);

 private:
  struct State;
  explicit CaptionSession(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace cairn::engine

#endif  // CAIRN_CORE_ENGINE_CAPTION_ENGINE_H_
