#include "core/engine/caption_engine.h"

#include <algorithm>
#include <optional>

#include "core/decoding/json_schema.h"

namespace cairn::engine {

namespace {

// The end-of-turn tokens of each chat format, and the plain end-of-text tokens.
std::vector<std::string> EosTokens(prompt::ChatFormat f) {
  switch (f) {
    case prompt::ChatFormat::kChatML:
      return {"<|im_end|>", "<|endoftext|>"};
    case prompt::ChatFormat::kLlama3:
      return {"<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"};
    case prompt::ChatFormat::kNone:
      break;
  }
  return {"<|endoftext|>", "</s>", "<eos>"};
}

std::string JsonQuoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Result<CaptionModel> CaptionModel::Create(ModelInfo info, std::string_view tokenizer_json,
                                          runtime::DecoderRuntime* runtime) {
  if (runtime == nullptr) return Status(StatusCode::kInvalidArgument, "no runtime");
  CAIRN_ASSIGN_OR_RETURN(CaptionModel m,
                         CreateForHost(std::move(info), tokenizer_json, runtime->vocab_size()));
  m.runtime_ = runtime;
  return m;
}

Result<CaptionModel> CaptionModel::CreateForHost(ModelInfo info, std::string_view tokenizer_json,
                                                 int vocab_size) {
  const std::string& id = info.manifest.id;
  if (vocab_size <= 0) {
    return Status(StatusCode::kInvalidArgument, "model " + id + ": the logits' width must be > 0");
  }
  Result<Tokenizer> tok = Tokenizer::FromJson(tokenizer_json);
  if (!tok.ok()) return tok.status().WithContext("model " + id);
  CaptionModel m(std::move(info), std::move(tok).value());
  CAIRN_ASSIGN_OR_RETURN(m.chat_format_, prompt::ParseChatFormat(m.info_.manifest.chat_format));

  for (const std::string& t : EosTokens(m.chat_format_)) {
    if (auto tid = m.tokenizer_.TokenToId(t)) m.eos_ids_.push_back(*tid);
  }
  if (auto eos = m.tokenizer_.special_ids().eos;
      eos && std::find(m.eos_ids_.begin(), m.eos_ids_.end(), *eos) == m.eos_ids_.end()) {
    m.eos_ids_.push_back(*eos);
  }
  if (m.eos_ids_.empty()) {
    return Status(StatusCode::kUnsupported,
                  "model " + id + ": its tokenizer has no end-of-turn token for chat format '" +
                      m.info_.manifest.chat_format + "'");
  }

  const int vocab = vocab_size;
  std::vector<std::string> bytes = m.tokenizer_.TokenBytes();
  if (static_cast<int>(bytes.size()) > vocab) {
    return Status(StatusCode::kFailedPrecondition,
                  "model " + id + ": the tokenizer has " + std::to_string(bytes.size()) +
                      " tokens but the model's logits only " + std::to_string(vocab));
  }
  // Special tokens are control, not text: blanked, they can never be sampled inside a caption
  // (EOS is allowed by the generation step machine once the JSON is complete). Padding rows
  // the model has beyond the tokenizer's vocabulary are blank too.
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (m.tokenizer_.IsSpecial(static_cast<int32_t>(i))) bytes[i].clear();
  }
  bytes.resize(static_cast<size_t>(vocab));
  m.masker_ = std::make_shared<const decoding::TokenMasker>(decoding::TokenMasker::Build(bytes));
  m.token_bytes_ = std::make_shared<const std::vector<std::string>>(std::move(bytes));
  CAIRN_ASSIGN_OR_RETURN(safety::TextSafetyFilter filter, safety::TextSafetyFilter::Create());
  m.safety_ = std::make_shared<const safety::TextSafetyFilter>(std::move(filter));
  return m;
}

std::string CaptionSchemaJson(const caption::Constraints& c) {
  return R"({"type":"object","properties":{"captions":{"type":"array","minItems":)" +
         std::to_string(c.count) + R"(,"maxItems":)" + std::to_string(c.count) +
         R"(,"items":{"type":"string","maxLength":)" + std::to_string(c.max_chars) +
         R"(,"pattern":"^[^\\[\\]{}]*$"}}},"required":["captions"]})";
}

std::string CaptionOutputFormat(const caption::Constraints& c) {
  std::string s = "JSON {\"captions\": [" + std::to_string(c.count) + " strings]}; each at most " +
                  std::to_string(c.max_chars) + " characters";
  if (c.emoji_required) s += ", with an emoji";
  if (c.max_hashtags >= 0) s += ", at most " + std::to_string(c.max_hashtags) + " hashtags";
  if (!c.banned.empty()) {
    s += ", never using: ";
    for (size_t i = 0; i < c.banned.size(); ++i) s += (i ? ", " : "") + JsonQuoted(c.banned[i]);
  }
  return s;
}

namespace {

double Ms(const Clock& clock, int64_t since_ns) {
  return static_cast<double>(clock.MonotonicNanos() - since_ns) / 1e6;
}

}  // namespace

struct CaptionSession::State {
  const CaptionModel* model = nullptr;
  CaptionRequest request;
  const Clock* clock = nullptr;
  decoding::Schema schema;
  std::optional<generation::Generation> generation;
  CaptionResult result;
  int64_t start_ns = 0;
  int64_t decode_start_ns = 0;
};

CaptionSession::CaptionSession(std::unique_ptr<State> state) : state_(std::move(state)) {}
CaptionSession::~CaptionSession() = default;

Result<std::unique_ptr<CaptionSession>> CaptionSession::Start(const CaptionModel& model,
                                                              const CaptionRequest& request,
                                                              const Clock* clock) {
  const caption::Constraints& c = request.constraints;
  if (c.count < 1 || c.count > 10) {
    return Status(StatusCode::kInvalidArgument, "count must be 1 to 10 captions");
  }
  if (c.max_chars < 1 || c.max_chars > 2200) {
    return Status(StatusCode::kInvalidArgument, "max_chars must be 1 to 2200");
  }
  if (request.preset != "low" && request.preset != "preview" && request.preset != "final") {
    return Status(StatusCode::kInvalidArgument,
                  "preset must be low, preview or final (got '" + request.preset + "')");
  }
  auto st = std::make_unique<State>();
  st->model = &model;
  st->request = request;
  st->clock = clock ? clock : &SystemClock::Default();
  st->start_ns = st->clock->MonotonicNanos();
  const Tokenizer& tok = model.tokenizer();

  prompt::CaptionPrompt p = request.prompt;
  if (p.output_format.empty()) p.output_format = CaptionOutputFormat(c);
  auto count_tokens = [&tok](std::string_view text) {
    Result<std::vector<int32_t>> ids = tok.Encode(text, false);
    return ids.ok() ? static_cast<int>(ids->size()) : static_cast<int>(text.size());
  };
  CAIRN_ASSIGN_OR_RETURN(prompt::RenderedPrompt rendered,
                         prompt::RenderCaptionPrompt(p, model.chat_format(),
                                                     request.max_prompt_tokens, count_tokens));
  CAIRN_ASSIGN_OR_RETURN(std::vector<int32_t> prompt_ids, tok.Encode(rendered.text, false));
  CAIRN_ASSIGN_OR_RETURN(st->schema, decoding::Schema::Parse(CaptionSchemaJson(c)));

  const model::Preset preset = model.info().manifest.PresetOrDefault(request.preset);
  generation::GenerationConfig config;
  config.sampling.temperature = request.preset == "low" ? 0.0f : preset.temperature;
  config.sampling.top_k = preset.top_k;
  config.sampling.top_p = preset.top_p;
  config.sampling.repetition_penalty = preset.repetition_penalty;
  config.sampling.seed = request.seed;
  // Enough tokens for the whole document the schema allows (at worst one character a token),
  // so a preset's budget never cuts a valid answer short; EOS ends it as soon as it is complete.
  const int needed = 16 + c.count * (c.max_chars + 8);
  config.max_new_tokens = request.max_new_tokens > 0
                              ? request.max_new_tokens
                              : std::min(std::max(preset.max_new_tokens, needed), 2048);
  config.eos_ids = model.eos_ids();
  // Never past what the model can attend to: positions beyond it fail inside the runtime (a
  // learned position table has no row for them) or degrade silently.
  const int64_t context = model.info().manifest.context_length;
  if (context > 0) {
    const int64_t room = context - static_cast<int64_t>(prompt_ids.size());
    if (room < 1) {
      return Status(StatusCode::kInvalidArgument,
                    "the prompt (" + std::to_string(prompt_ids.size()) + " tokens) fills model " +
                        model.info().manifest.id + "'s context of " + std::to_string(context) +
                        " tokens: shorten the context");
    }
    config.max_new_tokens = static_cast<int>(std::min<int64_t>(config.max_new_tokens, room));
  }

  st->result.prompt_tokens = static_cast<int>(prompt_ids.size());
  st->result.context_truncated = rendered.context_truncated;
  st->generation.emplace(config, std::move(prompt_ids), &model.token_bytes(), &model.masker(),
                         &st->schema);
  return std::unique_ptr<CaptionSession>(new CaptionSession(std::move(st)));
}

bool CaptionSession::done() const { return state_->generation->done(); }

generation::Feeds CaptionSession::NextFeeds() const { return state_->generation->NextFeeds(); }

void CaptionSession::Cancel() { state_->generation->Cancel(); }

Result<std::string> CaptionSession::Consume(std::span<float> logits) {
  State& st = *state_;
  const bool prefill = st.generation->NextFeeds().past_length == 0;
  if (prefill && !st.generation->done()) {
    st.result.prefill_ms = Ms(*st.clock, st.start_ns);
    st.decode_start_ns = st.clock->MonotonicNanos();
  }
  CAIRN_ASSIGN_OR_RETURN(generation::Step step, st.generation->Consume(logits));
  return std::move(step.text);
}

Result<CaptionResult> CaptionSession::Finish(std::string_view backend) {
  State& st = *state_;
  const generation::Generation& g = *st.generation;
  if (!g.done()) {
    return Status(StatusCode::kFailedPrecondition, "the caption session has not finished");
  }
  CaptionResult result = std::move(st.result);
  result.finish = g.finish_reason();
  if (result.finish == generation::FinishReason::kCancelled) {
    return Status(StatusCode::kCancelled, "caption generation was cancelled");
  }
  const caption::Constraints& c = st.request.constraints;
  result.raw_output = g.text();
  result.generated_tokens = static_cast<int>(g.tokens().size());
  result.total_ms = Ms(*st.clock, st.start_ns);
  const double decode_ms = Ms(*st.clock, st.decode_start_ns);
  if (decode_ms > 0 && result.generated_tokens > 1) {
    result.tokens_per_second = (result.generated_tokens - 1) / (decode_ms / 1000.0);
  }

  Result<caption::ParsedCaptions> parsed = caption::ParseCaptions(result.raw_output, c);
  if (parsed.ok()) {
    for (caption::Caption& one : parsed->captions) {
      CheckedCaption out{std::move(one.text), std::move(one.problems), {}};
      CAIRN_ASSIGN_OR_RETURN(out.safety, st.model->safety_filter().Check(out.text));
      result.captions.push_back(std::move(out));
    }
    result.problems = std::move(parsed->problems);
  } else {
    // Constrained decoding makes this rare (e.g. max_new_tokens ran out mid-document); the
    // output is kept for review, never shown as if it were captions.
    result.problems.push_back("the model's output is not a complete caption list (" +
                              std::string(generation::FinishReasonName(result.finish)) +
                              "): " + parsed.status().message());
  }

  const ModelInfo& info = st.model->info();
  const model::Variant* variant = info.manifest.FindVariant(info.variant);
  result.provenance.model_id = info.manifest.id;
  result.provenance.model_version = info.manifest.version;
  result.provenance.model_checksum = info.model_checksum;
  result.provenance.quantization = variant ? variant->precision : "";
  result.provenance.backend = std::string(backend);
  result.provenance.tier = info.tier;
  result.provenance.preset = st.request.preset;
  result.provenance.prompt_schema = prompt::kPromptSchemaVersion;
  result.provenance.seed = st.request.seed;
  return result;
}

Result<CaptionResult> GenerateCaptions(const CaptionModel& model, const CaptionRequest& request,
                                       const GenerateOptions& options) {
  if (model.runtime() == nullptr) {
    return Status(StatusCode::kFailedPrecondition,
                  "model " + model.info().manifest.id +
                      " has no runtime: drive a CaptionSession from the host");
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<CaptionSession> session,
                         CaptionSession::Start(model, request, options.clock));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<runtime::DecoderSequence> seq,
                         model.runtime()->NewSequence());
  while (!session->done()) {
    if (options.cancel && options.cancel->load(std::memory_order_relaxed)) session->Cancel();
    CAIRN_ASSIGN_OR_RETURN(std::span<float> logits, seq->Run(session->NextFeeds()));
    CAIRN_ASSIGN_OR_RETURN(std::string text, session->Consume(logits));
    if (options.on_text && !text.empty()) options.on_text(text);
  }
  return session->Finish(model.runtime()->backend());
}

}  // namespace cairn::engine
