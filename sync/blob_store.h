// BlobStore: where cairn-server keeps the bytes that jobs refer to — the source images devices
// upload (PUT /v1/blobs/{hash}, sync/PROTOCOL.md) and the renditions the workers make. Blobs are
// content-addressed (BLAKE2b-256, 64 lowercase hex digits) and owned by one device: the same
// bytes from two devices are two blobs, and a device reaches only its own.
//
//   Result<bool> created = store.Put(device_id, hash, bytes);   // false: it was there already
//   Result<std::optional<std::string>> bytes = store.Get(device_id, hash);
//
// Contract for implementations:
//   - Put checks that `bytes` hash to `hash` (kInvalidArgument "hash_mismatch: ..." otherwise)
//     and writes atomically: after a crash the blob is either complete or absent. Putting a blob
//     that exists changes nothing and returns false.
//   - Get returns nullopt for a blob the device does not have; it verifies the hash of what it
//     read (kCorruption naming the blob otherwise).
//   - Thread-safe: any number of threads and processes may use one store at once.
//   - device_id and hash are checked (32 and 64 lowercase hex digits): kInvalidArgument otherwise,
//     so neither can ever name a path outside the store.
//   - Upload is Put for what a device sends (PUT /v1/blobs/{hash}): a store with a per-device
//     quota refuses a new blob that would take the device's blobs past it (wire code
//     quota_exceeded, 413; nothing stored). A blob the device already has is never refused.
//     Put (the render workers' renditions) is never refused for the quota.
// server/file_blob_store.h is the implementation (files under a directory).
#ifndef CAIRN_SYNC_BLOB_STORE_H_
#define CAIRN_SYNC_BLOB_STORE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace cairn::sync {

inline constexpr size_t kMaxBlobBytes = 24 * 1024 * 1024;
inline constexpr size_t kBlobHashChars = 64;

// 64 lowercase hex digits.
bool IsBlobHash(std::string_view text);
// Lowercase hex BLAKE2b-256 of `bytes`.
std::string BlobHashOf(std::string_view bytes);

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual Result<bool> Put(std::string_view device_id, std::string_view hash,
                           std::string_view bytes) = 0;
  virtual Result<std::optional<std::string>> Get(std::string_view device_id,
                                                 std::string_view hash) = 0;
  virtual Result<bool> Has(std::string_view device_id, std::string_view hash) = 0;
  // Put, within the device's quota if the store has one (this default has none).
  virtual Result<bool> Upload(std::string_view device_id, std::string_view hash,
                              std::string_view bytes) {
    return Put(device_id, hash, bytes);
  }
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_BLOB_STORE_H_
