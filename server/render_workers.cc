#include "server/render_workers.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

namespace cairn::server {
namespace {

// A refusal that means "this lease is no longer yours": the job was cancelled, finished or
// claimed by another worker (JobService::Leased).
bool LeaseLost(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kNotFound;
}

constexpr int kFinishTries = 3;  // Complete/Fail through a busy store before giving up

}  // namespace

Result<std::optional<sync::Lease>> LockedJobLeases::Claim(std::string_view worker_id,
                                                          int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return service_.Claim(worker_id, now_ms);
}

Result<sync::Lease> LockedJobLeases::Renew(const sync::Lease& lease, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return service_.Renew(lease, now_ms);
}

Status LockedJobLeases::Complete(const sync::Lease& lease, std::string_view result_json,
                                 int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return service_.Complete(lease, result_json, now_ms);
}

Status LockedJobLeases::Fail(const sync::Lease& lease, std::string_view code,
                             std::string_view message, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return service_.Fail(lease, code, message, now_ms);
}

RenderOutput RenderersByKind::Render(const sync::Lease& lease, const std::atomic<bool>& cancel) {
  JobRenderer* r = lease.kind == sync::JobKind::kCaptionHq ? caption_hq_ : image_export_;
  if (r == nullptr) {
    return RenderOutput::Error("unsupported_kind", std::string("this server does not render ") +
                                                       sync::JobKindName(lease.kind) + " jobs");
  }
  return r->Render(lease, cancel);
}

std::string WorkerMetricsText(const WorkerStats& s) {
  std::string out =
      "# HELP cairn_workers Render workers in this server.\n"
      "# TYPE cairn_workers gauge\n"
      "cairn_workers " + std::to_string(s.workers) + "\n"
      "# HELP cairn_workers_busy Render workers running a job now.\n"
      "# TYPE cairn_workers_busy gauge\n"
      "cairn_workers_busy " + std::to_string(s.busy) + "\n"
      "# HELP cairn_worker_jobs_total Jobs the render workers finished, by outcome: done, "
      "failed, abandoned (lease lost, cancelled, or stopped while draining) and refused (a "
      "stale lease: another worker had it).\n"
      "# TYPE cairn_worker_jobs_total counter\n";
  const std::pair<const char*, uint64_t> outcomes[] = {
      {"done", s.done}, {"failed", s.failed}, {"abandoned", s.abandoned}, {"refused", s.refused}};
  for (const auto& [name, n] : outcomes) {
    out += "cairn_worker_jobs_total{outcome=\"" + std::string(name) + "\"} " +
           std::to_string(n) + "\n";
  }
  char seconds[64];
  std::snprintf(seconds, sizeof(seconds), "%.3f", s.run_seconds);
  out +=
      "# HELP cairn_worker_run_seconds_total Time the render workers spent rendering.\n"
      "# TYPE cairn_worker_run_seconds_total counter\n"
      "cairn_worker_run_seconds_total " + std::string(seconds) + "\n";
  return out;
}

struct WorkerPool::Slot {
  std::string worker_id;
  std::optional<sync::Lease> lease;  // the job being rendered, as last renewed (under mu_)
  std::atomic<bool> cancel{false};
};

WorkerPool::WorkerPool(JobLeases& leases, JobRenderer& renderer, WorkerOptions options)
    : leases_(leases),
      renderer_(renderer),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &SystemClock::Default()) {
  for (int i = 0; i < options_.workers; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->worker_id = options_.name + "-" + std::to_string(i + 1);
  }
  stats_.workers = options_.workers;
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Log(const std::string& line) const {
  if (options_.log) std::fprintf(stderr, "cairn-server: %s\n", line.c_str());
}

void WorkerPool::Start() {
  if (slots_.empty() || !threads_.empty()) return;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  keeper_ = std::thread([this] { KeeperLoop(); });
}

void WorkerPool::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++wake_count_;
  }
  cv_.notify_all();
}

WorkerStats WorkerPool::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void WorkerPool::WorkerLoop(int index) {
  Slot& slot = *slots_[static_cast<size_t>(index)];
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      seen = wake_count_;
    }
    Result<std::optional<sync::Lease>> claimed = leases_.Claim(slot.worker_id, NowMs());
    if (!claimed.ok()) Log(slot.worker_id + " cannot claim a job: " + claimed.status().ToString());
    if (claimed.ok() && claimed->has_value()) {
      RunJob(slot, std::move(**claimed));
      continue;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                 [&] { return stopping_ || wake_count_ != seen; });
  }
}

void WorkerPool::RunJob(Slot& slot, sync::Lease lease) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    slot.lease = lease;
    slot.cancel = false;
    ++stats_.busy;
  }
  const int64_t start = clock_->MonotonicNanos();
  RenderOutput out = renderer_.Render(lease, slot.cancel);
  const double seconds = static_cast<double>(clock_->MonotonicNanos() - start) / 1e9;
  sync::Lease current;
  {
    std::lock_guard<std::mutex> lock(mu_);
    current = *slot.lease;  // renewed meanwhile: the same fencing token, a later expiry
    slot.lease.reset();
    --stats_.busy;
    stats_.run_seconds += seconds;
  }
  cv_.notify_all();  // Stop may be waiting for the pool to be idle
  const std::string what = slot.worker_id + ": job " + lease.job_id + " (attempt " +
                           std::to_string(lease.attempt) + ")";
  if (slot.cancel) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.abandoned;
    Log(what + " stopped: its lease is lost or the drain time is up; nothing written");
    return;
  }
  Status s;
  for (int i = 0; i < kFinishTries; ++i) {
    const bool complete = out.error_code.empty();
    s = complete ? leases_.Complete(current, out.result_json, NowMs())
                 : leases_.Fail(current, out.error_code, out.error_message, NowMs());
    if (s.ok() || LeaseLost(s)) break;
    if (complete && s.code() == StatusCode::kInvalidArgument) {  // the result is over the limit
      out = RenderOutput::Error("render_failed", s.message());
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << i));
  }
  const bool ok = out.error_code.empty();
  std::lock_guard<std::mutex> lock(mu_);
  if (s.ok()) {
    ++(ok ? stats_.done : stats_.failed);
    Log(what + (ok ? " done" : " failed: " + out.error_code + ": " + out.error_message));
  } else if (LeaseLost(s)) {
    ++stats_.refused;
    Log(what + " finished, but its result was refused: " + s.message());
  } else {
    ++stats_.abandoned;
    Log(what + " finished, but could not be stored (" + s.ToString() +
        "); its lease will lapse and the job run again");
  }
}

void WorkerPool::KeeperLoop() {
  const auto interval = std::chrono::milliseconds(std::max<int64_t>(options_.lease_ms / 3, 10));
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (cv_.wait_for(lock, interval, [&] { return draining_over_; })) return;
    std::vector<std::pair<Slot*, sync::Lease>> running;
    for (auto& slot : slots_) {
      if (slot->lease && !slot->cancel) running.emplace_back(slot.get(), *slot->lease);
    }
    lock.unlock();
    for (auto& [slot, lease] : running) {
      Result<sync::Lease> renewed = leases_.Renew(lease, NowMs());
      std::lock_guard<std::mutex> relock(mu_);
      const bool same = slot->lease && slot->lease->job_id == lease.job_id &&
                        slot->lease->attempt == lease.attempt;
      if (!same) continue;  // that render ended meanwhile
      if (renewed.ok()) {
        slot->lease = *renewed;
      } else if (LeaseLost(renewed.status())) {
        slot->cancel = true;
        Log(slot->worker_id + ": job " + lease.job_id + " is no longer ours (" +
            renewed.status().message() + "); stopping its render");
      } else {
        Log(slot->worker_id + ": cannot renew the lease of job " + lease.job_id + " (" +
            renewed.status().ToString() + "); trying again");
      }
    }
    lock.lock();
  }
}

void WorkerPool::Stop() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (threads_.empty() || stopping_) return;
    stopping_ = true;
    cv_.notify_all();
    if (stats_.busy > 0) Log("stopping: waiting for " + std::to_string(stats_.busy) + " job(s)");
    cv_.wait_for(lock, std::chrono::milliseconds(options_.drain_ms),
                 [&] { return stats_.busy == 0; });
    for (auto& slot : slots_) {
      if (!slot->lease) continue;
      slot->cancel = true;
      Log(slot->worker_id + ": the drain time is up; job " + slot->lease->job_id +
          " is left for its lease to lapse and another worker to run");
    }
    draining_over_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  keeper_.join();
}

}  // namespace cairn::server
