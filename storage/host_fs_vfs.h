// HostFsVfs: a SQLite VFS over HostFileSystem, the contract for hosts without POSIX files.
//
// In the browser the core worker holds an OPFS FileSystemSyncAccessHandle per open file and
// implements HostFileSystem with synchronous calls into JavaScript (api/, with the PWA); the
// vault, the cipher VFS and the blob store above it are the same code as natively. Natively,
// tests run the whole vault over a POSIX implementation of the contract
// (tests/support/posix_host_fs.h), so this VFS is tested where CI runs.
//
// Contract (what a HostFileSystem must do):
// - Calls are synchronous and come from one thread (the worker); no call re-enters.
// - Paths are '/'-separated strings chosen by the vault; a host maps them to its own names.
// - Open returns a handle (> 0) that stays valid until Close; one handle per open file. A
//   file opened twice (the database by two connections) is not supported: hosts like OPFS lock
//   a file to one access handle, so the vault runs with EXCLUSIVE locking and no -shm file.
// - Read returns how many bytes were there (fewer at the end of the file), never an error for
//   reading past the end. Write extends the file as needed (holes read as zeros).
// - Flush makes every write before it durable (OPFS: FileSystemSyncAccessHandle.flush()).
// - Errors: kResourceExhausted when storage is full or over quota (SQLite then reports
//   SQLITE_FULL and the transaction rolls back), kNotFound for a missing file, anything else
//   as kIoError. Messages name the path.
#ifndef CAIRN_STORAGE_HOST_FS_VFS_H_
#define CAIRN_STORAGE_HOST_FS_VFS_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/base/bytes.h"
#include "core/base/status.h"

namespace cairn::storage {

class HostFileSystem {
 public:
  virtual ~HostFileSystem() = default;
  virtual Result<int> Open(const std::string& path, bool create) = 0;
  virtual Result<size_t> Read(int handle, int64_t offset, MutableByteView out) = 0;
  virtual Status Write(int handle, int64_t offset, ByteView data) = 0;
  virtual Status Truncate(int handle, int64_t size) = 0;
  virtual Result<int64_t> Size(int handle) = 0;
  virtual Status Flush(int handle) = 0;
  virtual Status Close(int handle) = 0;
  virtual Status Delete(const std::string& path) = 0;  // OK if it does not exist
  virtual Result<bool> Exists(const std::string& path) = 0;
};

class HostFsVfs {
 public:
  // Registers a VFS named `name` (not the default) over `fs`, which must outlive it.
  static Result<std::unique_ptr<HostFsVfs>> Register(HostFileSystem* fs, const std::string& name);
  ~HostFsVfs();
  HostFsVfs(const HostFsVfs&) = delete;
  HostFsVfs& operator=(const HostFsVfs&) = delete;

  sqlite3_vfs* vfs() { return &vfs_; }
  HostFileSystem* fs() { return fs_; }

 private:
  HostFsVfs() = default;
  sqlite3_vfs vfs_{};
  std::string name_;
  HostFileSystem* fs_ = nullptr;
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_HOST_FS_VFS_H_
