#include "server/blob_gc.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "sync/blob_store.h"

namespace cairn::server {
namespace {

using nlohmann::json;

// Every 64-hex string in `text` (JSON): whatever field a kind keeps its blobs in.
void CollectHashes(const json& j, std::set<std::string>& out) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (sync::IsBlobHash(s)) out.insert(s);
  } else if (j.is_structured()) {
    for (const json& child : j) CollectHashes(child, out);
  }
}

void CollectHashes(const std::string& text, std::set<std::string>& out) {
  if (text.empty()) return;
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) CollectHashes(j, out);
}

// The hashes the device's jobs refer to, from the changes feed (every job of the device).
Result<std::set<std::string>> Referenced(sync::JobStore& jobs, const std::string& device_id) {
  std::set<std::string> hashes;
  int64_t since = 0;
  constexpr int kPage = 500;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<sync::StoredJob> page,
                           jobs.ChangesSince(device_id, since, kPage));
    for (const sync::StoredJob& j : page) {
      CollectHashes(j.payload_json, hashes);
      CollectHashes(j.result_json, hashes);
      since = std::max(since, j.seq);
    }
    if (static_cast<int>(page.size()) < kPage) return hashes;
  }
}

}  // namespace

Result<BlobGcStats> CollectBlobGarbage(FileBlobStore& blobs, sync::JobStore& jobs, int64_t now_ms,
                                       int64_t max_age_ms) {
  BlobGcStats stats;
  const int64_t cutoff = now_ms - max_age_ms;
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> devices, blobs.Devices());
  for (const std::string& device : devices) {
    ++stats.devices;
    CAIRN_ASSIGN_OR_RETURN(int temporaries, blobs.RemoveTemporariesOlder(device, cutoff));
    stats.temporaries_removed += temporaries;
    CAIRN_ASSIGN_OR_RETURN(std::vector<StoredBlob> listed, blobs.List(device));
    stats.blobs += static_cast<int64_t>(listed.size());
    std::vector<const StoredBlob*> old;
    for (const StoredBlob& b : listed) {
      if (b.modified_ms < cutoff) old.push_back(&b);
    }
    if (old.empty()) continue;  // nothing to remove: no need to read the device's jobs
    // Read after listing: a job that refers to an old blob was submitted before this read, or
    // its upload made the blob young again (RemoveIfOlder checks the age once more).
    CAIRN_ASSIGN_OR_RETURN(std::set<std::string> referenced, Referenced(jobs, device));
    for (const StoredBlob* b : old) {
      if (referenced.contains(b->hash)) {
        ++stats.kept_referenced;
        continue;
      }
      CAIRN_ASSIGN_OR_RETURN(bool removed, blobs.RemoveIfOlder(device, b->hash, cutoff));
      if (removed) {
        ++stats.removed;
        stats.removed_bytes += b->bytes;
      }
    }
  }
  return stats;
}

Collector::Collector(FileBlobStore* blobs, sync::JobStore& jobs, sync::JobService* service,
                     CollectorOptions options, const Clock* clock)
    : blobs_(blobs), jobs_(jobs), service_(service), options_(options), clock_(clock) {}

Collector::~Collector() { Stop(); }

void Collector::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void Collector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

BlobGcStats Collector::Totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

// One pass, without mu_ held: retention first, then the blobs.
void Collector::Pass() {
  const int64_t now = clock_->NowUnixMillis();
  if (service_ != nullptr && options_.job_retention_ms > 0) {
    Result<int64_t> expired = service_->ExpireFinished(now, options_.job_retention_ms);
    if (!expired.ok()) {
      // The blobs are still collected: what the removed jobs referred to is free to go.
      std::fprintf(stderr, "cairn-server: job retention stopped early: %s\n",
                   expired.status().ToString().c_str());
    } else if (*expired > 0) {
      std::fprintf(stderr, "cairn-server: job retention removed %lld finished job(s)\n",
                   static_cast<long long>(*expired));
    }
    if (expired.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      totals_.jobs_expired += *expired;
    }
  }
  if (blobs_ == nullptr || options_.max_age_ms <= 0) return;
  Result<BlobGcStats> pass = CollectBlobGarbage(*blobs_, jobs_, now, options_.max_age_ms);
  if (!pass.ok()) {
    std::fprintf(stderr, "cairn-server: blob garbage collection stopped early: %s\n",
                 pass.status().ToString().c_str());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    totals_.devices += pass->devices;
    totals_.blobs += pass->blobs;
    totals_.removed += pass->removed;
    totals_.removed_bytes += pass->removed_bytes;
    totals_.kept_referenced += pass->kept_referenced;
    totals_.temporaries_removed += pass->temporaries_removed;
  }
  if (pass->removed > 0 || pass->temporaries_removed > 0) {
    std::fprintf(stderr,
                 "cairn-server: blob garbage collection removed %lld blob(s), %llu bytes, "
                 "and %lld stray temporary file(s)\n",
                 static_cast<long long>(pass->removed),
                 static_cast<unsigned long long>(pass->removed_bytes),
                 static_cast<long long>(pass->temporaries_removed));
  }
}

void Collector::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    Pass();
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.interval_ms), [&] { return stop_; });
  }
}

std::string BlobGcMetricsText(const BlobGcStats& t) {
  return "# HELP cairn_blob_gc_removed_total Blobs removed by garbage collection (old, and no job "
         "refers to them).\n"
         "# TYPE cairn_blob_gc_removed_total counter\n"
         "cairn_blob_gc_removed_total " + std::to_string(t.removed) + "\n"
         "# HELP cairn_blob_gc_removed_bytes_total Bytes of the blobs garbage collection removed.\n"
         "# TYPE cairn_blob_gc_removed_bytes_total counter\n"
         "cairn_blob_gc_removed_bytes_total " + std::to_string(t.removed_bytes) + "\n"
         "# HELP cairn_jobs_expired_total Finished jobs removed by the retention rule.\n"
         "# TYPE cairn_jobs_expired_total counter\n"
         "cairn_jobs_expired_total " + std::to_string(t.jobs_expired) + "\n";
}

}  // namespace cairn::server
