// FileBlobStore: the BlobStore (sync/blob_store.h) as files under one directory,
// ROOT/<device id>/<first 2 hash digits>/<hash>, each written to a temporary file in the device's
// directory, synced, renamed into place and its directory synced: a crash leaves a blob complete
// or absent (and at worst a stray ".tmp-*" file, removed by garbage collection once old).
// Putting a blob that exists reads it back first: a copy damaged on disk is replaced by the new
// upload.
//
//   auto blobs = FileBlobStore::Open("/var/lib/cairn/blobs");   // made 0700 (and parents) if missing
//   Result<bool> created = (*blobs)->Put(device_id, hash, bytes);
//
// Putting a blob that is there already also sets its modification time to now: the time a blob
// was last written or uploaded is its age for garbage collection (server/blob_gc.h).
//
// Quota (FileBlobStoreOptions::quota_bytes): Upload refuses a new blob that would take the bytes
// of the device's blobs (its uploads and the renditions made for it) past the quota, with
// quota_exceeded (413) and nothing stored. The device's usage is counted by listing its
// directory, at its first upload, then kept in memory: each upload reserves its size before it
// writes, so concurrent uploads cannot pass the quota together; the count is made again when it
// is over a minute old and before any refusal (so a refusal always sees the directory as it is,
// e.g. after garbage collection or another server's uploads into a shared ROOT).
//
// Several cairn-server processes may share ROOT (a network file system, for servers on one
// PostgreSQL queue: sync/PROTOCOL.md): rename is atomic and a blob never changes once written.
// With a shared ROOT each server counts the others' uploads only when it lists the directory
// again (at most a minute later), so a device uploading to several servers at once may pass its
// quota by what it uploaded in that minute.
// Thread-safe; no state beyond the directory but the usage counts.
#ifndef CAIRN_SERVER_FILE_BLOB_STORE_H_
#define CAIRN_SERVER_FILE_BLOB_STORE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "sync/blob_store.h"

namespace cairn::server {

inline constexpr uint64_t kDefaultBlobQuotaBytes = uint64_t{512} << 20;  // 512 MiB per device

struct FileBlobStoreOptions {
  uint64_t quota_bytes = 0;  // per device, for Upload; 0: no quota
};

// One blob as listed (for garbage collection and tests).
struct StoredBlob {
  std::string hash;
  uint64_t bytes = 0;
  int64_t modified_ms = 0;  // last written or uploaded (unix ms)
};

class FileBlobStore final : public sync::BlobStore {
 public:
  static Result<std::unique_ptr<FileBlobStore>> Open(std::string root,
                                                     FileBlobStoreOptions options = {});

  Result<bool> Put(std::string_view device_id, std::string_view hash,
                   std::string_view bytes) override;
  Result<std::optional<std::string>> Get(std::string_view device_id,
                                         std::string_view hash) override;
  Result<bool> Has(std::string_view device_id, std::string_view hash) override;
  // Put within the quota (above).
  Result<bool> Upload(std::string_view device_id, std::string_view hash,
                      std::string_view bytes) override;

  // Garbage collection's view: the devices with a directory here, a device's blobs, and
  // removing one (or a stray temporary file) only if it was not written or uploaded since
  // `older_than_ms` (unix ms): false when it was, or is gone already.
  Result<std::vector<std::string>> Devices();
  Result<std::vector<StoredBlob>> List(std::string_view device_id);
  Result<bool> RemoveIfOlder(std::string_view device_id, std::string_view hash,
                             int64_t older_than_ms);
  Result<int> RemoveTemporariesOlder(std::string_view device_id, int64_t older_than_ms);
  // The bytes of the device's blobs, counted from its directory now.
  Result<uint64_t> Usage(std::string_view device_id);

  const std::string& root() const { return root_; }
  uint64_t quota_bytes() const { return options_.quota_bytes; }

 private:
  FileBlobStore(std::string root, FileBlobStoreOptions options)
      : root_(std::move(root)), options_(options) {}
  Result<std::string> PathOf(std::string_view device_id, std::string_view hash) const;
  Status CheckBytes(std::string_view hash, std::string_view bytes) const;
  // Write, then settle the usage count: `reserved` bytes no longer pending, the blob's bytes
  // stored if it was created.
  Result<bool> Store(std::string_view device_id, std::string_view hash, std::string_view bytes,
                     uint64_t reserved);
  // The write itself (the class comment's Put), of bytes CheckBytes has passed.
  Result<bool> Write(std::string_view device_id, std::string_view hash, std::string_view bytes);

  const std::string root_;
  const FileBlobStoreOptions options_;
  // mu_ guards usage_, and orders a re-upload's touch against RemoveIfOlder.
  struct UsageCount {
    uint64_t stored = 0;   // counted from the directory, plus this process's uploads since
    uint64_t pending = 0;  // reserved by uploads being written
    std::chrono::steady_clock::time_point counted_at;
  };
  std::mutex mu_;
  std::map<std::string, UsageCount, std::less<>> usage_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_FILE_BLOB_STORE_H_
