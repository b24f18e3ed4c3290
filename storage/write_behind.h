// WriteBehind: holds a file's contiguous writes in memory and hands them to the file below as
// one write, so a transaction's WAL frames (each a 24-byte header and a 4096-byte page image,
// two writes to SQLite) reach the host in one call instead of two per page. In the browser every
// host call is a crossing from wasm into JavaScript and an OPFS call (about 15 µs each on the
// idle development machine, 35-45 µs under load: `run.mjs --vault` in bench/browser), and the
// 15.5 calls a save made were about 40% of its time.
//
// Durability is unchanged: nothing SQLite writes is promised before it syncs the file, and Sync
// hands every held byte to the file before syncing it. Reads, sizes, truncates and close see
// the held bytes first (Read hands them down when they overlap what it reads), so SQLite sees
// exactly what it wrote. A write the file below refuses fails the call that handed it down (a
// sync, a read, a truncate or close) with the file's error code (SQLITE_FULL for a full disk),
// and the bytes are dropped: they belonged to a transaction that was never acknowledged, which
// SQLite rolls back on that error.
//
// Owned by one open file; not thread-safe (SQLite serializes calls on a file).
#ifndef CAIRN_STORAGE_WRITE_BEHIND_H_
#define CAIRN_STORAGE_WRITE_BEHIND_H_

#include <sqlite3.h>

#include <cstdint>
#include <vector>

namespace cairn::storage {

class WriteBehind {
 public:
  // At most this many bytes are held (a save's frames: 32-50 KiB); a larger write goes straight
  // down. SQLite's unix VFS cannot take a write of 128 KiB or more in one call (it masks the
  // length with 0x1ffff), so the hand-down stays below that, as VfsFile::kMaxIoBytes does.
  static constexpr int64_t kMaxHeldBytes = 64 * 1024;

  // `real` is the file below; it must outlive this object.
  explicit WriteBehind(sqlite3_file* real) : real_(real) {}

  // Takes a write of `amt` bytes at `off`: joined to the held bytes when it continues them or
  // falls inside them, otherwise the held bytes go down first. SQLite result codes.
  int Write(const void* data, int amt, int64_t off);
  // Reads from the file below, after handing down held bytes that [off, off + amt) overlaps.
  int Read(void* out, int amt, int64_t off);
  // The file's size counting held bytes.
  int FileSize(sqlite3_int64* size);
  int Truncate(int64_t size);
  int Sync(int flags);
  // Hands every held byte to the file below.
  int Flush();

 private:
  sqlite3_file* real_;
  int64_t start_ = 0;          // file offset of held_[0]
  std::vector<uint8_t> held_;  // empty: nothing held
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_WRITE_BEHIND_H_
