// SyncEngine: the device side of the HQ job queue, as a sans-I/O state machine. The host feeds
// it events and carries out the instructions it returns, in order; the engine itself never
// touches the network, the disk or a clock, so the same code runs in the PWA's worker, natively,
// and in the seeded simulation (tests/sync/sync_simulation_test.cc).
//
//   SyncEngine engine(EngineOptions{.seed = 7});
//   auto out = engine.Handle(now, AppStart{vault_outbox.Unfinished(), /*online=*/true});
//   for (const Instruction& i : *out) {
//     if (auto* s = std::get_if<Store>(&i)) outbox.Apply(*s);         // commit before going on
//     else if (auto* s = std::get_if<Send>(&i)) http.Send(s->request_id, s->request);
//     else if (auto* w = std::get_if<WakeAt>(&i)) timer.At(w->at_ms);  // then Handle(Tick{})
//     else if (auto* n = std::get_if<Notify>(&i)) ui.Show(n->message);
//   }
//   // later: engine.Handle(now, Response{id, http_response}) or NetworkError{id, "offline"}
//
// Contract with the host:
//   - Instructions are carried out in order, each Store committed before the next instruction
//     (durable before acknowledged: a Send always follows the Store that records it). If the
//     host dies part-way, it re-creates the engine from the outbox with AppStart; the engine
//     then resends whatever may have been lost (every request is idempotent).
//   - Every Send gets exactly one Response or NetworkError back, or none at all (a lost
//     request is timed out by the engine after request_timeout_ms). Replies to request ids this
//     engine does not know, or that it timed out, are ignored.
//   - A WakeAt replaces the host's timer; output without one means no Tick is needed until
//     the next event.
//   - `now` is the host's wall clock in unix milliseconds; it may repeat, never goes backwards
//     in practice, and a jump is harmless (timers just fire early or late).
//
// Policy: network errors, timeouts, 5xx, 408, 429 and 401 retry with full-jitter backoff (429
// and 503 honour Retry-After); any other 4xx fails the job with the server's reason for the user.
// A 401 says the device's credentials need the host's attention (register again, correct the
// clock, or a duplicated request refused as a replay), never that the job is wrong, so the job
// waits. Signing is the host's: it signs each Send as it carries it out (sync/request_auth.h),
// with a fresh nonce per attempt, so the engine stays free of keys, clocks and randomness.
// The device mirrors the server's state from the changes feed, never moving a job backwards; a
// job becomes done only once its result has been fetched and stored. Cancelling a job that was
// never sent is immediate; otherwise the intent is stored and a DELETE sent once the server's
// id is known.
//
// Retention: a job the server removed after it finished (its retention rule) cannot be fetched
// any more. Told so by the feed (ChangesPage::expired) or by a 410 job_expired to any request
// about it (a resent submission, its result, a rendition, a cancel), the engine fails the job
// for good with kExpiredReason; it never retries or resubmits it.
//
// Image exports (sync/image_export.h): before a submission whose source is not recorded as
// uploaded, the engine emits UploadBlob (the host PUTs the vault's blob) and records
// source_uploaded once the server has it; uploads retry like submissions and a 4xx fails the
// job with the server's message. A job the server fails with blob_missing is taken back to
// queued, its source uploaded again and the job submitted under the key "<key>-r1", then
// "-r2"; the third blob_missing fails it for good, saying so. A done export's result is
// recorded (still running), then each rendition is fetched, checked against its BLAKE2b-256
// (a mismatch is never handed on; fetched again, at most kMaxRenditionMismatches times) and
// handed to the host as SaveRendition; the job is done once all are saved. After a restart
// with the result recorded, only the renditions not yet in the vault (OutboxRecord::
// renditions_saved) are fetched; saving stays idempotent.
//
// HQ captions (sync/caption_hq_result.h): a result that does not parse as one fails the job,
// naming the field. A good one is recorded (still running), handed to the host as
// SaveCaptionResult (a caption-hq asset) and the job is done. After a restart with the result
// recorded, nothing is fetched again: the job is done at once if its asset is in the vault
// (OutboxRecord::caption_saved), else the result is handed over again first.
// Threading: one thread at a time.
#ifndef CAIRN_SYNC_ENGINE_H_
#define CAIRN_SYNC_ENGINE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/base/status.h"
#include "sync/backoff.h"
#include "sync/http_message.h"
#include "sync/image_export.h"
#include "sync/job.h"
#include "sync/protocol.h"

namespace cairn::sync {

// A job as the outbox holds it (storage-neutral; sync/vault_outbox.h maps it to the Vault).
struct OutboxRecord {
  int64_t id = 0;  // the outbox's row id
  std::string idempotency_key;
  JobKind kind = JobKind::kCaptionHq;
  Preset preset = Preset::kFinal;
  std::string payload_json;
  JobState state = JobState::kQueued;
  int64_t attempts = 0;  // submissions sent (a job with 0 was never sent)
  int64_t next_attempt_at_ms = 0;
  std::string last_error;
  std::string server_job_id;
  bool cancel_requested = false;
  std::string result_json;  // set when done (image-export: once the result is in hand, while
                            // its renditions are fetched; done once they are all saved)
  bool source_uploaded = false;  // image-export: the source blob is on the server
  int64_t resubmits = 0;  // image-export: submitted again after blob_missing (key "-r<n>")
  // image-export with its result in hand: the BLAKE2b-256 of the renditions already saved in
  // the vault. Not a column: VaultOutbox::Unfinished() looks them up, so a restart fetches only
  // the renditions still missing.
  std::vector<std::string> renditions_saved;
  // caption-hq with its result in hand: its caption-hq asset is in the vault. Not a column
  // either: VaultOutbox::Unfinished() looks it up.
  bool caption_saved = false;
  friend bool operator==(const OutboxRecord&, const OutboxRecord&) = default;
};

// Events.
struct AppStart {
  std::vector<OutboxRecord> jobs;  // the outbox's unfinished jobs
  bool online = true;
};
struct Online {};
struct Offline {};
struct Tick {};
struct Response {
  uint64_t request_id = 0;
  HttpResponse response;
};
struct NetworkError {
  uint64_t request_id = 0;
  std::string reason;
};
struct JobCreated {
  OutboxRecord job;  // already committed to the outbox, state queued
};
struct CancelRequested {
  int64_t job_id = 0;
};
// The host could not read the blob an UploadBlob names (it is gone from the vault, or damaged):
// the export cannot go on, the job fails with `reason`.
struct BlobUnreadable {
  uint64_t request_id = 0;
  std::string reason;
};
using Event = std::variant<AppStart, Online, Offline, Tick, Response, NetworkError, JobCreated,
                           CancelRequested, BlobUnreadable>;

// Instructions.
struct Send {
  uint64_t request_id = 0;
  HttpRequest request;
};
struct Store {
  OutboxRecord job;  // the whole record, to write over the outbox row
};
struct WakeAt {
  int64_t at_ms = 0;  // deliver Tick at or after this time (replaces any earlier WakeAt)
};
// Upload the blob `hash` from the vault: PUT /v1/blobs/<hash> with its bytes
// (MakeBlobUploadRequest), signed like a Send, answered like a Send with Response or
// NetworkError for `request_id` — or BlobUnreadable if the host cannot read it. Kept out of
// Send so the engine never holds a photo's bytes.
struct UploadBlob {
  uint64_t request_id = 0;
  int64_t job_id = 0;
  std::string hash;
};
// Store a rendition of a done image export as a render asset in the vault, with its provenance
// (renderer, libvips, tier, preset, checksum): `bytes` hash to `rendition.blake2b` (checked).
// Committed before the next instruction, like a Store, and idempotent: after a restart the
// engine may hand the same rendition again, which must not make a second asset.
struct SaveRendition {
  int64_t job_id = 0;
  std::string server_job_id;
  Preset preset = Preset::kFinal;
  RenditionInfo rendition;
  ImageExportResult result;  // the renditions' shared provenance (renditions left empty)
  std::string bytes;
};
// Store a done caption-hq job's result as a caption-hq asset, with the provenance it names
// (parsed by the engine already; the host checks again), linked to the job's draft. Committed
// before the next instruction, and idempotent: after a restart the engine may hand the same
// job's result again, which must not make a second asset.
struct SaveCaptionResult {
  int64_t job_id = 0;
  std::string server_job_id;
  Preset preset = Preset::kFinal;  // the job's (the result's provenance has the one that ran)
  std::string result_json;
};
enum class NoticeKind { kDone, kFailed, kCancelled, kCancelRefused };
struct Notify {
  int64_t job_id = 0;
  NoticeKind kind = NoticeKind::kDone;
  std::string message;  // for the user
};
using Instruction =
    std::variant<Send, Store, WakeAt, Notify, UploadBlob, SaveRendition, SaveCaptionResult>;

// Why a job the server expired failed on the device (its last_error is "job_expired: " and this).
inline constexpr char kExpiredReason[] =
    "expired on the server before this device fetched its result";

struct EngineOptions {
  uint64_t seed = 1;  // the jitter RNG's seed
  BackoffPolicy backoff;
  int64_t request_timeout_ms = 30'000;
  int64_t upload_timeout_ms = 300'000;  // an UploadBlob (up to 24 MiB on a slow link)
  int64_t poll_interval_ms = 5'000;  // changes feed while jobs are on the server
};

struct EngineCounters {
  int64_t sends = 0, retries = 0, timeouts = 0, ignored_replies = 0, bad_responses = 0;
  int64_t uploads = 0, resubmits = 0, renditions_saved = 0, checksum_mismatches = 0;
};

class SyncEngine {
 public:
  explicit SyncEngine(EngineOptions options);

  // Errors only for a host's misuse (AppStart twice, an unknown job id, a job created twice);
  // network and server trouble are handled inside and never surface here.
  Result<std::vector<Instruction>> Handle(int64_t now_ms, const Event& event);

  // The engine's view of a job (for tests and the UI); nullptr if unknown or finished.
  const OutboxRecord* Find(int64_t job_id) const;
  const EngineCounters& counters() const { return counters_; }

 private:
  enum class Op { kSubmit, kFeed, kResult, kCancel, kUpload, kRendition };
  struct JobEntry {
    OutboxRecord rec;
    std::optional<JobState> server_state;  // last reported by the server (not durable)
    uint64_t in_flight = 0;                // request id, 0 if none
    int64_t failures = 0;  // consecutive failures of upload/result/rendition/cancel requests
    // image-export, once its result is in hand: the renditions still to fetch and save.
    std::optional<ImageExportResult> image;
    size_t next_rendition = 0;
    int64_t mismatches = 0;  // renditions whose bytes did not match their hash
  };
  struct Pending {
    Op op;
    int64_t job_id;  // 0 for the feed
    int64_t deadline_ms;
  };
  class Out;

  void OnReply(int64_t now, uint64_t request_id, const HttpResponse* response,
               const std::string& error, Out& out);
  void OnSubmitReply(int64_t now, JobEntry& job, const HttpResponse* r, const std::string& error,
                     Out& out);
  void OnFeedReply(int64_t now, const HttpResponse* r, const std::string& error, Out& out);
  void OnResultReply(int64_t now, JobEntry& job, const HttpResponse* r, const std::string& error,
                     Out& out);
  void OnCancelReply(int64_t now, JobEntry& job, const HttpResponse* r, const std::string& error,
                     Out& out);
  void OnUploadReply(int64_t now, JobEntry& job, const HttpResponse* r, const std::string& error,
                     Out& out);
  void OnRenditionReply(int64_t now, JobEntry& job, const HttpResponse* r,
                        const std::string& error, Out& out);
  // image-export: the result is in hand; fetch its renditions (or finish if it has none).
  void TakeImageResult(int64_t now, JobEntry& job, const std::string& result_json, Out& out);
  // caption-hq: the result is in hand; record it, have it saved as an asset, finish.
  void TakeCaptionResult(JobEntry& job, const std::string& result_json, Out& out);
  // blob_missing: upload the source again and submit under the next key, or fail for good.
  void Resubmit(int64_t now, JobEntry& job, const JobView& view, Out& out);
  void Cancel(JobEntry& job, Out& out);
  // Applies a server's view of the job (ignoring stale ones).
  void ApplyView(int64_t now, JobEntry& job, const JobView& view, Out& out);
  void Finish(JobEntry& job, JobState terminal, Out& out, std::string message);
  // The server removed the job (job_expired): failed for good, with kExpiredReason.
  void Expire(JobEntry& job, Out& out);
  // Moves the record to `to` through legal transitions only.
  void Advance(OutboxRecord& rec, JobState to);
  // Retry delay for a failed request: Retry-After if the server gave one, else backoff.
  int64_t RetryDelay(int64_t now, const HttpResponse* r, int64_t failures);
  // A job's request failed and may be retried: counted, and the job waits out RetryDelay.
  void RetryLater(int64_t now, JobEntry& job, const HttpResponse* r);
  void Pump(int64_t now, Out& out);
  uint64_t StartRequest(int64_t now, Op op, int64_t job_id, HttpRequest request, Out& out);
  uint64_t StartUpload(int64_t now, int64_t job_id, const std::string& hash, Out& out);
  bool FeedNeeded() const;

  EngineOptions options_;
  Rng rng_;
  bool started_ = false;
  bool online_ = false;
  std::map<int64_t, JobEntry> jobs_;  // unfinished jobs by outbox id
  std::map<uint64_t, Pending> pending_;
  uint64_t next_request_id_ = 1;
  int64_t feed_since_ = 0;
  int64_t feed_next_at_ = 0;
  int64_t feed_failures_ = 0;
  uint64_t feed_in_flight_ = 0;
  EngineCounters counters_;
};

// Whether a reply means "try again later" (network, timeout, 5xx, 408, 429, 401).
bool IsRetryable(const HttpResponse* response);

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_ENGINE_H_
