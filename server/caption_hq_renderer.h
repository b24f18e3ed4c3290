// The render workers' JobRenderer for caption-hq, on the server's caption model (image-export:
// server/image_export_renderer.h; RenderersByKind in server/render_workers.h picks one).
//
//   CaptionHqRenderer renderer(model.get(), "");   // or (nullptr, "why there is no model")
//   WorkerPool pool(leases, renderer, options);
//
// caption-hq, "HQ": the payload (server/caption_hq_payload.h) asks for `count` captions; the
// renderer samples them kHqRounds times (at least; up to kMaxHqRounds while too few distinct
// captions came out) with the pack's "final" preset and seeds seed, seed+1, ..., and keeps the
// best `count` of all the candidates (server/caption_rerank.h). The result is CaptionResultJson
// (core/engine/caption_json.h) for the kept captions, provenance naming tier "cloud", backend
// "ort-native-cpu", preset "final" and the first round's seed, plus
// "hq": {"rounds", "candidates", "seeds"}. Job errors: bad_payload (the payload, naming the
// field), no_model (the server has no verified caption model), render_failed (the engine).
// Thread-safe: every worker renders on the one shared model at once.
#ifndef CAIRN_SERVER_CAPTION_HQ_RENDERER_H_
#define CAIRN_SERVER_CAPTION_HQ_RENDERER_H_

#include <atomic>
#include <string>

#include "core/base/status.h"
#include "core/engine/caption_engine.h"
#include "server/caption_hq_payload.h"
#include "server/render_workers.h"

namespace cairn::server {

inline constexpr int kHqRounds = 2, kMaxHqRounds = 4;
inline constexpr char kNoModel[] = "no_model";
inline constexpr char kUnsupportedKind[] = "unsupported_kind";
inline constexpr char kRenderFailed[] = "render_failed";

// The HQ captions for a parsed payload, as the result JSON. kCancelled if `cancel` was set.
Result<std::string> RenderCaptionHq(const engine::CaptionModel& model,
                                    const CaptionHqPayload& payload,
                                    const std::atomic<bool>* cancel);

class CaptionHqRenderer final : public JobRenderer {
 public:
  // model: not owned, may be null (then caption-hq jobs fail with no_model; why
  // is logged at start-up; the device is told only that the server has no caption model).
  explicit CaptionHqRenderer(const engine::CaptionModel* model) : model_(model) {}
  RenderOutput Render(const sync::Lease& lease, const std::atomic<bool>& cancel) override;

 private:
  const engine::CaptionModel* model_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CAPTION_HQ_RENDERER_H_
