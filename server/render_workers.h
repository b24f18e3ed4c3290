// WorkerPool: cairn-server's render workers. Each worker thread claims a job from the queue,
// renders it with a JobRenderer (caption-hq: server/caption_hq_renderer.h) and completes or
// fails it; one keeper thread renews the leases of the jobs being rendered.
//
//   LockedJobLeases leases(service, service_mutex);        // shared with the HTTP handlers
//   WorkerPool pool(leases, renderer, {.workers = 2});
//   pool.Start();
//   pool.Wake();                                           // a job arrived: claim it now
//   ...
//   pool.Stop();   // stops claiming; running jobs finish within options.drain_ms, or are
//                  // abandoned: their leases lapse and the job is claimed again later
//
// Exactly once in effect, with workers that die: a claim is a lease with a fencing token
// (sync/job_service.h). The keeper renews every running job's lease each lease_ms / 3; a worker
// that dies (or stalls) stops renewing, its lease expires and another worker claims the job
// (attempt + 1); the first worker's Complete is then refused (stale lease) and changes nothing.
// A renewal refused as stale (the job was cancelled by its device, or claimed by another worker)
// cancels the render: the worker stops and writes nothing.
//
// Threading: the JobLeases is called from the workers and the keeper, never while a render runs
// inside it (LockedJobLeases holds its mutex only around one Claim/Renew/Complete/Fail). The
// renderer is called from every worker at once and must be thread-safe. Start and Stop from one
// thread; Wake and Stats from any.
#ifndef CAIRN_SERVER_RENDER_WORKERS_H_
#define CAIRN_SERVER_RENDER_WORKERS_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "sync/job_service.h"

namespace cairn::server {

// The queue as a worker sees it: JobService's four lease operations.
class JobLeases {
 public:
  virtual ~JobLeases() = default;
  virtual Result<std::optional<sync::Lease>> Claim(std::string_view worker_id, int64_t now_ms) = 0;
  virtual Result<sync::Lease> Renew(const sync::Lease& lease, int64_t now_ms) = 0;
  virtual Status Complete(const sync::Lease& lease, std::string_view result_json,
                          int64_t now_ms) = 0;
  virtual Status Fail(const sync::Lease& lease, std::string_view code, std::string_view message,
                      int64_t now_ms) = 0;
};

// A JobService under a mutex its other users (the HTTP handlers) hold too.
class LockedJobLeases final : public JobLeases {
 public:
  LockedJobLeases(sync::JobService& service, std::mutex& mu) : service_(service), mu_(mu) {}
  Result<std::optional<sync::Lease>> Claim(std::string_view worker_id, int64_t now_ms) override;
  Result<sync::Lease> Renew(const sync::Lease& lease, int64_t now_ms) override;
  Status Complete(const sync::Lease& lease, std::string_view result_json,
                  int64_t now_ms) override;
  Status Fail(const sync::Lease& lease, std::string_view code, std::string_view message,
              int64_t now_ms) override;

 private:
  sync::JobService& service_;
  std::mutex& mu_;
};

// What a render came to: the result JSON, or the error the job fails with.
struct RenderOutput {
  std::string result_json;  // when error_code is empty
  std::string error_code;   // e.g. "bad_payload", "no_model", "unsupported_kind"
  std::string error_message;
  static RenderOutput Error(std::string code, std::string message) {
    return {"", std::move(code), std::move(message)};
  }
};

class JobRenderer {
 public:
  virtual ~JobRenderer() = default;
  // Renders the leased job. `cancel` is set when the lease is lost or the drain time is up:
  // stop soon; what is returned then is ignored. Thread-safe.
  virtual RenderOutput Render(const sync::Lease& lease, const std::atomic<bool>& cancel) = 0;
};

// One JobRenderer per kind: caption-hq and image-export have their own. A kind without one
// fails with unsupported_kind. Thread-safe as the renderers it holds.
class RenderersByKind final : public JobRenderer {
 public:
  // Not owned; each outlives this.
  RenderersByKind(JobRenderer* caption_hq, JobRenderer* image_export)
      : caption_hq_(caption_hq), image_export_(image_export) {}
  RenderOutput Render(const sync::Lease& lease, const std::atomic<bool>& cancel) override;

 private:
  JobRenderer* caption_hq_;
  JobRenderer* image_export_;
};

struct WorkerOptions {
  int workers = 1;
  int64_t lease_ms = 60'000;   // the JobService's lease: renewed every lease_ms / 3
  int64_t poll_ms = 500;       // how often an idle worker looks for jobs (Wake is sooner)
  int64_t drain_ms = 30'000;   // how long Stop lets running jobs finish
  std::string name = "w";      // worker ids are "<name>-<i>"; unique per process sharing a store
  const Clock* clock = nullptr;  // job times; nullptr: the system's
  bool log = true;             // one stderr line per job outcome and per queue error
};

struct WorkerStats {
  int workers = 0;
  int busy = 0;
  uint64_t done = 0;
  uint64_t failed = 0;     // jobs this pool failed (bad payload, no model, render error)
  uint64_t abandoned = 0;  // renders stopped: lease lost, job cancelled, drain time up
  uint64_t refused = 0;    // Complete/Fail refused (a stale lease): another worker owns it
  double run_seconds = 0;  // time spent rendering, all workers
};

// Prometheus text for /metrics: cairn_workers, cairn_workers_busy, cairn_worker_jobs_total
// {outcome=done|failed|abandoned|refused}, cairn_worker_run_seconds_total.
std::string WorkerMetricsText(const WorkerStats& stats);

class WorkerPool {
 public:
  WorkerPool(JobLeases& leases, JobRenderer& renderer, WorkerOptions options);
  ~WorkerPool();  // Stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Start();
  void Wake();
  // Stops claiming, waits up to drain_ms for running jobs, cancels the rest (their leases are
  // left to lapse, never failed: another worker will finish them) and joins every thread.
  void Stop();
  WorkerStats Stats() const;

 private:
  struct Slot;
  void WorkerLoop(int index);
  void KeeperLoop();
  void RunJob(Slot& slot, sync::Lease lease);
  int64_t NowMs() const { return clock_->NowUnixMillis(); }
  void Log(const std::string& line) const;

  JobLeases& leases_;
  JobRenderer& renderer_;
  const WorkerOptions options_;
  const Clock* clock_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> threads_;
  std::thread keeper_;
  mutable std::mutex mu_;  // guards the fields below and every slot's lease
  std::condition_variable cv_;  // any change: a wake, stopping, a job ending
  bool stopping_ = false;  // no more claims
  bool draining_over_ = false;  // no more renewals
  uint64_t wake_count_ = 0;
  WorkerStats stats_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_RENDER_WORKERS_H_
