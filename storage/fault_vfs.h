// FaultVfs: an in-memory disk as a SQLite VFS, for tests that must provoke what a real disk
// only does by accident: a failed write or sync, a full disk, and power loss.
//
// Every file has its current bytes and its durable bytes (as of its last xSync). Crash()
// models power loss: every file goes back to its durable bytes and files never synced vanish.
// Every xWrite, xSync and xTruncate is an operation, numbered from 1; FailAt(n) makes
// operation n fail (and, with `and_after`, every later one, as a dead process would).
//
// A test double, named as such: production code never uses it. Single-process and without
// shared memory, so SQLite needs `PRAGMA locking_mode=EXCLUSIVE` for WAL on it.
#ifndef CAIRN_STORAGE_FAULT_VFS_H_
#define CAIRN_STORAGE_FAULT_VFS_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/status.h"

namespace cairn::storage {

class FaultVfs {
 public:
  static Result<std::unique_ptr<FaultVfs>> Register();
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  sqlite3_vfs* vfs() { return &vfs_; }
  const char* name() const { return name_.c_str(); }

  int64_t operations() const;
  void FailAt(int64_t op, int sqlite_rc, bool and_after);
  void ClearFaults();
  // Writes that would take the disk's total above `bytes` fail with SQLITE_FULL (-1: no limit).
  void SetCapacity(int64_t bytes);
  void Crash();

  std::vector<std::string> Files() const;
  // The current bytes of a file (nullptr if none): tests scan and corrupt them.
  Bytes* MutableFile(const std::string& path);
  // Replaces this disk's files with copies of `other`'s (current and durable bytes): a test
  // builds a database once and starts many runs from it. No file may be open on this disk.
  void CopyFilesFrom(const FaultVfs& other);

  struct File {
    Bytes current;
    Bytes durable;
    bool ever_synced = false;
  };
  // Internal, for the VFS callbacks.
  int Operation(int64_t* op_out);
  std::mutex mu_;
  std::map<std::string, File> files_;
  int64_t capacity_ = -1;
  int64_t TotalBytesLocked() const;

 private:
  FaultVfs() = default;
  sqlite3_vfs vfs_{};
  std::string name_;
  int64_t ops_ = 0;
  int64_t fail_at_ = 0;
  int fail_rc_ = SQLITE_IOERR;
  bool fail_after_ = false;
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_FAULT_VFS_H_
