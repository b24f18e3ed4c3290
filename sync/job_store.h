// JobStore: where cairn-server keeps jobs. One interface, so the rules (sync/job_service.h) are
// written once over every store: SQLite (sync/sqlite_job_store.h) and PostgreSQL
// (sync/pg_job_store.h, native only).
//
// The interface is deliberately small and rule-free: insert-if-absent by (device, key), reads,
// one compare-and-swap on the job's change sequence, and ClaimNext, which applies a rule given
// by the caller. Every rule (who may read a job, which transition is legal, who holds a lease)
// lives in JobService, on top of these atomic steps.
//
// Contract for implementations:
//   - Every write gives the job a new `seq`, greater than every seq before it (the changes
//     feed's cursor), and is durable once it returns OK. An expiry is a write too: the job's
//     row goes and its ExpiredJob takes a new seq, so seqs are never reused.
//   - InsertOrGet, CompareAndSwap and ExpireFinished are atomic with respect to each other,
//     also across processes sharing the store: a submission racing the expiry of its key's
//     job either gets the job or its ExpiredJob, never a fresh job.
//   - Errors are kUnavailable (busy, retry) or kIoError/kCorruption; never a partial write.
#ifndef CAIRN_SYNC_JOB_STORE_H_
#define CAIRN_SYNC_JOB_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "sync/job.h"

namespace cairn::sync {

struct StoredJob {
  std::string id;
  std::string device_id;
  std::string idempotency_key;
  JobKind kind = JobKind::kCaptionHq;
  Preset preset = Preset::kFinal;
  std::string payload_json;
  JobState state = JobState::kAccepted;  // accepted | running | done | failed | cancelled
  int64_t seq = 0;                       // the change sequence; also the CAS version
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t attempts = 0;  // claims by workers so far; the current lease's fencing token
  std::string worker_id;
  int64_t lease_expires_at_ms = 0;
  std::string error_code;
  std::string error_message;
  std::string result_json;
  friend bool operator==(const StoredJob&, const StoredJob&) = default;
};

// What is left of a finished job once retention removed it (JobService::ExpireFinished): enough
// to answer a replay of its submission, or a request for its id, with job_expired. Kept for
// good (sync/PROTOCOL.md, "Retention"): about 150 bytes each.
struct ExpiredJob {
  std::string id;
  std::string device_id;
  std::string idempotency_key;
  int64_t seq = 0;  // the expiry's change sequence: the feed reports it
  int64_t expired_at_ms = 0;
  friend bool operator==(const ExpiredJob&, const ExpiredJob&) = default;
};

struct InsertOutcome {
  StoredJob job;         // the stored job: the new one, or the one already there
  bool inserted = false;
  // The device's job under this key expired: nothing was inserted and `job` is empty.
  std::optional<ExpiredJob> expired;
};

// The device's changes after a seq, read from one snapshot (so no change below the last seq
// returned can appear later): jobs and expired jobs, each by seq.
struct FeedChanges {
  std::vector<StoredJob> jobs;
  std::vector<ExpiredJob> expired;
};

// What a claim makes of one claimable job (JobService decides): the job to write, and whether
// it is now leased to the claimer (false: written and passed over, e.g. failed because its
// workers kept dying).
struct ClaimDecision {
  StoredJob job;
  bool leased = false;
};
using ClaimRule = std::function<ClaimDecision(const StoredJob& claimable)>;

class JobStore {
 public:
  virtual ~JobStore() = default;
  // Inserts `job` (its seq is assigned) unless the device already has a job with its key, or
  // had one that expired (then InsertOutcome::expired says so).
  virtual Result<InsertOutcome> InsertOrGet(const StoredJob& job) = 0;
  virtual Result<std::optional<StoredJob>> Get(std::string_view id) = 0;
  // The device's jobs with seq > since, by seq, at most `limit`.
  virtual Result<std::vector<StoredJob>> ChangesSince(std::string_view device_id, int64_t since,
                                                      int limit) = 0;
  // The device's jobs and expired jobs with seq > since, at most `limit` of each, one snapshot.
  virtual Result<FeedChanges> FeedSince(std::string_view device_id, int64_t since,
                                        int limit) = 0;
  // The expired job with this id, if any.
  virtual Result<std::optional<ExpiredJob>> GetExpired(std::string_view id) = 0;
  // Removes up to `limit` jobs in a terminal state (done, failed, cancelled) last changed before
  // `changed_before_ms`, oldest first, each replaced by its ExpiredJob (expired_at now_ms, a
  // new seq) in the same transaction; returns them. Fewer than `limit`: none is left.
  virtual Result<std::vector<ExpiredJob>> ExpireFinished(int64_t changed_before_ms,
                                                         int64_t now_ms, int limit) = 0;
  // Jobs a worker may claim at `now_ms`: accepted, or running with an expired lease; by seq.
  virtual Result<std::vector<StoredJob>> Claimable(int64_t now_ms, int limit) = 0;
  // Writes every field of `job` if the stored seq still equals job.seq; returns the job as
  // written (with its new seq), or nullopt if it changed meanwhile (the caller re-reads).
  virtual Result<std::optional<StoredJob>> CompareAndSwap(const StoredJob& job) = 0;
  // Takes claimable jobs oldest first and writes rule(job) for each, atomically per job, until
  // one is leased; returns it as written, or nullopt when none is left (or every candidate was
  // taken by other claimers meanwhile: the caller polls again). `rule` must be a pure function
  // of its argument (a store may call it inside a transaction, or again after a lost race).
  // The default is Claimable + CompareAndSwap, where concurrent claimers race for the same
  // oldest job and all but one retry; a store with row locks overrides it so claimers skip
  // each other's jobs instead (PostgreSQL's FOR UPDATE SKIP LOCKED).
  virtual Result<std::optional<StoredJob>> ClaimNext(int64_t now_ms, const ClaimRule& rule);
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_JOB_STORE_H_
