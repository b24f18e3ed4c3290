#include "storage/cipher_vfs.h"

#include <catch_amalgamated.hpp>

#include <filesystem>

#include "core/crypto/random.h"
#include "storage/sqlite_util.h"
#include "tests/support/temp_dir.h"

namespace cairn::storage {
namespace {

using cairn::testing::Contains;
using cairn::testing::ReadFileBytes;
using cairn::testing::TempDir;
using cairn::testing::WriteFileBytes;

constexpr char kMarker[] = "PLAINTEXT-MARKER-7f3a";

struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close_v2(db); }
};

// Opens `path` through `vfs`; on a new file, sets the 40 reserved bytes first.
int OpenDb(const std::string& path, const CipherVfs& vfs, Db* out) {
  int rc = sqlite3_open_v2(path.c_str(), &out->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE,
                           vfs.name());
  if (rc != SQLITE_OK) return rc;
  int reserve = kPageReserve;
  sqlite3_file_control(out->db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  return SQLITE_OK;
}

void Fill(sqlite3* db, int rows) {
  REQUIRE(Exec(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)").ok());
  REQUIRE(Exec(db, "BEGIN").ok());
  for (int i = 0; i < rows; ++i) {
    Stmt q = Stmt::Prepare(db, "INSERT INTO t (body) VALUES (?)").value();
    q.Bind(1, std::string(kMarker) + " row " + std::to_string(i) + std::string(200, 'x'));
    REQUIRE(q.Run().ok());
  }
  REQUIRE(Exec(db, "COMMIT").ok());
}

int64_t CountRows(sqlite3* db) {
  Stmt q = Stmt::Prepare(db, "SELECT count(*) FROM t").value();
  REQUIRE(q.Step().value());
  return q.Int(0);
}

struct Keys {
  SecretBytes key = crypto::RandomSecret(32);
  Bytes id = crypto::RandomBytes(kVaultIdBytes);
};

TEST_CASE("no plaintext reaches the database, its WAL or its rollback journal") {
  TempDir dir;
  Keys k;
  auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();

  for (const char* mode : {"WAL", "PERSIST"}) {
    const std::string path = dir / (std::string("scan-") + mode + ".db");
    Db db;
    REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
    REQUIRE(Exec(db.db, std::string("PRAGMA journal_mode=") + mode).ok());
    Fill(db.db, 300);
    // Rewrite rows so the journal holds old page images and the WAL holds new ones.
    REQUIRE(Exec(db.db, "UPDATE t SET body = body || ' updated'").ok());
    CHECK(CountRows(db.db) == 300);
    const std::string side = std::string(mode) == "WAL" ? path + "-wal" : path + "-journal";
    REQUIRE(std::filesystem::exists(side));
    CHECK(std::filesystem::file_size(side) > 0);
    for (const std::string& file : {path, side}) {
      Bytes raw = ReadFileBytes(file);
      INFO(file);
      CHECK_FALSE(Contains(raw, kMarker));
      CHECK_FALSE(Contains(raw, "SQLite format 3"));
      CHECK_FALSE(Contains(raw, "CREATE TABLE"));
    }
  }
}

TEST_CASE("a database reopens and reads back through the cipher VFS") {
  TempDir dir;
  Keys k;
  const std::string path = dir / "round.db";
  {
    auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
    Db db;
    REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
    REQUIRE(Exec(db.db, "PRAGMA journal_mode=WAL").ok());
    Fill(db.db, 500);
  }
  auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
  Db db;
  REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
  CHECK(CountRows(db.db) == 500);
  Stmt q = Stmt::Prepare(db.db, "PRAGMA integrity_check").value();
  REQUIRE(q.Step().value());
  CHECK(q.Text(0) == "ok");
}

// Opens a copy of the database at `path` (after `mutate`) and reads every page.
Status ReadAll(const std::string& path, const Keys& k, std::string* vfs_error) {
  auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
  Db db;
  int rc = OpenDb(path, *vfs, &db);
  Status s = SqliteStatus(db.db, rc, "open");
  if (s.ok()) {
    Stmt q = Stmt::Prepare(db.db, "SELECT count(*), sum(length(body)) FROM t").value();
    Result<bool> row = q.Step();
    s = row.status();
    if (s.ok()) s = Exec(db.db, "PRAGMA integrity_check");
  }
  *vfs_error = vfs->last_error();
  return s;
}

TEST_CASE("flipping a byte in any page is detected and names the page") {
  TempDir dir;
  Keys k;
  const std::string path = dir / "tamper.db";
  {
    auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
    Db db;
    REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
    Fill(db.db, 60);  // rollback journal mode: everything lands in the database file
  }
  const Bytes original = ReadFileBytes(path);
  const size_t pages = original.size() / kPageSize;
  REQUIRE(pages >= 4);
  std::string err;
  REQUIRE(ReadAll(path, k, &err).ok());
  for (size_t page = 0; page < pages; ++page) {
    for (size_t where : {size_t{0}, size_t{1000}, size_t{kPageSize - 1}}) {  // body, body, tag
      Bytes bad = original;
      bad[page * kPageSize + where] ^= 0x20;
      WriteFileBytes(path, bad);
      Status s = ReadAll(path, k, &err);
      INFO("page " << page + 1 << " byte " << where);
      CHECK_FALSE(s.ok());
      CHECK_THAT(err, Catch::Matchers::ContainsSubstring("page " + std::to_string(page + 1) +
                                                         ": authentication failed"));
    }
  }
  WriteFileBytes(path, original);
  CHECK(ReadAll(path, k, &err).ok());
}

TEST_CASE("pages cannot be swapped, and a file opens only under its own key and vault id") {
  TempDir dir;
  Keys k;
  const std::string path = dir / "swap.db";
  {
    auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
    Db db;
    REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
    Fill(db.db, 60);
  }
  const Bytes original = ReadFileBytes(path);
  Bytes swapped = original;
  std::copy(original.begin() + kPageSize, original.begin() + 2 * kPageSize,
            swapped.begin() + 2 * kPageSize);  // page 2's bytes written over page 3
  WriteFileBytes(path, swapped);
  std::string err;
  CHECK_FALSE(ReadAll(path, k, &err).ok());
  CHECK_THAT(err, Catch::Matchers::ContainsSubstring("page 3"));

  WriteFileBytes(path, original);
  Keys other_key{crypto::RandomSecret(32), k.id};
  Status wrong_key = ReadAll(path, other_key, &err);
  CHECK(wrong_key.code() == StatusCode::kIoError);  // never SQLITE_CORRUPT
  CHECK_THAT(err, Catch::Matchers::ContainsSubstring("page 1: authentication failed"));
  Keys other_vault{k.key.Clone(), crypto::RandomBytes(kVaultIdBytes)};
  CHECK_FALSE(ReadAll(path, other_vault, &err).ok());
}

TEST_CASE("temporary files are refused rather than written in plaintext") {
  Keys k;
  auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
  sqlite3_vfs* v = sqlite3_vfs_find(vfs->name());
  REQUIRE(v != nullptr);
  std::vector<char> buf(static_cast<size_t>(v->szOsFile));
  auto* file = reinterpret_cast<sqlite3_file*>(buf.data());
  int rc = v->xOpen(v, nullptr, file, SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_READWRITE |
                                          SQLITE_OPEN_CREATE | SQLITE_OPEN_DELETEONCLOSE,
                    nullptr);
  CHECK(rc == SQLITE_CANTOPEN);
  CHECK_THAT(vfs->last_error(), Catch::Matchers::ContainsSubstring("refused"));
}

}  // namespace
}  // namespace cairn::storage
