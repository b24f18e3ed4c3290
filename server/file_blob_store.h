// FileBlobStore: the BlobStore (sync/blob_store.h) as files under one directory,
// ROOT/<device id>/<first 2 hash digits>/<hash>, each written to a temporary file in the device's
// directory, synced, renamed into place and its directory synced: a crash leaves a blob complete
// or absent (and at worst a stray ".tmp-*" file, removed by nothing but harmless). Putting a blob
// that exists reads it back first: a copy damaged on disk is replaced by the new upload.
//
//   auto blobs = FileBlobStore::Open("/var/lib/cairn/blobs");   // made 0700 (and parents) if missing
//   Result<bool> created = (*blobs)->Put(device_id, hash, bytes);
//
// Several cairn-server processes may share ROOT (a network file system, for servers on one
// PostgreSQL queue: sync/PROTOCOL.md): rename is atomic and a blob never changes once written.
// Thread-safe; no state beyond the directory.
#ifndef CAIRN_SERVER_FILE_BLOB_STORE_H_
#define CAIRN_SERVER_FILE_BLOB_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "sync/blob_store.h"

namespace cairn::server {

class FileBlobStore final : public sync::BlobStore {
 public:
  static Result<std::unique_ptr<FileBlobStore>> Open(std::string root);

  Result<bool> Put(std::string_view device_id, std::string_view hash,
                   std::string_view bytes) override;
  Result<std::optional<std::string>> Get(std::string_view device_id,
                                         std::string_view hash) override;
  Result<bool> Has(std::string_view device_id, std::string_view hash) override;

  const std::string& root() const { return root_; }

 private:
  explicit FileBlobStore(std::string root) : root_(std::move(root)) {}
  Result<std::string> PathOf(std::string_view device_id, std::string_view hash) const;

  const std::string root_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_FILE_BLOB_STORE_H_
