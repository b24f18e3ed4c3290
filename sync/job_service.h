// JobService: cairn-server's job rules over a JobStore, sans-I/O (time comes in as `now_ms`,
// the HTTP layer and authentication sit in front of it).
//
//   JobService service(store, ServiceOptions{.id_key = server_secret});
//   auto sub = service.Submit("device-a", submission, now);   // idempotent by (device, key)
//   auto lease = service.Claim("worker-1", now);               // a worker takes the oldest job
//   ...render...
//   Status s = service.Complete(**lease, R"({"captions":[...]})", later);
//   // a worker whose lease was taken over (it was too slow, or presumed dead):
//   // kFailedPrecondition "stale lease: job ... was claimed again (attempt 2)"; nothing written
//
// Rules:
//   - Idempotency: a repeat of (device, idempotency_key) returns the job already there (created
//     = false) if it is the same job; a different kind, preset or payload under the same key is
//     key_reused (409).
//   - Isolation: a device sees and cancels only its own jobs; another device's job id answers
//     exactly like an unknown one (not_found), so ids cannot be probed.
//   - Leases: Claim gives a job to one worker for lease_ms, with a fencing token (the claim
//     count). Only the latest claim may Renew, Complete or Fail it; a lease that expires puts
//     the job back in the queue (running -> accepted in effect), and after max_attempts lost
//     leases the job fails with "worker_lost" instead of looping forever. So a worker dying
//     mid-job delays it, and a job takes effect (done) at most once.
//   - Cancellation: any unfinished job; a finished one is returned unchanged.
//   - Retention: ExpireFinished removes jobs that finished (done, failed, cancelled) longer
//     than the retention ago; each leaves an ExpiredJob (sync/job_store.h), so a replay of its
//     submission and any request for its id answer job_expired (410), never a job that runs
//     again, and the changes feed reports the removal (ChangesPage::expired).
// Threading: one thread at a time per JobService; several services (threads, processes) may
// share one store, whose compare-and-swap keeps the rules atomic between them.
#ifndef CAIRN_SYNC_JOB_SERVICE_H_
#define CAIRN_SYNC_JOB_SERVICE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.h"
#include "core/base/status.h"
#include "sync/job_store.h"
#include "sync/protocol.h"

namespace cairn::sync {

struct ServiceOptions {
  int64_t lease_ms = 60'000;
  int64_t max_attempts = 5;
  // Keys the job ids (BLAKE2b of device and idempotency key): unguessable, and the same id for
  // the same job however often it is submitted. 16..64 bytes; empty uses a fixed test key.
  Bytes id_key;
};

struct SubmitOutcome {
  JobView job;
  bool created = false;
};

struct Lease {
  std::string job_id;
  std::string worker_id;
  int64_t attempt = 0;  // the fencing token
  int64_t expires_at_ms = 0;
  JobKind kind = JobKind::kCaptionHq;
  Preset preset = Preset::kFinal;
  std::string payload_json;
  std::string device_id;  // whose job: the owner of the blobs it refers to
};

class JobService {
 public:
  JobService(JobStore& store, ServiceOptions options);

  // Devices (device_id: the authenticated device).
  Result<SubmitOutcome> Submit(std::string_view device_id, const JobSubmission& submission,
                               int64_t now_ms);
  Result<JobView> Get(std::string_view device_id, std::string_view job_id);
  Result<ChangesPage> Changes(std::string_view device_id, int64_t since, int limit);
  // not_ready (409) until the job is done.
  Result<JobResult> GetResult(std::string_view device_id, std::string_view job_id);
  Result<JobView> Cancel(std::string_view device_id, std::string_view job_id, int64_t now_ms);

  // Retention: removes every job that finished before now_ms - retention_ms (retention_ms > 0);
  // returns how many. Several servers may run it at once on one store.
  Result<int64_t> ExpireFinished(int64_t now_ms, int64_t retention_ms);

  // Workers. Claim returns nullopt when nothing is waiting.
  Result<std::optional<Lease>> Claim(std::string_view worker_id, int64_t now_ms);
  Result<Lease> Renew(const Lease& lease, int64_t now_ms);
  Status Complete(const Lease& lease, std::string_view result_json, int64_t now_ms);
  Status Fail(const Lease& lease, std::string_view code, std::string_view message,
              int64_t now_ms);

 private:
  // The claim rule (leases, worker_lost), applied by the store to each claimable job.
  ClaimDecision DecideClaim(StoredJob job, std::string_view worker_id, int64_t now_ms) const;
  Result<StoredJob> Owned(std::string_view device_id, std::string_view job_id);
  // Re-reads the leased job and checks the lease is still the current one.
  Result<StoredJob> Leased(const Lease& lease);
  std::string JobId(std::string_view device_id, std::string_view key) const;

  JobStore& store_;
  ServiceOptions options_;
};

JobView ViewOf(const StoredJob& job);

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_JOB_SERVICE_H_
