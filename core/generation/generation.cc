#include "core/generation/generation.h"

#include <algorithm>

#include "core/base/utf8.h"

namespace cairn::generation {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kNone: return "none";
    case FinishReason::kEos: return "eos";
    case FinishReason::kStop: return "stop";
    case FinishReason::kMaxTokens: return "max_tokens";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kNoAllowedToken: return "no_allowed_token";
  }
  return "?";
}

Generation::Generation(const GenerationConfig& config, std::vector<int32_t> prompt,
                       const std::vector<std::string>* token_bytes,
                       const decoding::TokenMasker* masker, const decoding::Schema* schema)
    : config_(config),
      prompt_(std::move(prompt)),
      token_bytes_(token_bytes),
      masker_(masker && schema ? masker : nullptr),
      sampler_(config.sampling) {
  if (masker_) matcher_.emplace(schema);
  if (config_.max_new_tokens <= 0) finish_ = FinishReason::kMaxTokens;
}

Feeds Generation::NextFeeds() const {
  Feeds f;
  if (generated_.empty()) {
    f.input_ids.assign(prompt_.begin(), prompt_.end());
    f.past_length = 0;
  } else {
    f.input_ids = {generated_.back()};
    f.past_length = static_cast<int64_t>(prompt_.size() + generated_.size() - 1);
  }
  return f;
}

// Emits raw output from emitted_bytes_ up to `end` as valid UTF-8: invalid bytes become U+FFFD;
// a character cut off at the end waits for the next token (or, at the end, is dropped).
std::string Generation::TakeText(bool final) {
  size_t end = raw_.size();
  if (!final) {
    // Hold back a tail that could still become a stop sequence.
    for (const std::string& stop : config_.stop_sequences) {
      if (stop.empty()) continue;
      for (size_t k = std::min(stop.size() - 1, raw_.size()); k > 0; --k) {
        if (raw_.compare(raw_.size() - k, k, stop, 0, k) == 0) {
          end = std::min(end, raw_.size() - k);
          break;
        }
      }
    }
  }
  std::string out;
  size_t i = emitted_bytes_;
  while (i < end) {
    const int len = Utf8SequenceLength(std::string_view(raw_).substr(0, end), i);
    if (len < 0) {
      if (!final) break;  // wait for the rest of the character
      i = end;            // the output ended inside a character: drop it
    } else if (len == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(raw_, i, static_cast<size_t>(len));
      i += static_cast<size_t>(len);
    }
  }
  emitted_bytes_ = i;
  emitted_ += out;
  return out;
}

Step Generation::Finish(FinishReason reason, int32_t token) {
  finish_ = reason;
  Step s;
  s.token = token;
  s.text = TakeText(/*final=*/true);
  s.finished = reason;
  return s;
}

Result<Step> Generation::Consume(std::span<float> logits) {
  if (done()) return FailedPrecondition("generation already finished");
  const size_t vocab = token_bytes_->size();
  if (logits.size() != vocab) {
    return InvalidArgument("logits have " + std::to_string(logits.size()) +
                           " values; the vocabulary has " + std::to_string(vocab));
  }
  if (cancelled_) return Finish(FinishReason::kCancelled, -1);

  std::span<const uint64_t> allowed;
  std::vector<int32_t> extra;
  if (matcher_) {
    const bool complete = masker_->Mask(*matcher_, &allowed_);
    for (int32_t eos : config_.eos_ids) {  // end-of-sequence only through `extra`, when complete
      const auto u = static_cast<size_t>(eos);
      if (u / 64 < allowed_.size()) allowed_[u / 64] &= ~(uint64_t{1} << (u % 64));
    }
    allowed = allowed_;
    if (complete) extra = config_.eos_ids;
    if (complete && (config_.eos_ids.empty() || matcher_->finished())) {
      return Finish(FinishReason::kEos, -1);
    }
  }
  const int32_t token = sampler_.Sample(logits, allowed, extra, generated_);
  if (token < 0) return Finish(FinishReason::kNoAllowedToken, -1);
  generated_.push_back(token);
  if (std::find(config_.eos_ids.begin(), config_.eos_ids.end(), token) != config_.eos_ids.end()) {
    return Finish(FinishReason::kEos, token);
  }
  const std::string& bytes = (*token_bytes_)[static_cast<size_t>(token)];
  if (matcher_ && !matcher_->Feed(bytes)) {
    return Internal("sampled token " + std::to_string(token) + " outside the constraint mask");
  }
  const size_t search_from =
      emitted_bytes_;  // a stop sequence may start in text not yet emitted
  raw_ += bytes;
  for (const std::string& stop : config_.stop_sequences) {
    const size_t at = raw_.find(stop, search_from);
    if (!stop.empty() && at != std::string::npos) {
      raw_.resize(at);
      return Finish(FinishReason::kStop, token);
    }
  }
  if (static_cast<int>(generated_.size()) >= config_.max_new_tokens) {
    return Finish(FinishReason::kMaxTokens, token);
  }
  Step s;
  s.token = token;
  s.text = TakeText(/*final=*/false);
  return s;
}

}  // namespace cairn::generation
