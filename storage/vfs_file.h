// VfsFile: a plain file through a SQLite VFS, for the vault's files that are not databases
// (the key file, blobs). Going through the VFS keeps one file abstraction for everything:
// POSIX natively, OPFS in the browser, the fault-injecting disk in tests.
#ifndef CAIRN_STORAGE_VFS_FILE_H_
#define CAIRN_STORAGE_VFS_FILE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/base/bytes.h"
#include "core/base/status.h"

namespace cairn::storage {

class VfsFile {
 public:
  enum class Mode { kRead, kReadWrite, kCreate };  // kCreate: read-write, created if missing

  static Result<VfsFile> Open(sqlite3_vfs* vfs, const std::string& path, Mode mode);
  VfsFile(VfsFile&&) noexcept;
  VfsFile& operator=(VfsFile&&) noexcept;
  ~VfsFile();

  // Reads and writes of any size are passed to the VFS in pieces of at most kMaxIoBytes: the
  // most SQLite itself ever asks of a VFS (its largest page), and all some VFSs handle (the
  // POSIX one masks a larger write's length to 17 bits).
  static constexpr size_t kMaxIoBytes = 64 * 1024;

  // Reads up to out.size() bytes at `offset`; returns how many were there (short at the end).
  Result<size_t> Read(int64_t offset, MutableByteView out);
  Status Write(int64_t offset, ByteView data);
  Status Sync();
  Status Truncate(int64_t size);
  Result<int64_t> Size();
  const std::string& path() const { return *path_; }

 private:
  VfsFile() = default;
  Status Error(const char* op, int rc) const;
  struct Closer {
    void operator()(sqlite3_file* f) const;
  };
  // The VFS may keep the name's pointer until close (the POSIX one does, to sync the
  // directory), so it lives at a stable address for the file's whole life. Declared before
  // file_, so it is destroyed after the file is closed.
  std::unique_ptr<std::string> path_;
  std::unique_ptr<sqlite3_file, Closer> file_;
};

Result<bool> VfsExists(sqlite3_vfs* vfs, const std::string& path);
// Deleting a file that does not exist is OK.
Status VfsDelete(sqlite3_vfs* vfs, const std::string& path);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_VFS_FILE_H_
