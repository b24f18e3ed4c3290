#include "sync/job_service.h"

#include <algorithm>

#include "core/crypto/hash.h"

namespace cairn::sync {
namespace {

// Compare-and-swap retries before reporting contention as kUnavailable (the client retries).
constexpr int kCasTries = 8;

// Jobs one ExpireFinished transaction removes: small, so that a transaction holds the store's
// write lock (SQLite's, PostgreSQL's jobs_seq row) only briefly while submissions wait.
constexpr int kExpireBatch = 100;

Status LostRace(std::string_view job_id) {
  return Unavailable("job " + std::string(job_id) + " is changing too often; try again");
}

Status Expired(const ExpiredJob& e) {
  return WireStatus(wire::kJobExpired,
                    "job " + e.id + " (idempotency key " + e.idempotency_key +
                        ") finished and was removed from the server by its retention rule; "
                        "its result is gone and it will not run again. To run it again, create "
                        "a new job with a new idempotency key");
}

}  // namespace

JobView ViewOf(const StoredJob& j) {
  JobView v;
  v.id = j.id;
  v.idempotency_key = j.idempotency_key;
  v.kind = j.kind;
  v.preset = j.preset;
  v.state = j.state;
  v.seq = j.seq;
  v.created_at_ms = j.created_at_ms;
  v.updated_at_ms = j.updated_at_ms;
  v.error_code = j.error_code;
  v.error_message = j.error_message;
  return v;
}

JobService::JobService(JobStore& store, ServiceOptions options)
    : store_(store), options_(std::move(options)) {
  if (options_.id_key.empty()) options_.id_key = Bytes(32, 0x5a);
}

std::string JobService::JobId(std::string_view device_id, std::string_view key) const {
  Bytes input(device_id.begin(), device_id.end());
  input.push_back(0);
  input.insert(input.end(), key.begin(), key.end());
  // 128 bits: collisions are out of reach; BLAKE2b with a 16..64-byte key cannot fail.
  return ToHex(crypto::Blake2bHash(input, 16, options_.id_key).value());
}

Result<SubmitOutcome> JobService::Submit(std::string_view device_id, const JobSubmission& s,
                                         int64_t now_ms) {
  CAIRN_RETURN_IF_ERROR(CheckIdempotencyKey(s.idempotency_key));
  if (s.payload_json.size() > kMaxPayloadBytes) {
    return WireStatus(wire::kTooLarge, "'payload' is over " + std::to_string(kMaxPayloadBytes) +
                                           " bytes");
  }
  StoredJob j;
  j.id = JobId(device_id, s.idempotency_key);
  j.device_id = std::string(device_id);
  j.idempotency_key = s.idempotency_key;
  j.kind = s.kind;
  j.preset = s.preset;
  j.payload_json = s.payload_json;
  j.state = JobState::kAccepted;
  j.created_at_ms = j.updated_at_ms = now_ms;
  CAIRN_ASSIGN_OR_RETURN(InsertOutcome out, store_.InsertOrGet(j));
  // A replay of an expired job's submission: exactly once holds past retention too.
  if (out.expired) return Expired(*out.expired);
  const StoredJob& got = out.job;
  if (!out.inserted && (got.kind != s.kind || got.preset != s.preset ||
                        got.payload_json != s.payload_json)) {
    return WireStatus(wire::kKeyReused, "idempotency key " + s.idempotency_key +
                                            " was used for a different job; make a new key");
  }
  return SubmitOutcome{ViewOf(got), out.inserted};
}

Result<StoredJob> JobService::Owned(std::string_view device_id, std::string_view job_id) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<StoredJob> j, store_.Get(job_id));
  if (!j) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<ExpiredJob> gone, store_.GetExpired(job_id));
    if (gone && gone->device_id == device_id) return Expired(*gone);
  }
  // Another device's job (expired or not) answers exactly like a missing one.
  if (!j || j->device_id != device_id) {
    return WireStatus(wire::kNotFound, "no job " + std::string(job_id));
  }
  return std::move(*j);
}

Result<JobView> JobService::Get(std::string_view device_id, std::string_view job_id) {
  CAIRN_ASSIGN_OR_RETURN(StoredJob j, Owned(device_id, job_id));
  return ViewOf(j);
}

Result<ChangesPage> JobService::Changes(std::string_view device_id, int64_t since, int limit) {
  if (since < 0) return WireStatus(wire::kBadValue, "'since' must be 0 or more");
  if (limit < 1 || limit > kMaxPageSize) {
    return WireStatus(wire::kBadValue,
                      "'limit' must be 1 to " + std::to_string(kMaxPageSize));
  }
  CAIRN_ASSIGN_OR_RETURN(FeedChanges changes, store_.FeedSince(device_id, since, limit + 1));
  // Jobs and expired jobs merged by seq (one snapshot: nothing below the last seq is missed).
  ChangesPage page;
  page.next_since = since;
  size_t j = 0, e = 0;
  while ((j < changes.jobs.size() || e < changes.expired.size()) &&
         page.jobs.size() + page.expired.size() < static_cast<size_t>(limit)) {
    const bool job_first =
        e == changes.expired.size() ||
        (j < changes.jobs.size() && changes.jobs[j].seq < changes.expired[e].seq);
    if (job_first) {
      page.jobs.push_back(ViewOf(changes.jobs[j]));
      page.next_since = changes.jobs[j++].seq;
    } else {
      const ExpiredJob& x = changes.expired[e++];
      page.expired.push_back(ExpiredView{x.id, x.idempotency_key, x.seq, x.expired_at_ms});
      page.next_since = x.seq;
    }
  }
  page.more = j < changes.jobs.size() || e < changes.expired.size();
  return page;
}

Result<JobResult> JobService::GetResult(std::string_view device_id, std::string_view job_id) {
  CAIRN_ASSIGN_OR_RETURN(StoredJob j, Owned(device_id, job_id));
  if (j.state != JobState::kDone) {
    return WireStatus(wire::kNotReady, "job " + j.id + " is " + JobStateName(j.state) +
                                           "; its result is not ready");
  }
  return JobResult{j.id, j.result_json};
}

Result<JobView> JobService::Cancel(std::string_view device_id, std::string_view job_id,
                                   int64_t now_ms) {
  for (int i = 0; i < kCasTries; ++i) {
    CAIRN_ASSIGN_OR_RETURN(StoredJob j, Owned(device_id, job_id));
    if (IsTerminal(j.state)) return ViewOf(j);
    CAIRN_RETURN_IF_ERROR(CheckTransition(j.state, JobState::kCancelled));
    j.state = JobState::kCancelled;
    j.updated_at_ms = now_ms;
    j.lease_expires_at_ms = 0;  // a worker still rendering it will find its lease stale
    CAIRN_ASSIGN_OR_RETURN(std::optional<StoredJob> written, store_.CompareAndSwap(j));
    if (written) return ViewOf(*written);
  }
  return LostRace(job_id);
}

Result<int64_t> JobService::ExpireFinished(int64_t now_ms, int64_t retention_ms) {
  if (retention_ms <= 0) return InvalidArgument("the job retention must be more than 0 ms");
  int64_t removed = 0;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<ExpiredJob> gone,
                           store_.ExpireFinished(now_ms - retention_ms, now_ms, kExpireBatch));
    removed += static_cast<int64_t>(gone.size());
    if (gone.size() < static_cast<size_t>(kExpireBatch)) return removed;
  }
}

ClaimDecision JobService::DecideClaim(StoredJob j, std::string_view worker_id,
                                   int64_t now_ms) const {
  j.updated_at_ms = now_ms;
  if (j.state == JobState::kRunning && j.attempts >= options_.max_attempts) {
    // Its workers keep dying: stop, and say so, rather than retry forever.
    j.state = JobState::kFailed;
    j.error_code = "worker_lost";
    j.error_message = "the render stopped " + std::to_string(j.attempts) +
                      " times without finishing; try again later";
    j.lease_expires_at_ms = 0;
    return {std::move(j), false};
  }
  // An expired running job goes back to the queue and straight to this worker.
  j.state = JobState::kRunning;
  ++j.attempts;
  j.worker_id = std::string(worker_id);
  j.lease_expires_at_ms = now_ms + options_.lease_ms;
  return {std::move(j), true};
}

Result<std::optional<Lease>> JobService::Claim(std::string_view worker_id, int64_t now_ms) {
  auto rule = [&](const StoredJob& j) { return DecideClaim(j, worker_id, now_ms); };
  CAIRN_ASSIGN_OR_RETURN(std::optional<StoredJob> w, store_.ClaimNext(now_ms, rule));
  if (!w) return std::optional<Lease>();
  return std::optional<Lease>(Lease{w->id, w->worker_id, w->attempts, w->lease_expires_at_ms,
                                    w->kind, w->preset, w->payload_json, w->device_id});
}

Result<StoredJob> JobService::Leased(const Lease& lease) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<StoredJob> j, store_.Get(lease.job_id));
  if (!j) return NotFound("no job " + lease.job_id);
  if (j->state != JobState::kRunning || j->attempts != lease.attempt ||
      j->worker_id != lease.worker_id) {
    return FailedPrecondition("stale lease: job " + j->id + " is " + JobStateName(j->state) +
                              " at attempt " + std::to_string(j->attempts) + ", not attempt " +
                              std::to_string(lease.attempt) + " of " + lease.worker_id);
  }
  return std::move(*j);
}

Result<Lease> JobService::Renew(const Lease& lease, int64_t now_ms) {
  for (int i = 0; i < kCasTries; ++i) {
    CAIRN_ASSIGN_OR_RETURN(StoredJob j, Leased(lease));
    j.lease_expires_at_ms = now_ms + options_.lease_ms;
    j.updated_at_ms = now_ms;
    CAIRN_ASSIGN_OR_RETURN(std::optional<StoredJob> w, store_.CompareAndSwap(j));
    if (w) {
      Lease renewed = lease;
      renewed.expires_at_ms = w->lease_expires_at_ms;
      return renewed;
    }
  }
  return LostRace(lease.job_id);
}

Status JobService::Complete(const Lease& lease, std::string_view result_json, int64_t now_ms) {
  if (result_json.size() > kMaxResultBytes / 2) {
    return InvalidArgument("job " + lease.job_id + ": the result is over " +
                           std::to_string(kMaxResultBytes / 2) + " bytes");
  }
  for (int i = 0; i < kCasTries; ++i) {
    CAIRN_ASSIGN_OR_RETURN(StoredJob j, Leased(lease));
    CAIRN_RETURN_IF_ERROR(CheckTransition(j.state, JobState::kDone));
    j.state = JobState::kDone;
    j.result_json = std::string(result_json);
    j.updated_at_ms = now_ms;
    j.lease_expires_at_ms = 0;
    CAIRN_ASSIGN_OR_RETURN(std::optional<StoredJob> w, store_.CompareAndSwap(j));
    if (w) return Status::Ok();
  }
  return LostRace(lease.job_id);
}

Status JobService::Fail(const Lease& lease, std::string_view code, std::string_view message,
                        int64_t now_ms) {
  for (int i = 0; i < kCasTries; ++i) {
    CAIRN_ASSIGN_OR_RETURN(StoredJob j, Leased(lease));
    j.state = JobState::kFailed;
    j.error_code = std::string(code);
    j.error_message = std::string(message);
    j.updated_at_ms = now_ms;
    j.lease_expires_at_ms = 0;
    CAIRN_ASSIGN_OR_RETURN(std::optional<StoredJob> w, store_.CompareAndSwap(j));
    if (w) return Status::Ok();
  }
  return LostRace(lease.job_id);
}

}  // namespace cairn::sync
