#include "server/file_blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/base/bytes.h"
#include "core/crypto/random.h"
#include "sync/protocol.h"

namespace cairn::server {
namespace {

bool IsDeviceId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status Errno(const std::string& what, const std::string& path) {
  return IoError("blob store: cannot " + what + " " + path + ": " + std::strerror(errno));
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return Errno("create", path);
  return Status::Ok();
}

Status SyncDir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("sync", path);
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("write", path);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<FileBlobStore>> FileBlobStore::Open(std::string root) {
  if (root.empty()) return InvalidArgument("the blob store needs a directory");
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  for (size_t slash = root.find('/', 1); slash != std::string::npos;
       slash = root.find('/', slash + 1)) {
    CAIRN_RETURN_IF_ERROR(MakeDir(root.substr(0, slash)));  // its parents, like mkdir -p
  }
  CAIRN_RETURN_IF_ERROR(MakeDir(root));
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) return Errno("open", root);
  if (!S_ISDIR(st.st_mode)) return IoError("blob store: " + root + " is not a directory");
  return std::unique_ptr<FileBlobStore>(new FileBlobStore(std::move(root)));
}

Result<std::string> FileBlobStore::PathOf(std::string_view device_id,
                                          std::string_view hash) const {
  if (!IsDeviceId(device_id)) {
    return InvalidArgument("blob store: '" + std::string(device_id.substr(0, 40)) +
                           "' is not a device id");
  }
  if (!sync::IsBlobHash(hash)) {
    return InvalidArgument("blob store: '" + std::string(hash.substr(0, 70)) +
                           "' is not a BLAKE2b-256 hash");
  }
  return root_ + "/" + std::string(device_id) + "/" + std::string(hash.substr(0, 2)) + "/" +
         std::string(hash);
}

Result<bool> FileBlobStore::Has(std::string_view device_id, std::string_view hash) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, PathOf(device_id, hash));
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return Errno("look up", path);
}

Result<bool> FileBlobStore::Put(std::string_view device_id, std::string_view hash,
                                std::string_view bytes) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, PathOf(device_id, hash));
  if (bytes.size() > sync::kMaxBlobBytes) {
    return sync::WireStatus(sync::wire::kTooLarge,
                            "a blob is at most " + std::to_string(sync::kMaxBlobBytes) + " bytes");
  }
  const std::string actual = sync::BlobHashOf(bytes);
  if (actual != hash) {
    return sync::WireStatus(sync::wire::kHashMismatch,
                            "the body's BLAKE2b-256 is " + actual + ", not " + std::string(hash) +
                                " as the path says; nothing was stored");
  }
  CAIRN_ASSIGN_OR_RETURN(bool exists, Has(device_id, hash));
  if (exists) {
    // Already there, unless the copy on disk was damaged: then this upload repairs it.
    Result<std::optional<std::string>> stored = Get(device_id, hash);
    if (stored.ok()) return false;
    if (stored.status().code() != StatusCode::kCorruption) return stored.status();
  }
  const std::string device_dir = root_ + "/" + std::string(device_id);
  const std::string shard_dir = device_dir + "/" + std::string(hash.substr(0, 2));
  CAIRN_RETURN_IF_ERROR(MakeDir(device_dir));
  CAIRN_RETURN_IF_ERROR(MakeDir(shard_dir));
  const std::string tmp = device_dir + "/.tmp-" + ToHex(crypto::RandomBytes(8));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", tmp);
  Status s = WriteAll(fd, bytes, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = Errno("sync", tmp);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = Errno("rename into", path);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  CAIRN_RETURN_IF_ERROR(SyncDir(shard_dir));
  CAIRN_RETURN_IF_ERROR(SyncDir(device_dir));  // the shard directory's own entry
  return true;
}

Result<std::optional<std::string>> FileBlobStore::Get(std::string_view device_id,
                                                      std::string_view hash) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, PathOf(device_id, hash));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return Errno("open", path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || st.st_size < 0 ||
      static_cast<uint64_t>(st.st_size) > sync::kMaxBlobBytes) {
    ::close(fd);
    return Corruption("blob store: " + path + " is not a blob (bad size)");
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != bytes.size()) return Errno("read", path);
  if (sync::BlobHashOf(bytes) != hash) {
    return Corruption("blob store: " + path + " does not match its hash (damaged on disk)");
  }
  return std::optional<std::string>(std::move(bytes));
}

}  // namespace cairn::server
