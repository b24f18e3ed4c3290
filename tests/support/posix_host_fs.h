// A test double for the browser's OPFS: HostFileSystem over POSIX files, so the vault runs
// natively (and under Node) through exactly the VFS the browser uses. It can also stand in for
// a storage quota: writes that would take the total past `quota_bytes` fail as OPFS's
// QuotaExceededError does.
#ifndef CAIRN_TESTS_SUPPORT_POSIX_HOST_FS_H_
#define CAIRN_TESTS_SUPPORT_POSIX_HOST_FS_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

#include "storage/host_fs_vfs.h"

namespace cairn::testing {

class PosixHostFs final : public storage::HostFileSystem {
 public:
  int64_t quota_bytes = -1;  // -1: none
  int64_t used_bytes = 0;    // growth through this object, for the quota
  // Every read (R), write (W), truncate (T) and flush (F) in order: what the browser's OPFS
  // half would be asked to do.
  std::string calls;

  Result<int> Open(const std::string& path, bool create) override {
    int fd = ::open(path.c_str(), O_RDWR | (create ? O_CREAT : 0), 0600);
    if (fd < 0) return NotFound(path + ": cannot open");
    return fd;
  }
  Result<size_t> Read(int h, int64_t off, MutableByteView out) override {
    calls += 'R';
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(h, out.data() + done, out.size() - done, off + done);
      if (n < 0) return IoError("read failed");
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }
  Status Write(int h, int64_t off, ByteView data) override {
    calls += 'W';
    Result<int64_t> size = Size(h);
    if (!size.ok()) return size.status();
    const int64_t grow = off + static_cast<int64_t>(data.size()) - *size;
    if (grow > 0 && quota_bytes >= 0 && used_bytes + grow > quota_bytes) {
      return ResourceExhausted("quota exceeded");
    }
    if (::pwrite(h, data.data(), data.size(), off) != static_cast<ssize_t>(data.size())) {
      return IoError("write failed");
    }
    if (grow > 0) used_bytes += grow;
    return Status::Ok();
  }
  Status Truncate(int h, int64_t size) override {
    calls += 'T';
    return ::ftruncate(h, size) == 0 ? Status::Ok() : IoError("truncate failed");
  }
  Result<int64_t> Size(int h) override {
    struct stat st;
    if (::fstat(h, &st) != 0) return IoError("stat failed");
    return static_cast<int64_t>(st.st_size);
  }
  Status Flush(int h) override {
    calls += 'F';
    return ::fsync(h) == 0 ? Status::Ok() : IoError("fsync failed");
  }
  Status Close(int h) override { return ::close(h) == 0 ? Status::Ok() : IoError("close failed"); }
  Status Delete(const std::string& path) override {
    ::unlink(path.c_str());
    return Status::Ok();
  }
  Result<bool> Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_POSIX_HOST_FS_H_
