// The caption model of cairn-server's render workers: a caption-lm pack from the server's
// models directory, verified (LoadPackDir: signature against the trusted keys, licence, every
// byte of the fp32 native variant) and loaded once on native ONNX Runtime, warmed, and shared by
// every worker (OrtDecoder runs different sequences concurrently; CaptionModel is immutable).
//
//   CaptionModelChoice choice{.models_dir = "build/models", .model_id = "", .trust = trust};
//   std::vector<std::string> skipped;   // packs passed over, each with why
//   Result<std::unique_ptr<CaptionHqModel>> m = LoadCaptionHqModel(choice, &skipped);
//
// Choice: with a model_id, the pack whose manifest has that id (its directory name does not
// matter), which must verify (else the error says why); without one, the first pack by directory
// name whose manifest says caption-lm and that verifies with a native-fp32 variant. A pack's
// unsigned manifest is read only to pick it; nothing of it is used before LoadPackDir verified
// it. Errors name the directory and the pack.
#ifndef CAIRN_SERVER_CAPTION_HQ_MODEL_H_
#define CAIRN_SERVER_CAPTION_HQ_MODEL_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/engine/caption_engine.h"
#include "core/model/manifest.h"
#include "core/runtime/ort_decoder.h"
#include "core/runtime/pack_dir.h"

namespace cairn::server {

inline constexpr char kHqVariant[] = "native-fp32";
inline constexpr char kServerTier[] = "cloud";

struct CaptionModelChoice {
  std::string models_dir;
  std::string model_id;  // empty: the first caption-lm pack that verifies
  model::TrustStore trust;
  int intra_op_threads = 1;  // per run; each worker runs its own sequence
};

struct CaptionHqModel {
  runtime::LoadedPack pack;
  std::unique_ptr<runtime::OrtDecoder> decoder;
  std::optional<engine::CaptionModel> model;  // tier "cloud", backend "ort-native-cpu"
};

Result<std::unique_ptr<CaptionHqModel>> LoadCaptionHqModel(const CaptionModelChoice& choice,
                                                           std::vector<std::string>* skipped);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CAPTION_HQ_MODEL_H_
