// Rekey: every page and blob re-encrypted under a new key, surviving a crash at any point.
#include <catch_amalgamated.hpp>

#include <cstdio>
#include <filesystem>
#include <set>

#include "core/crypto/random.h"
#include "storage/fault_vfs.h"
#include "storage/vault.h"
#include "tests/support/temp_dir.h"

namespace cairn::storage {
namespace {

using cairn::testing::ReadFileBytes;
using cairn::testing::TempDir;

std::set<std::string> FilesIn(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

TEST_CASE("rekey re-encrypts the database and blobs; data and passphrase carry over") {
  TempDir dir;
  VaultOptions o;
  o.kdf = crypto::Argon2idParams{1, 64 * 1024};
  auto v = Vault::Create(dir.path(), "pw", o).value();
  DraftInput d;
  d.caption = "survives the rekey";
  int64_t id = v->CreateDraft(d).value();
  Bytes photo = crypto::RandomBytes(200'000);
  std::string hash = v->PutBlob(photo).value();
  AssetInput a;
  a.kind = "photo";
  a.mime = "image/jpeg";
  a.blob_hash = hash;
  REQUIRE(v->AddAsset(a).ok());
  const std::string old_blob = v->StatBlob(hash).value().file;
  const Bytes old_db = ReadFileBytes(VaultDbPath(dir.path()));

  CHECK(v->Rekey("wrong").code() == StatusCode::kWrongPassphrase);
  CHECK(FilesIn(dir.path()).count("vault-1.db") == 0);

  REQUIRE(v->Rekey("pw").ok());
  CHECK(v->GetDraft(id).value().content.caption == "survives the rekey");
  CHECK(v->ReadBlob(hash).value() == photo);
  std::set<std::string> files = FilesIn(dir.path());
  CHECK(files.count("vault.db") == 0);
  CHECK(files.count("vault-1.db") == 1);
  CHECK(files.count(old_blob) == 0);
  CHECK(files.count(v->StatBlob(hash).value().file) == 1);
  CHECK(ReadFileBytes(VaultDbPath(dir.path(), 1)) != old_db);
  v.reset();

  auto again = Vault::Open(dir.path(), "pw", o).value();
  CHECK(again->GetDraft(id).value().content.caption == "survives the rekey");
  CHECK(again->ReadBlob(hash).value() == photo);
  CHECK(again->IntegrityCheck().value() == "ok");
  REQUIRE(again->Rekey("pw").ok());  // and again: generation 2
  CHECK(FilesIn(dir.path()).count("vault-2.db") == 1);
  CHECK(FilesIn(dir.path()).count("vault-1.db") == 0);
}

TEST_CASE("rekey survives power loss at every write, sync and delete") {
  SecretBytes device = crypto::RandomSecret(32);
  const Bytes photo = crypto::RandomBytes(150'000);
  auto setup = [&](FaultVfs& disk, std::string* hash) {
    VaultOptions o;
    o.host_vfs = disk.vfs();
    o.exclusive = true;
    auto v = Vault::CreateWithDeviceKey("/v", device.view(), o).value();
    for (int i = 0; i < 20; ++i) {
      DraftInput d;
      d.caption = "draft " + std::to_string(i);
      REQUIRE(v->CreateDraft(d).ok());
    }
    *hash = v->PutBlob(photo).value();
    AssetInput a;
    a.kind = "photo";
    a.mime = "image/jpeg";
    a.blob_hash = *hash;
    REQUIRE(v->AddAsset(a).ok());
    return v;
  };

  int64_t points = 0;
  {
    auto disk = FaultVfs::Register().value();
    std::string hash;
    auto v = setup(*disk, &hash);
    const int64_t before = disk->operations();
    REQUIRE(v->RekeyWithDeviceKey(device.view()).ok());
    points = disk->operations() - before;
  }
  REQUIRE(points > 10);
  int64_t old_key = 0, new_key = 0;
  for (int64_t p = 1; p <= points; ++p) {
    auto disk = FaultVfs::Register().value();
    std::string hash;
    {
      auto v = setup(*disk, &hash);
      disk->FailAt(disk->operations() + p, SQLITE_IOERR_WRITE, true);
      Status s = v->RekeyWithDeviceKey(device.view());
      disk->Crash();
    }
    disk->ClearFaults();
    VaultOptions o;
    o.host_vfs = disk->vfs();
    o.exclusive = true;
    INFO("crash at rekey operation " << p << " of " << points);
    auto v = Vault::OpenWithDeviceKey("/v", device.view(), o);
    REQUIRE(v.ok());
    CHECK((*v)->ListDrafts(100).value().size() == 20);
    CHECK((*v)->ReadBlob(hash).value() == photo);
    CHECK((*v)->IntegrityCheck().value() == "ok");
    REQUIRE((*v)->CollectGarbage().ok());
    // Nothing leaked: the key file, one database (and its WAL), the one blob.
    std::set<std::string> files;
    for (const auto& f : disk->Files()) files.insert(f);
    const std::string blob = "/v/" + (*v)->StatBlob(hash).value().file;
    files.erase(blob);
    files.erase("/v/vault.key");
    const bool rekeyed = files.count("/v/vault-1.db") > 0;
    (rekeyed ? new_key : old_key) += 1;
    const std::string db = rekeyed ? "/v/vault-1.db" : "/v/vault.db";
    files.erase(db);
    files.erase(db + "-wal");
    CHECK(files.empty());
    for (const auto& f : files) INFO("leftover " << f);
  }
  std::printf("rekey crash matrix: %lld crash points; recovered on the old key %lld times, on the "
              "new key %lld times\n",
              static_cast<long long>(points), static_cast<long long>(old_key),
              static_cast<long long>(new_key));
  CHECK(old_key > 0);
  CHECK(new_key > 0);
}

}  // namespace
}  // namespace cairn::storage
