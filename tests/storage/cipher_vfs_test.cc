#include "storage/cipher_vfs.h"

#include <catch_amalgamated.hpp>

#include <cstdio>
#include <filesystem>
#include <map>

#include "core/crypto/aead.h"
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
    Result<Stmt> q = Stmt::Prepare(db.db, "SELECT count(*), sum(length(body)) FROM t");
    s = q.status();
    if (s.ok()) s = q->Step().status();
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

// WAL geometry (storage/FORMAT.md): a 32-byte header, then frames of a 24-byte header and a page.
constexpr size_t kWalHeader = 32;
constexpr size_t kFrame = 24 + kPageSize;

uint32_t Be32(const Bytes& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         b[at + 3];
}

// A database in WAL mode whose WAL holds `txns` committed transactions (no checkpoint) of 40
// rows (several frames) and 3 rows (one frame) in turn, ending with 3, copied while the connection is open: the files as a power cut after the last
// commit would leave them. Returns the copy's database path.
std::string WalSnapshot(const TempDir& dir, const Keys& k, int txns, const std::string& name) {
  const std::string live = dir / (name + "-live.db");
  const std::string copy = dir / (name + ".db");
  auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
  Db db;
  REQUIRE(OpenDb(live, *vfs, &db) == SQLITE_OK);
  REQUIRE(Exec(db.db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                      "PRAGMA wal_autocheckpoint=0").ok());
  REQUIRE(Exec(db.db, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)").ok());
  REQUIRE(Exec(db.db, "PRAGMA wal_checkpoint(TRUNCATE)").ok());  // the table is in the database
  for (int i = 0; i < txns; ++i) Fill(db.db, (txns - i) % 2 == 0 ? 40 : 3);
  WriteFileBytes(copy, ReadFileBytes(live));
  WriteFileBytes(copy + "-wal", ReadFileBytes(live + "-wal"));
  return copy;
}

// The frames of `wal` that end a transaction (a non-zero "database size after commit").
std::vector<size_t> CommitFrames(const Bytes& wal) {
  std::vector<size_t> out;
  for (size_t f = 0; kWalHeader + (f + 1) * kFrame <= wal.size(); ++f) {
    if (Be32(wal, kWalHeader + f * kFrame + 4) != 0) out.push_back(f);
  }
  return out;
}

TEST_CASE("a checkpoint copies WAL frames into the database without re-encrypting them") {
  TempDir dir;
  Keys k;
  const std::string path = WalSnapshot(dir, k, 4, "copy");
  const Bytes wal = ReadFileBytes(path + "-wal");
  REQUIRE(wal.size() >= kWalHeader + 4 * kFrame);
  // The newest frame of each page is what the checkpoint writes to that page.
  std::map<uint32_t, size_t> newest;
  for (size_t f = 0; kWalHeader + (f + 1) * kFrame <= wal.size(); ++f) {
    newest[Be32(wal, kWalHeader + f * kFrame)] = f;
  }
  {
    auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
    Db db;
    REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
    CHECK(CountRows(db.db) == 86);
    REQUIRE(Exec(db.db, "PRAGMA wal_checkpoint(FULL)").ok());
  }
  const Bytes after = ReadFileBytes(path);
  for (const auto& [pgno, f] : newest) {
    INFO("page " << pgno << " from WAL frame " << f);
    REQUIRE(after.size() >= pgno * kPageSize);
    const auto image = wal.begin() + static_cast<std::ptrdiff_t>(kWalHeader + f * kFrame + 24);
    CHECK(std::equal(image, image + kPageSize,
                     after.begin() + static_cast<std::ptrdiff_t>((pgno - 1) * kPageSize)));
  }
}

TEST_CASE("a damaged committed WAL frame is reported, not silently dropped with what follows") {
  TempDir dir;
  Keys k;
  const std::string path = WalSnapshot(dir, k, 4, "damage");
  const Bytes db_file = ReadFileBytes(path);
  const Bytes wal = ReadFileBytes(path + "-wal");
  const std::vector<size_t> commits = CommitFrames(wal);
  REQUIRE(commits.size() == 4);
  const size_t frames = (wal.size() - kWalHeader) / kFrame;
  int reported = 0, dropped_last = 0;
  for (size_t f = 0; f < frames; ++f) {
    // The page image's body and tag, and the frame header's commit size, salt and checksum.
    for (size_t at : {size_t{24 + 100}, size_t{24 + kPageSize - 1}, size_t{7}, size_t{9},
                      size_t{17}}) {
      Bytes bad = wal;
      bad[kWalHeader + f * kFrame + at] ^= 0x04;
      WriteFileBytes(path, db_file);
      WriteFileBytes(path + "-wal", bad);
      std::string err;
      Status s = ReadAll(path, k, &err);
      INFO("frame " << f << " byte " << at << ": " << s.ToString() << " / " << err);
      // A commit mark flipped onto a frame inside the last transaction is damage no tear makes.
      const bool marked_commit = at == 7 && f > commits[2] && f != commits[3];
      if (f <= commits[2] || marked_commit) {
        // Another transaction was committed after this frame's: an error naming the frame.
        CHECK_FALSE(s.ok());
        CHECK_THAT(err, Catch::Matchers::ContainsSubstring("frame " + std::to_string(f) +
                                                           " (page "));
        CHECK_THAT(err, Catch::Matchers::ContainsSubstring("committed transactions follow"));
        ++reported;
      } else {
        // The last transaction's frames: damage cannot be told from a crash's tear, so the
        // transaction is dropped, as SQLite does; everything before it is there.
        REQUIRE(s.ok());
        auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
        Db db;
        REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
        CHECK(CountRows(db.db) == 83);
        ++dropped_last;
      }
    }
  }
  std::printf("WAL damage: %d flips in committed frames reported, %d in the last transaction "
              "dropped (%zu frames)\n", reported, dropped_last, frames);
  CHECK(reported > 0);
  CHECK(dropped_last > 0);
  // Undamaged, every transaction is there.
  WriteFileBytes(path, db_file);
  WriteFileBytes(path + "-wal", wal);
  auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
  Db db;
  REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
  CHECK(CountRows(db.db) == 86);
}

TEST_CASE("a WAL frame moved to another page's header fails to authenticate") {
  TempDir dir;
  Keys k;
  const std::string path = WalSnapshot(dir, k, 2, "move");
  Bytes wal = ReadFileBytes(path + "-wal");
  // Claim frame 0 holds another page: its image is bound to the page number it was written for.
  const size_t at = kWalHeader;
  const uint32_t pgno = Be32(wal, at) + 1;
  for (int i = 0; i < 4; ++i) wal[at + i] = static_cast<uint8_t>(pgno >> (24 - 8 * i));
  WriteFileBytes(path + "-wal", wal);
  std::string err;
  CHECK_FALSE(ReadAll(path, k, &err).ok());
  CHECK_THAT(err, Catch::Matchers::ContainsSubstring("frame 0 (page " + std::to_string(pgno) + ")"));
}

TEST_CASE("a WAL in format 1 (frames bound to their index) left by an older Cairn still reads") {
  TempDir dir;
  Keys k;
  const std::string path = WalSnapshot(dir, k, 3, "legacy");
  Bytes wal = ReadFileBytes(path + "-wal");
  // Re-encrypt every page image as format 1 did: associated data vault id || 2 (WAL) || frame.
  for (size_t f = 0; kWalHeader + (f + 1) * kFrame <= wal.size(); ++f) {
    uint8_t* img = wal.data() + kWalHeader + f * kFrame + 24;
    const uint32_t pgno = Be32(wal, kWalHeader + f * kFrame);
    auto ad = [&](uint8_t role, uint64_t index) {
      Bytes a(k.id.begin(), k.id.end());
      a.push_back(role);
      for (int i = 0; i < 8; ++i) a.push_back(static_cast<uint8_t>(index >> (8 * i)));
      return a;
    };
    const size_t body = kPageSize - kPageReserve;
    MutableByteView nonce(img + body, 24), tag(img + body + 24, 16), text(img, body);
    REQUIRE(crypto::AeadDecryptDetached(k.key.view(), nonce, ad(0, pgno - 1), text, tag, text).ok());
    crypto::RandomFill(nonce);
    REQUIRE(crypto::AeadEncryptDetached(k.key.view(), nonce, ad(2, f), text, text, tag).ok());
  }
  WriteFileBytes(path + "-wal", wal);
  auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
  {
    Db db;
    REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
    CHECK(CountRows(db.db) == 46);
    REQUIRE(Exec(db.db, "PRAGMA wal_checkpoint(TRUNCATE)").ok());  // format 1 into the database
  }
  Db db;
  REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
  CHECK(CountRows(db.db) == 46);
  Stmt q = Stmt::Prepare(db.db, "PRAGMA integrity_check").value();
  REQUIRE(q.Step().value());
  CHECK(q.Text(0) == "ok");
}

TEST_CASE("a checkpoint refuses a WAL frame damaged after the WAL was opened") {
  TempDir dir;
  Keys k;
  const std::string path = WalSnapshot(dir, k, 2, "late");
  const Bytes db_before = ReadFileBytes(path);
  auto vfs = CipherVfs::Register(sqlite3_vfs_find(nullptr), k.key.view(), k.id).value();
  Db db;
  REQUIRE(OpenDb(path, *vfs, &db) == SQLITE_OK);
  REQUIRE(Exec(db.db, "PRAGMA wal_autocheckpoint=0").ok());
  CHECK(CountRows(db.db) == 43);  // the WAL is recovered and in use
  Bytes wal = ReadFileBytes(path + "-wal");
  wal[kWalHeader + 24 + 500] ^= 0x01;  // frame 0's page image
  WriteFileBytes(path + "-wal", wal);
  Status s = Exec(db.db, "PRAGMA wal_checkpoint(FULL)");
  const std::string err = vfs->last_error();
  INFO(s.ToString() << " / " << err);
  CHECK_FALSE(s.ok());
  CHECK_THAT(err, Catch::Matchers::ContainsSubstring("frame 0 (page "));
  CHECK_THAT(err, Catch::Matchers::ContainsSubstring("during a checkpoint"));
  // The checkpoint stopped at the bad frame: the page it holds was not overwritten.
  const Bytes db_after = ReadFileBytes(path);
  const uint32_t pgno = Be32(wal, kWalHeader);
  REQUIRE(db_before.size() >= pgno * kPageSize);
  REQUIRE(db_after.size() >= pgno * kPageSize);
  const auto at = static_cast<std::ptrdiff_t>((pgno - 1) * kPageSize);
  CHECK(std::equal(db_before.begin() + at, db_before.begin() + at + kPageSize,
                   db_after.begin() + at));
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
