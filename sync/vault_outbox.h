// VaultOutbox: the host adapter between the sync engine and the Vault's outbox table. It turns
// the engine's Store instructions into committed vault writes, so a job's sync state is as
// durable as the vault (SQLite, synchronous=FULL, encrypted pages).
//
//   VaultOutbox outbox(*vault);
//   OutboxRecord job = outbox.Create(JobKind::kImageExport, Preset::kFinal, payload).value();
//   auto out = engine.Handle(now, JobCreated{job});       // the job is durable before this
//   ...
//   for (auto& i : *out) if (auto* s = std::get_if<Store>(&i)) CAIRN_RETURN_IF_ERROR(outbox.Apply(*s));
//   // after a crash: engine.Handle(now, AppStart{outbox.Unfinished().value(), online});
//
// Apply refuses a write the state machine does not allow from the stored state (a terminal
// job changing, a job moving backwards): kFailedPrecondition, nothing written. Rewriting the
// same state is allowed, so replaying a Store after a crash is harmless.
// Threading: as the Vault (one thread at a time).
#ifndef CAIRN_SYNC_VAULT_OUTBOX_H_
#define CAIRN_SYNC_VAULT_OUTBOX_H_

#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "storage/vault.h"
#include "sync/engine.h"

namespace cairn::sync {

// The vault setting SaveEarlierCaptionResults() leaves once it has run.
inline constexpr char kCaptionAssetsBackfilled[] = "sync.caption_assets_backfilled";

class VaultOutbox {
 public:
  explicit VaultOutbox(storage::Vault& vault) : vault_(vault) {}

  // Commits a new queued job with a fresh idempotency key.
  Result<OutboxRecord> Create(JobKind kind, Preset preset, std::string_view payload_json);
  Result<OutboxRecord> Get(int64_t id);
  Result<std::vector<OutboxRecord>> All();
  Result<std::vector<OutboxRecord>> Unfinished();
  Status Apply(const Store& store);
  // Carries out a SaveRendition: the bytes into the vault's blob store (encrypted), then a
  // "render" asset with the provenance (model_id the renderer, model_version its libvips,
  // model_checksum the rendition's BLAKE2b-256, backend "libvips", tier, preset) and details
  // {"job", "server_job", "rendition", "source", "rendered_at"}. Idempotent: a rendition already
  // saved (the same bytes as a render) returns the existing asset's id. kCorruption if the bytes
  // do not hash to the rendition's blake2b (the engine checked; this is the host's last word).
  Result<int64_t> SaveRendition(const sync::SaveRendition& save);
  // Carries out a SaveCaptionResult: the result JSON into the blob store (encrypted), then a
  // "caption-hq" asset (mime application/json) with the result's provenance (model id, version,
  // checksum, quantization, backend, tier, preset, prompt schema, seed), the job's draft, and
  // details {"job", "server_job", "job_preset", "captions"}. Idempotent: a job that already has
  // its caption-hq asset returns that asset's id. kInvalidArgument, naming the field, for a
  // result that does not parse (sync/caption_hq_result.h); nothing is stored then.
  Result<int64_t> SaveCaptionResult(const sync::SaveCaptionResult& save);
  // Once per vault: saves the result of every done caption-hq job that has no caption-hq asset
  // (jobs finished before results were kept as assets, vault schema 10 and older), then records
  // that it ran (setting kCaptionAssetsBackfilled), so an asset the creator deletes later is
  // never made again. A stored result that does not parse stays on its job only. Returns how
  // many assets it made.
  Result<int> SaveEarlierCaptionResults();

 private:
  storage::Vault& vault_;
};

// Conversions; kCorruption for a stored kind, preset or state this build does not know.
Result<OutboxRecord> RecordFromOutboxJob(const storage::OutboxJob& job);
storage::OutboxJob OutboxJobFromRecord(const OutboxRecord& rec);

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_VAULT_OUTBOX_H_
