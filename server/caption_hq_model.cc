#include "server/caption_hq_model.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace cairn::server {
namespace {

// The manifest's claims, unverified: only for choosing which pack to verify.
Result<model::Manifest> PeekManifest(const std::string& dir) {
  CAIRN_ASSIGN_OR_RETURN(Bytes text,
                         runtime::ReadHostFile(dir + "/manifest.json", model::kMaxManifestBytes));
  return model::ParseManifest(AsChars(text));
}

Result<std::unique_ptr<CaptionHqModel>> Load(const std::string& dir,
                                             const CaptionModelChoice& choice) {
  auto m = std::make_unique<CaptionHqModel>();
  CAIRN_ASSIGN_OR_RETURN(m->pack, runtime::LoadPackDir(dir, choice.trust, model::Workspace{},
                                                       kHqVariant));
  const runtime::LoadedPack& pack = m->pack;
  if (pack.manifest.task != "caption-lm") {
    return Status(StatusCode::kInvalidArgument, "pack " + pack.manifest.id + " in " + dir +
                                                    " is a " + pack.manifest.task +
                                                    " model, not a caption-lm");
  }
  runtime::OrtDecoderOptions opt;
  opt.name = pack.manifest.id;
  opt.intra_op_threads = choice.intra_op_threads;
  CAIRN_ASSIGN_OR_RETURN(m->decoder, runtime::OrtDecoder::Load(pack.File(pack.variant().file),
                                                               pack.variant(), opt));
  engine::ModelInfo info{pack.manifest, pack.variant_name, pack.variant_file().blake2b,
                         kServerTier};
  Result<engine::CaptionModel> model = engine::CaptionModel::Create(
      info, pack.Text(pack.manifest.tokenizer_file), m->decoder.get());
  if (!model.ok()) return model.status().WithContext(dir);
  m->model.emplace(std::move(model).value());
  return m;
}

}  // namespace

Result<std::unique_ptr<CaptionHqModel>> LoadCaptionHqModel(const CaptionModelChoice& choice,
                                                           std::vector<std::string>* skipped) {
  if (choice.models_dir.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "no models directory (--models DIR) to take a caption-lm pack from");
  }
  std::error_code ec;
  std::vector<std::string> dirs;
  for (const auto& e : std::filesystem::directory_iterator(choice.models_dir, ec)) {
    if (e.is_directory(ec) && std::filesystem::exists(e.path() / "manifest.json", ec)) {
      dirs.push_back(e.path().string());
    }
  }
  if (ec) {
    return Status(StatusCode::kNotFound,
                  "cannot list the models directory " + choice.models_dir + ": " + ec.message());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const std::string& dir : dirs) {
    Result<model::Manifest> peek = PeekManifest(dir);
    if (!peek.ok()) {
      if (skipped) skipped->push_back(dir + ": " + peek.status().message());
      continue;
    }
    if (!choice.model_id.empty()) {
      if (peek->id == choice.model_id) return Load(dir, choice);
      continue;
    }
    if (peek->task != "caption-lm") continue;
    if (peek->FindVariant(kHqVariant) == nullptr) {
      if (skipped) skipped->push_back(dir + ": pack " + peek->id + " has no " + kHqVariant);
      continue;
    }
    Result<std::unique_ptr<CaptionHqModel>> loaded = Load(dir, choice);
    if (loaded.ok()) return loaded;
    if (skipped) skipped->push_back(dir + ": " + loaded.status().ToString());
  }
  if (!choice.model_id.empty()) {
    return Status(StatusCode::kNotFound, "no pack with id " + choice.model_id + " in " +
                                             choice.models_dir + " (--caption-model)");
  }
  return Status(StatusCode::kNotFound,
                "no caption-lm pack with a " + std::string(kHqVariant) + " variant in " +
                    choice.models_dir + " verifies with the trusted keys");
}

}  // namespace cairn::server
