// The vault over HostFsVfs: the VFS the browser uses (OPFS behind HostFileSystem), exercised
// natively through a POSIX stand-in.
#include "storage/host_fs_vfs.h"

#include <catch_amalgamated.hpp>

#include <algorithm>
#include <filesystem>

#include "core/crypto/random.h"
#include "storage/vault.h"
#include "tests/support/posix_host_fs.h"
#include "tests/support/temp_dir.h"

namespace cairn::storage {
namespace {

using cairn::testing::Contains;
using cairn::testing::PosixHostFs;
using cairn::testing::ReadFileBytes;
using cairn::testing::TempDir;

VaultOptions Over(HostFsVfs& vfs) {
  VaultOptions o;
  o.host_vfs = vfs.vfs();
  o.exclusive = true;  // as in the browser: one access handle per file, no -shm
  o.kdf = crypto::Argon2idParams{1, 64 * 1024};
  return o;
}

TEST_CASE("a vault over the host-file-system VFS works as over POSIX, and persists") {
  TempDir dir;
  PosixHostFs fs;
  auto vfs = HostFsVfs::Register(&fs, "test-host-fs").value();
  const Bytes photo = crypto::RandomBytes(300'000);
  std::string hash;
  int64_t id = 0;
  {
    auto v = Vault::Create(dir.path(), "pw", Over(*vfs)).value();
    DraftInput d;
    d.caption = "HOSTFS-CAPTION drafted offline";
    id = v->CreateDraft(d).value();
    hash = v->PutBlob(photo).value();
    CHECK(v->SearchDrafts("offline", 5).value().size() == 1);
  }
  CHECK(Vault::Open(dir.path(), "wrong", Over(*vfs)).status().code() ==
        StatusCode::kWrongPassphrase);
  auto v = Vault::Open(dir.path(), "pw", Over(*vfs)).value();
  CHECK(v->GetDraft(id).value().content.caption == "HOSTFS-CAPTION drafted offline");
  CHECK(v->ReadBlob(hash).value() == photo);
  CHECK(v->IntegrityCheck().value() == "ok");
  CHECK_FALSE(std::filesystem::exists(dir / "vault.db-shm"));
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    CHECK_FALSE(Contains(ReadFileBytes(e.path().string()), "HOSTFS-CAPTION"));
  }
}

TEST_CASE("an exceeded quota is a clear error that loses nothing committed") {
  TempDir dir;
  PosixHostFs fs;
  auto vfs = HostFsVfs::Register(&fs, "test-host-fs-quota").value();
  auto v = Vault::Create(dir.path(), "pw", Over(*vfs)).value();
  DraftInput d;
  d.caption = "fits";
  REQUIRE(v->CreateDraft(d).ok());
  fs.quota_bytes = fs.used_bytes;  // the quota is reached
  d.caption = std::string(50'000, 'q');
  Status s = v->CreateDraft(d).status();
  CHECK(s.code() == StatusCode::kResourceExhausted);
  Status blob = v->PutBlob(crypto::RandomBytes(100'000)).status();
  CHECK(blob.code() == StatusCode::kResourceExhausted);
  fs.quota_bytes = -1;
  CHECK(v->ListDrafts(10).value().size() == 1);
  CHECK(v->IntegrityCheck().value() == "ok");
  d.caption = "room again";
  CHECK(v->CreateDraft(d).ok());
}

// Regression test for issue #9 (saves at 0.65x of sqlite-wasm): every WAL frame reached OPFS as
// two calls (its header, then its page image), about 15 per save, each a crossing into JS.
TEST_CASE("a save reaches the host in one write, then one flush that makes it durable") {
  TempDir dir;
  PosixHostFs fs;
  auto vfs = HostFsVfs::Register(&fs, "test-host-fs-calls").value();
  auto v = Vault::Create(dir.path(), "pw", Over(*vfs)).value();
  DraftInput d;
  d.caption = "first";
  const int64_t id = v->CreateDraft(d).value();
  for (int i = 0; i < 3; ++i) {
    fs.calls.clear();
    d.caption = "save " + std::to_string(i);
    if (i == 0) {
      REQUIRE(v->CreateDraft(d).ok());
    } else {
      REQUIRE(v->UpdateDraft(id, d).ok());  // history row, FTS delete + insert: more pages
    }
    INFO("host calls: " << fs.calls);
    CHECK(std::count(fs.calls.begin(), fs.calls.end(), 'W') == 1);
    CHECK(fs.calls.back() == 'F');
    CHECK(std::count(fs.calls.begin(), fs.calls.end(), 'F') == 1);
  }
  // What was flushed is what a fresh open reads.
  v.reset();
  auto again = Vault::Open(dir.path(), "pw", Over(*vfs)).value();
  CHECK(again->GetDraft(id).value().content.caption == "save 2");
  CHECK(again->ListDrafts(10).value().size() == 2);
}

// Regression test for FTS queries in the browser reading 21.5 pages from OPFS each, at any cache
// size: FTS5's leaves overflow a 4056-byte usable page, and SQLite read overflow pages around its
// page cache (SQLITE_DIRECT_OVERFLOW_READ, now off in third_party/CMakeLists.txt), fetching and
// decrypting them again on every query.
TEST_CASE("a repeated full-text search is served from the page cache") {
  TempDir dir;
  PosixHostFs fs;
  auto vfs = HostFsVfs::Register(&fs, "test-host-fs-fts").value();
  {
    auto v = Vault::Create(dir.path(), "pw", Over(*vfs)).value();
    uint32_t x = 7;
    for (int i = 0; i < 400; ++i) {
      DraftInput d;
      for (int w = 0; w < 18; ++w) {
        x = x * 1103515245u + 12345u;
        d.caption += "word" + std::to_string((x >> 16) % 50) + " ";
      }
      REQUIRE(v->CreateDraft(d).ok());
    }
  }  // closing checkpoints: the pages are in the database file, not the WAL
  auto v = Vault::Open(dir.path(), "pw", Over(*vfs)).value();
  for (int round = 0; round < 2; ++round) {
    fs.calls.clear();
    for (int w = 0; w < 50; ++w) {
      REQUIRE_FALSE(v->SearchDrafts("word" + std::to_string(w), 20).value().empty());
    }
    INFO("round " << round << ", host calls: " << fs.calls);
    if (round == 0) CHECK(fs.calls.find('R') != std::string::npos);  // cold: read once
    if (round == 1) CHECK(fs.calls.empty());
  }
}

}  // namespace
}  // namespace cairn::storage
