// Vault benchmark, Cairn's side: the workload on plain SQLite over the host VFS and on the
// cipher VFS over the same host VFS; then the blob store's streaming throughput.
// vault_bench_sqlcipher.cc runs the same workload on SQLCipher.
#include <filesystem>
#include <string>

#include "bench/vault_workload.h"
#include "core/crypto/random.h"
#include "storage/cipher_vfs.h"
#include "storage/vault.h"

namespace cairn::bench {
namespace {

std::string TempDir() {
  std::string t = (std::filesystem::temp_directory_path() / "cairn-bench-XXXXXX").string();
  return mkdtemp(t.data());
}

[[noreturn]] void Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "vault bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

void BlobThroughput(const std::string& dir) {
  storage::VaultOptions o;
  o.kdf = crypto::Argon2idParams{1, 64 * 1024};
  auto v = storage::Vault::Create(dir, "bench", o).value();
  constexpr size_t kTotal = 128u << 20;
  Bytes chunk = crypto::RandomBytes(1u << 20);
  double t0 = Seconds();
  storage::BlobWriter w = v->NewBlob().value();
  for (size_t done = 0; done < kTotal; done += chunk.size()) {
    if (Status s = w.Append(chunk); !s.ok()) Fail("blob append", s);
  }
  cairn::Result<std::string> hash = w.Commit();
  if (!hash.ok()) Fail("blob commit", hash.status());
  const double write_s = Seconds() - t0;
  t0 = Seconds();
  cairn::Result<Bytes> back = v->ReadBlob(*hash);
  const double read_s = Seconds() - t0;
  if (!back.ok()) Fail("blob read", back.status());
  if (back->size() != kTotal) Fail("blob read", Internal("wrong size"));
  std::printf("{\"bench\":\"vault\",\"variant\":\"cairn\",\"name\":\"blob_write_128MiB_synced\","
              "\"unit\":\"MB/s\",\"value\":%.1f}\n", kTotal / write_s / 1e6);
  std::printf("{\"bench\":\"vault\",\"variant\":\"cairn\",\"name\":\"blob_read_128MiB_verified\","
              "\"unit\":\"MB/s\",\"value\":%.1f}\n", kTotal / read_s / 1e6);
}

// `vault_bench blobs` runs only the blob phase (for profiling it, and repeating it cheaply).
int Main(int argc, char** argv) {
  const bool blobs_only = argc > 1 && std::string(argv[1]) == "blobs";
  const std::string dir = TempDir();
  if (!blobs_only) {
    sqlite3* db = nullptr;
    Check(db, sqlite3_open((dir + "/plain.db").c_str(), &db), "open plain");
    RunWorkload(db, "sqlite");
    sqlite3_close(db);
  }
  if (!blobs_only) {
    auto vfs = storage::CipherVfs::Register(sqlite3_vfs_find(nullptr),
                                            crypto::RandomSecret(32).view(),
                                            crypto::RandomBytes(16)).value();
    sqlite3* db = nullptr;
    Check(db, sqlite3_open_v2((dir + "/cipher.db").c_str(), &db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs->name()),
          "open cipher");
    int reserve = storage::kPageReserve;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    RunWorkload(db, "cairn");
    sqlite3_close(db);
  }
  std::filesystem::create_directories(dir + "/blobs");
  BlobThroughput(dir + "/blobs");
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace cairn::bench

int main(int argc, char** argv) { return cairn::bench::Main(argc, argv); }
