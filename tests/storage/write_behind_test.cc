// WriteBehind over SQLite's own file VFS: held writes are seen by reads and sizes, reach the
// file at sync, truncate and flush, and a write the file refuses fails the call that hands it
// down.
#include "storage/write_behind.h"

#include <catch_amalgamated.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace cairn::storage {
namespace {

using cairn::testing::TempDir;

struct OpenFile {
  std::unique_ptr<char[]> mem;
  sqlite3_file* file = nullptr;
  sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  std::string path;

  explicit OpenFile(std::string p) : path(std::move(p)) {
    mem = std::make_unique<char[]>(static_cast<size_t>(vfs->szOsFile));
    file = reinterpret_cast<sqlite3_file*>(mem.get());
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MAIN_DB;
    REQUIRE(vfs->xOpen(vfs, path.c_str(), file, flags, nullptr) == SQLITE_OK);
  }
  ~OpenFile() { file->pMethods->xClose(file); }
  int64_t Size() {
    sqlite3_int64 n = -1;
    REQUIRE(file->pMethods->xFileSize(file, &n) == SQLITE_OK);
    return n;
  }
};

std::vector<uint8_t> Filled(size_t n, uint8_t v) { return std::vector<uint8_t>(n, v); }

TEST_CASE("write-behind joins contiguous writes and hands them down before anyone looks") {
  TempDir dir;
  OpenFile f(dir.path() + "/f");
  WriteBehind w(f.file);
  const auto a = Filled(24, 0xa1), b = Filled(4096, 0xb2), c = Filled(100, 0xc3);
  REQUIRE(w.Write(a.data(), 24, 32) == SQLITE_OK);
  REQUIRE(w.Write(b.data(), 4096, 56) == SQLITE_OK);  // continues a
  CHECK(f.Size() == 0);                               // nothing reached the file yet
  sqlite3_int64 size = 0;
  REQUIRE(w.FileSize(&size) == SQLITE_OK);
  CHECK(size == 56 + 4096);  // but the size counts it
  REQUIRE(w.Write(c.data(), 100, 1000) == SQLITE_OK);  // inside the held bytes: overwrites

  // A read that does not touch the held bytes leaves them held; one that does sees them.
  uint8_t head[32];
  CHECK(w.Read(head, 32, 0) == SQLITE_IOERR_SHORT_READ);
  CHECK(f.Size() == 0);
  std::vector<uint8_t> got(4120);
  REQUIRE(w.Read(got.data(), 4120, 32) == SQLITE_OK);
  CHECK(f.Size() == 56 + 4096);
  CHECK(std::memcmp(got.data(), a.data(), 24) == 0);
  CHECK(got[24] == 0xb2);
  CHECK(got[1000 - 32] == 0xc3);
  CHECK(got[1100 - 32] == 0xb2);

  // A write elsewhere is held on its own; sync hands it down.
  REQUIRE(w.Write(c.data(), 100, 10'000) == SQLITE_OK);
  CHECK(f.Size() == 56 + 4096);
  REQUIRE(w.Sync(SQLITE_SYNC_NORMAL) == SQLITE_OK);
  CHECK(f.Size() == 10'100);

  // Truncate hands down first, so it cuts what was written, not before it.
  REQUIRE(w.Write(c.data(), 100, 10'100) == SQLITE_OK);
  REQUIRE(w.Truncate(10'150) == SQLITE_OK);
  CHECK(f.Size() == 10'150);

  // A write as large as the limit goes straight down.
  const auto big = Filled(static_cast<size_t>(WriteBehind::kMaxHeldBytes), 0xd4);
  REQUIRE(w.Write(big.data(), static_cast<int>(big.size()), 20'000) == SQLITE_OK);
  CHECK(f.Size() == 20'000 + WriteBehind::kMaxHeldBytes);
}

// A file whose writes fail: the failure surfaces where the held bytes are handed down.
int FailWrite(sqlite3_file*, const void*, int, sqlite3_int64) { return SQLITE_FULL; }

TEST_CASE("a write the file refuses fails the sync that hands it down, and is dropped") {
  TempDir dir;
  OpenFile f(dir.path() + "/f");
  sqlite3_io_methods failing = *f.file->pMethods;
  failing.xWrite = FailWrite;
  const sqlite3_io_methods* real = f.file->pMethods;
  f.file->pMethods = &failing;
  WriteBehind w(f.file);
  const auto a = Filled(4096, 1);
  CHECK(w.Write(a.data(), 4096, 0) == SQLITE_OK);  // held: the failure is not known yet
  CHECK(w.Sync(SQLITE_SYNC_NORMAL) == SQLITE_FULL);
  f.file->pMethods = real;
  CHECK(w.Sync(SQLITE_SYNC_NORMAL) == SQLITE_OK);  // dropped: nothing left to fail
  CHECK(f.Size() == 0);
}

}  // namespace
}  // namespace cairn::storage
