#include "server/caption_hq_renderer.h"

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "core/engine/caption_json.h"
#include "server/caption_rerank.h"

namespace cairn::server {

Result<std::string> RenderCaptionHq(const engine::CaptionModel& model,
                                    const CaptionHqPayload& payload,
                                    const std::atomic<bool>* cancel) {
  const engine::CaptionRequest& base = payload.request;
  const int count = base.constraints.count;
  std::vector<Candidate> candidates;
  std::vector<uint64_t> seeds;
  engine::CaptionResult merged;
  double decode_seconds = 0;
  for (int round = 0; round < kMaxHqRounds; ++round) {
    if (round >= kHqRounds && static_cast<int>(Rerank(candidates, base.prompt, base.constraints,
                                                      count)
                                                   .size()) >= count) {
      break;
    }
    engine::CaptionRequest req = base;
    req.seed = base.seed + static_cast<uint64_t>(round);
    engine::GenerateOptions options;
    options.cancel = cancel;
    CAIRN_ASSIGN_OR_RETURN(engine::CaptionResult r, engine::GenerateCaptions(model, req, options));
    seeds.push_back(req.seed);
    if (round == 0) {
      merged.provenance = r.provenance;  // tier, backend, preset, the first seed
      merged.prompt_tokens = r.prompt_tokens;
      merged.prefill_ms = r.prefill_ms;
    }
    merged.finish = r.finish;
    merged.generated_tokens += r.generated_tokens;
    merged.context_truncated = merged.context_truncated || r.context_truncated;
    merged.total_ms += r.total_ms;
    if (r.tokens_per_second > 0) decode_seconds += r.generated_tokens / r.tokens_per_second;
    for (engine::CheckedCaption& c : r.captions) {
      candidates.push_back({std::move(c), static_cast<int>(candidates.size())});
    }
  }
  const int made = static_cast<int>(candidates.size());
  merged.captions = Rerank(std::move(candidates), base.prompt, base.constraints, count);
  if (static_cast<int>(merged.captions.size()) < count) {
    merged.problems.push_back("only " + std::to_string(merged.captions.size()) + " distinct of " +
                              std::to_string(count) + " captions asked for, from " +
                              std::to_string(made) + " candidates");
  }
  if (decode_seconds > 0) merged.tokens_per_second = merged.generated_tokens / decode_seconds;
  nlohmann::json out = engine::CaptionResultJson(merged);
  out["hq"] = {{"rounds", seeds.size()}, {"candidates", made}, {"seeds", seeds}};
  return out.dump();
}

RenderOutput CaptionHqRenderer::Render(const sync::Lease& lease, const std::atomic<bool>& cancel) {
  if (lease.kind != sync::JobKind::kCaptionHq) {
    return RenderOutput::Error(kUnsupportedKind,
                               std::string("the caption renderer does not render ") +
                                   sync::JobKindName(lease.kind) +
                                   " jobs");
  }
  Result<CaptionHqPayload> payload = ParseCaptionHqPayload(lease.payload_json, lease.job_id);
  if (!payload.ok()) return RenderOutput::Error(kBadPayload, payload.status().message());
  if (model_ == nullptr) {
    return RenderOutput::Error(kNoModel,
                               "this server has no verified caption model to render with; "
                               "try again later (its operator is told why at start-up)");
  }
  Result<std::string> result = RenderCaptionHq(*model_, *payload, &cancel);
  if (!result.ok()) {
    return RenderOutput::Error(kRenderFailed, "the captions could not be made: " +
                                                  result.status().message());
  }
  return {std::move(*result), "", ""};
}

}  // namespace cairn::server
