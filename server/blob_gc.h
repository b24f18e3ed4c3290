// Blob garbage collection: removes the uploaded images and renditions (server/file_blob_store.h)
// that no job refers to once they are older than a maximum age, so that blob storage does not
// grow for ever and a device's quota frees up. The Collector also applies job retention on the
// same schedule (sync::JobService::ExpireFinished), first in each pass: a job that finished
// longer than the retention ago goes, and with it its references, so the blobs only it referred
// to go in the same pass (if they are old enough: blobs' maximum age is shorter than jobs').
//
//   BlobGcStats s = CollectBlobGarbage(blobs, jobs, clock.NowUnixMillis(), 168 * kHourMs).value();
//   Collector gc(&blobs, jobs, &service,
//                {.max_age_ms = 168 * kHourMs, .job_retention_ms = 720 * kHourMs}, &clock);
//   gc.Start();   // a pass now, then one every interval_ms, on a thread of its own
//   gc.Stop();
//
// A blob's age is the time since it was last written or uploaded (an upload of a blob already
// there makes it young again). A blob is kept while any job of its device refers to it: a
// 64-hex string anywhere in the job's payload or result (an image-export source, a rendition's
// hash), whatever the job's kind and state; this errs towards keeping. Stray temporary files of
// interrupted uploads older than the maximum age go too.
// Why it cannot take a blob a device is about to use: a device uploads its source, then submits
// the job (sync/PROTOCOL.md); the upload makes the blob young, so the collection keeps it until
// the job refers to it. A job submitted for an old blob without uploading it again may find it
// gone and fail blob_missing (the device uploads it and submits a new job). The check of a
// blob's age and its removal are one step under the store's lock, so a re-upload in the same
// process is never lost; with servers sharing the blob directory, a re-upload on one server in
// the instant between another's check and removal is (the job then fails blob_missing).
// Threading: CollectBlobGarbage from any thread (the stores are thread-safe); Collector's
// Start and Stop from one thread.
#ifndef CAIRN_SERVER_BLOB_GC_H_
#define CAIRN_SERVER_BLOB_GC_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "server/file_blob_store.h"
#include "sync/job_service.h"
#include "sync/job_store.h"

namespace cairn::server {

inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr int64_t kDefaultBlobMaxAgeHours = 168;  // a week

struct BlobGcStats {
  int64_t devices = 0;         // device directories looked at
  int64_t blobs = 0;           // blobs looked at
  int64_t removed = 0;         // blobs removed
  uint64_t removed_bytes = 0;
  int64_t kept_referenced = 0;  // old, but a job refers to them
  int64_t temporaries_removed = 0;
  int64_t jobs_expired = 0;  // finished jobs removed by retention (Collector only)
};

// One pass over every device's blobs: removes those last written before now_ms - max_age_ms
// that none of the device's jobs refers to. Stops at the first store error.
Result<BlobGcStats> CollectBlobGarbage(FileBlobStore& blobs, sync::JobStore& jobs, int64_t now_ms,
                                       int64_t max_age_ms);

struct CollectorOptions {
  int64_t max_age_ms = kDefaultBlobMaxAgeHours * kHourMs;  // 0 (or no blob store): keep blobs
  int64_t interval_ms = kHourMs;
  int64_t job_retention_ms = 0;  // 0 (or no service): keep jobs
};

class Collector {
 public:
  // `blobs` and `service` may be null (nothing of theirs is collected); `service` is over `jobs`.
  Collector(FileBlobStore* blobs, sync::JobStore& jobs, sync::JobService* service,
            CollectorOptions options, const Clock* clock);
  ~Collector();  // stops
  void Start();
  void Stop();
  // Totals since Start, for /metrics.
  BlobGcStats Totals() const;

 private:
  void Run();
  void Pass();

  FileBlobStore* blobs_;
  sync::JobStore& jobs_;
  sync::JobService* service_;
  const CollectorOptions options_;
  const Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  BlobGcStats totals_;
  std::thread thread_;
};

// The Prometheus lines for /metrics.
std::string BlobGcMetricsText(const BlobGcStats& totals);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_BLOB_GC_H_
