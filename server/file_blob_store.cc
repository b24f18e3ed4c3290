#include "server/file_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
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

int64_t ModifiedMs(const struct stat& st) {
  return int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

// The names in directory `path` (none if it does not exist).
Result<std::vector<std::string>> Names(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return names;
    return Errno("list", path);
  }
  while (const dirent* e = ::readdir(dir)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  return names;
}

std::string Mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

constexpr auto kRecountAfter = std::chrono::seconds(60);

}  // namespace

Result<std::unique_ptr<FileBlobStore>> FileBlobStore::Open(std::string root,
                                                           FileBlobStoreOptions options) {
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
  return std::unique_ptr<FileBlobStore>(new FileBlobStore(std::move(root), options));
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

Status FileBlobStore::CheckBytes(std::string_view hash, std::string_view bytes) const {
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
  return Status::Ok();
}

Result<bool> FileBlobStore::Put(std::string_view device_id, std::string_view hash,
                                std::string_view bytes) {
  CAIRN_RETURN_IF_ERROR(PathOf(device_id, hash).status());
  CAIRN_RETURN_IF_ERROR(CheckBytes(hash, bytes));
  return Store(device_id, hash, bytes, 0);
}

Result<bool> FileBlobStore::Upload(std::string_view device_id, std::string_view hash,
                                   std::string_view bytes) {
  if (options_.quota_bytes == 0) return Put(device_id, hash, bytes);
  CAIRN_RETURN_IF_ERROR(PathOf(device_id, hash).status());
  CAIRN_RETURN_IF_ERROR(CheckBytes(hash, bytes));
  CAIRN_ASSIGN_OR_RETURN(bool exists, Has(device_id, hash));
  if (exists) return Store(device_id, hash, bytes, 0);  // the device has it: never refused
  const uint64_t n = bytes.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = usage_.find(device_id);
    const auto now = std::chrono::steady_clock::now();
    bool counted_now = false;
    auto recount = [&]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(uint64_t counted, Usage(device_id));
      if (it == usage_.end()) it = usage_.try_emplace(std::string(device_id)).first;
      it->second.stored = counted;
      it->second.counted_at = now;
      counted_now = true;
      return Status::Ok();
    };
    if (it == usage_.end() || now - it->second.counted_at > kRecountAfter) {
      CAIRN_RETURN_IF_ERROR(recount());
    }
    auto over = [&] { return it->second.stored + it->second.pending + n > options_.quota_bytes; };
    if (over() && !counted_now) CAIRN_RETURN_IF_ERROR(recount());  // a refusal sees the disk
    if (over()) {
      const uint64_t used = it->second.stored + it->second.pending;
      return sync::WireStatus(
          sync::wire::kQuotaExceeded,
          "this device's images on the server take " + Mib(used) + " of its quota of " +
              Mib(options_.quota_bytes) + " (" + std::to_string(used) + " of " +
              std::to_string(options_.quota_bytes) + " bytes); this upload of " +
              std::to_string(n) + " bytes does not fit, so nothing was stored. Images no job "
              "refers to are removed after a while: try again later, or export fewer at once");
    }
    it->second.pending += n;
  }
  return Store(device_id, hash, bytes, n);
}

Result<bool> FileBlobStore::Store(std::string_view device_id, std::string_view hash,
                                  std::string_view bytes, uint64_t reserved) {
  Result<bool> created = Write(device_id, hash, bytes);
  if (reserved > 0 || (created.ok() && *created)) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = usage_.find(device_id);
    if (it != usage_.end()) {
      it->second.pending -= std::min(it->second.pending, reserved);
      if (created.ok() && *created) it->second.stored += bytes.size();
    }
  }
  return created;
}

Result<bool> FileBlobStore::Write(std::string_view device_id, std::string_view hash,
                                  std::string_view bytes) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, PathOf(device_id, hash));
  CAIRN_ASSIGN_OR_RETURN(bool exists, Has(device_id, hash));
  if (exists) {
    // Already there, unless the copy on disk was damaged: then this upload repairs it.
    Result<std::optional<std::string>> stored = Get(device_id, hash);
    if (stored.ok() && stored->has_value()) {
      // Uploaded again: young again for garbage collection. Under mu_, so a collection that
      // has not removed it yet sees the new time; if one removed it first, the touch fails
      // and the blob is written again below.
      std::lock_guard<std::mutex> lock(mu_);
      if (::utimensat(AT_FDCWD, path.c_str(), nullptr, 0) == 0) return false;
      if (errno != ENOENT) return Errno("touch", path);
    } else if (!stored.ok() && stored.status().code() != StatusCode::kCorruption) {
      return stored.status();
    }
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

Result<std::vector<std::string>> FileBlobStore::Devices() {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(root_));
  std::vector<std::string> devices;
  for (std::string& name : names) {
    if (IsDeviceId(name)) devices.push_back(std::move(name));
  }
  return devices;
}

Result<std::vector<StoredBlob>> FileBlobStore::List(std::string_view device_id) {
  if (!IsDeviceId(device_id)) return InvalidArgument("blob store: not a device id");
  const std::string device_dir = root_ + "/" + std::string(device_id);
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> shards, Names(device_dir));
  std::vector<StoredBlob> blobs;
  for (const std::string& shard : shards) {
    if (shard.size() != 2 || shard.starts_with(".")) continue;
    const std::string shard_dir = device_dir + "/" + shard;
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(shard_dir));
    for (std::string& name : names) {
      if (!sync::IsBlobHash(name) || !name.starts_with(shard)) continue;
      struct stat st;
      const std::string path = shard_dir + "/" + name;
      if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // removed meanwhile
        return Errno("look up", path);
      }
      if (!S_ISREG(st.st_mode)) continue;
      blobs.push_back({std::move(name), static_cast<uint64_t>(st.st_size), ModifiedMs(st)});
    }
  }
  return blobs;
}

Result<uint64_t> FileBlobStore::Usage(std::string_view device_id) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<StoredBlob> blobs, List(device_id));
  uint64_t total = 0;
  for (const StoredBlob& b : blobs) total += b.bytes;
  return total;
}

Result<bool> FileBlobStore::RemoveIfOlder(std::string_view device_id, std::string_view hash,
                                          int64_t older_than_ms) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, PathOf(device_id, hash));
  std::lock_guard<std::mutex> lock(mu_);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return Errno("look up", path);
  }
  if (ModifiedMs(st) >= older_than_ms) return false;
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return false;
    return Errno("remove", path);
  }
  auto it = usage_.find(device_id);
  if (it != usage_.end()) {
    it->second.stored -= std::min(it->second.stored, static_cast<uint64_t>(st.st_size));
  }
  return true;
}

Result<int> FileBlobStore::RemoveTemporariesOlder(std::string_view device_id,
                                                  int64_t older_than_ms) {
  if (!IsDeviceId(device_id)) return InvalidArgument("blob store: not a device id");
  const std::string device_dir = root_ + "/" + std::string(device_id);
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(device_dir));
  int removed = 0;
  for (const std::string& name : names) {
    if (!name.starts_with(".tmp-")) continue;
    const std::string path = device_dir + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (ModifiedMs(st) >= older_than_ms) continue;  // maybe an upload being written
    if (::unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
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
