#include "sync/vault_outbox.h"

#include <nlohmann/json.hpp>

#include "sync/blob_store.h"
#include "sync/caption_hq_result.h"

namespace cairn::sync {

Result<OutboxRecord> RecordFromOutboxJob(const storage::OutboxJob& job) {
  OutboxRecord r;
  auto kind = ParseJobKind(job.kind);
  auto preset = ParsePreset(job.preset);
  auto state = ParseJobState(job.state);
  if (!kind || !preset || !state) {
    return Corruption("outbox job " + std::to_string(job.id) + " has kind '" + job.kind +
                      "', preset '" + job.preset + "', state '" + job.state +
                      "': one is unknown to this build");
  }
  r.id = job.id;
  r.idempotency_key = job.idempotency_key;
  r.kind = *kind;
  r.preset = *preset;
  r.payload_json = job.payload_json;
  r.state = *state;
  r.attempts = job.attempts;
  r.next_attempt_at_ms = job.next_attempt_at_ms;
  r.last_error = job.last_error;
  r.server_job_id = job.server_job_id;
  r.cancel_requested = job.cancel_requested;
  r.result_json = job.result_json;
  r.source_uploaded = job.source_uploaded;
  r.resubmits = job.resubmits;
  return r;
}

storage::OutboxJob OutboxJobFromRecord(const OutboxRecord& r) {
  storage::OutboxJob j;
  j.id = r.id;
  j.idempotency_key = r.idempotency_key;
  j.kind = JobKindName(r.kind);
  j.preset = PresetName(r.preset);
  j.payload_json = r.payload_json;
  j.state = JobStateName(r.state);
  j.attempts = r.attempts;
  j.next_attempt_at_ms = r.next_attempt_at_ms;
  j.last_error = r.last_error;
  j.server_job_id = r.server_job_id;
  j.cancel_requested = r.cancel_requested;
  j.result_json = r.result_json;
  j.source_uploaded = r.source_uploaded;
  j.resubmits = r.resubmits;
  return j;
}

Result<OutboxRecord> VaultOutbox::Create(JobKind kind, Preset preset,
                                         std::string_view payload_json) {
  CAIRN_ASSIGN_OR_RETURN(storage::OutboxJob job,
                         vault_.EnqueueJob(JobKindName(kind), PresetName(preset), payload_json));
  return RecordFromOutboxJob(job);
}

Result<OutboxRecord> VaultOutbox::Get(int64_t id) {
  CAIRN_ASSIGN_OR_RETURN(storage::OutboxJob job, vault_.GetJob(id));
  return RecordFromOutboxJob(job);
}

namespace {

Result<std::vector<OutboxRecord>> Convert(Result<std::vector<storage::OutboxJob>> jobs) {
  if (!jobs.ok()) return jobs.status();
  std::vector<OutboxRecord> out;
  for (const storage::OutboxJob& j : *jobs) {
    CAIRN_ASSIGN_OR_RETURN(OutboxRecord r, RecordFromOutboxJob(j));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

Result<std::vector<OutboxRecord>> VaultOutbox::All() { return Convert(vault_.ListJobs()); }

Result<std::vector<OutboxRecord>> VaultOutbox::Unfinished() {
  CAIRN_ASSIGN_OR_RETURN(std::vector<OutboxRecord> jobs, Convert(vault_.ListUnfinishedJobs()));
  for (OutboxRecord& r : jobs) {
    if (r.kind == JobKind::kCaptionHq && !r.result_json.empty()) {
      CAIRN_ASSIGN_OR_RETURN(std::optional<storage::Asset> a,
                             vault_.FindJobAsset("caption-hq", r.id));
      r.caption_saved = a.has_value();
      continue;
    }
    if (r.kind != JobKind::kImageExport || r.result_json.empty()) continue;
    Result<ImageExportResult> result = ParseImageExportResult(r.result_json);
    if (!result.ok()) continue;  // the engine fetches the result again
    for (const RenditionInfo& x : result->renditions) {
      CAIRN_ASSIGN_OR_RETURN(std::optional<storage::Asset> a, vault_.FindAsset("render", x.blake2b));
      if (a) r.renditions_saved.push_back(x.blake2b);
    }
  }
  return jobs;
}

Status VaultOutbox::Apply(const Store& store) {
  CAIRN_ASSIGN_OR_RETURN(OutboxRecord current, Get(store.job.id));
  if (current.idempotency_key != store.job.idempotency_key) {
    return FailedPrecondition("outbox job " + std::to_string(store.job.id) +
                              ": the update carries another job's idempotency key");
  }
  if (!IsReachable(current.state, store.job.state)) {
    return FailedPrecondition("outbox job " + std::to_string(store.job.id) + ": " +
                              CheckTransition(current.state, store.job.state).message());
  }
  return vault_.UpdateJob(OutboxJobFromRecord(store.job));
}

Result<int64_t> VaultOutbox::SaveRendition(const sync::SaveRendition& save) {
  const std::string hash = BlobHashOf(save.bytes);
  if (hash != save.rendition.blake2b) {
    return Corruption("rendition " + save.rendition.name + " of job " +
                      std::to_string(save.job_id) + ": its bytes hash to " + hash + ", not " +
                      save.rendition.blake2b);
  }
  CAIRN_ASSIGN_OR_RETURN(std::string stored, vault_.PutBlob(AsBytes(save.bytes)));
  if (stored != hash) return Internal("the vault's blob hash is not BLAKE2b-256 of the bytes");
  CAIRN_ASSIGN_OR_RETURN(std::optional<storage::Asset> existing, vault_.FindAsset("render", hash));
  if (existing) return existing->id;
  storage::AssetInput a;
  a.kind = "render";
  a.mime = save.rendition.content_type;
  a.blob_hash = hash;
  a.bytes = static_cast<int64_t>(save.bytes.size());
  a.width = static_cast<int>(save.rendition.width);
  a.height = static_cast<int>(save.rendition.height);
  a.provenance.model_id = save.result.renderer;
  a.provenance.model_version = save.result.libvips;
  a.provenance.model_checksum = hash;
  a.provenance.backend = "libvips";
  a.provenance.tier = save.result.tier;
  a.provenance.preset = PresetName(save.preset);
  a.job_id = save.job_id;
  a.details = nlohmann::json{{"job", save.job_id},
                             {"server_job", save.server_job_id},
                             {"rendition", save.rendition.name},
                             {"source", save.result.source},
                             {"rendered_at", save.result.rendered_at_ms}}
                  .dump();
  return vault_.AddAsset(a);
}

Result<int64_t> VaultOutbox::SaveCaptionResult(const sync::SaveCaptionResult& save) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<storage::Asset> existing,
                         vault_.FindJobAsset("caption-hq", save.job_id));
  if (existing) return existing->id;
  Result<CaptionHqResult> parsed = ParseCaptionHqResult(save.result_json);
  if (!parsed.ok()) {
    return InvalidArgument("the result of caption-hq job " + std::to_string(save.job_id) +
                           " is not kept: " + parsed.status().message());
  }
  CAIRN_ASSIGN_OR_RETURN(storage::OutboxJob job, vault_.GetJob(save.job_id));
  if (job.kind != JobKindName(JobKind::kCaptionHq)) {
    return InvalidArgument("outbox job " + std::to_string(save.job_id) + " is " + job.kind +
                           ", not caption-hq");
  }
  // The bytes first: an asset row never names a blob that is not there. Killed between the two,
  // the blob is garbage until the next save of the same result finds it (content-addressed).
  CAIRN_ASSIGN_OR_RETURN(std::string hash, vault_.PutBlob(AsBytes(save.result_json)));
  storage::AssetInput a;
  a.kind = "caption-hq";
  a.mime = "application/json";
  a.blob_hash = hash;
  a.bytes = static_cast<int64_t>(save.result_json.size());
  a.draft_id = job.draft_id;
  a.job_id = save.job_id;
  a.provenance = parsed->provenance;
  a.details = nlohmann::json{{"job", save.job_id},
                             {"server_job", save.server_job_id},
                             {"job_preset", PresetName(save.preset)},
                             {"captions", parsed->captions.size()}}
                  .dump();
  return vault_.AddAsset(a);
}

Result<int> VaultOutbox::SaveEarlierCaptionResults() {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> done,
                         vault_.GetSetting(kCaptionAssetsBackfilled));
  if (done) return 0;
  CAIRN_ASSIGN_OR_RETURN(std::vector<storage::OutboxJob> jobs, vault_.ListJobs());
  int made = 0;
  for (const storage::OutboxJob& j : jobs) {
    if (j.kind != JobKindName(JobKind::kCaptionHq) || j.state != JobStateName(JobState::kDone) ||
        j.result_json.empty()) {
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(std::optional<storage::Asset> had,
                           vault_.FindJobAsset("caption-hq", j.id));
    if (had) continue;
    const std::optional<Preset> preset = ParsePreset(j.preset);
    Result<int64_t> saved = SaveCaptionResult(
        {j.id, j.server_job_id, preset.value_or(Preset::kFinal), j.result_json});
    if (saved.ok()) {
      ++made;
    } else if (saved.status().code() != StatusCode::kInvalidArgument) {
      return saved.status();  // storage trouble: tried again at the next start
    }
  }
  CAIRN_RETURN_IF_ERROR(vault_.SetSetting(kCaptionAssetsBackfilled, "1"));
  return made;
}

}  // namespace cairn::sync
