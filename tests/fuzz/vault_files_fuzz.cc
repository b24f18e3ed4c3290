// The vault's file-format readers on damaged files (storage/FORMAT.md): blob files (header and
// chunk index, secretstream chunks), database pages through the cipher VFS, the key file's
// slots. A vault is made once; each input is a patch (offset, new length, bytes) applied to a
// pristine copy of one of its files, so mutations reach the fields that matter whatever the
// vault's random keys are. Mode 3 feeds raw bytes to the key-slot decoder.
//
// Oracles: a damaged file gives an error, never a crash or a hang; a read that succeeds returns
// exactly what was stored (authenticated encryption admits nothing else); a decoded key slot
// encodes back to a slot that decodes the same.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "storage/key_file.h"
#include "storage/vault.h"
#include "tests/fuzz/fuzz_util.h"

namespace cairn::storage {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::abort();
}

const Bytes kDeviceKey(32, 9);

struct Fixture {
  fs::path dir = [] {
    char tmpl[] = "/tmp/cairn-fuzz-vault-XXXXXX";
    const char* d = mkdtemp(tmpl);
    if (d == nullptr) std::abort();
    return fs::path(d);
  }();
  fs::path live = dir / "live";      // stays open: blob reads
  fs::path closed = dir / "closed";  // rebuilt from pristine files for every database input
  Bytes blob_plain;
  std::string blob_hash;
  fs::path blob_file;
  std::string pristine_blob;
  std::string pristine_db, pristine_key;
  std::vector<Draft> drafts;
  std::unique_ptr<Vault> vault;

  Fixture() {
    fs::create_directories(live);
    fs::create_directories(closed);
    // Three chunks, the last one short, with content that shows any misplaced byte.
    blob_plain.resize(2 * kBlobChunkBytes + 1000);
    for (size_t i = 0; i < blob_plain.size(); ++i) blob_plain[i] = static_cast<uint8_t>(i * 31 + i / 251);
    vault = Vault::CreateWithDeviceKey(live.string(), kDeviceKey, {}).value();
    blob_hash = vault->PutBlob(blob_plain).value();
    blob_file = live / vault->StatBlob(blob_hash).value().file;
    pristine_blob = fuzz::ReadFileOrDie(blob_file.string());

    auto second = Vault::CreateWithDeviceKey(closed.string(), kDeviceKey, {}).value();
    for (int i = 0; i < 20; ++i) {
      DraftInput d;
      d.caption = "Golden hour on the pier, take " + std::to_string(i);
      d.hashtags = {"#sunset", "#pier"};
      d.prompt = {"Write 3 captions", "photo: pier", "warm", "JSON"};
      (void)second->CreateDraft(d).value();
    }
    drafts = second->ListDrafts(100).value();
    second.reset();
    pristine_db = fuzz::ReadFileOrDie((closed / "vault.db").string());
    pristine_key = fuzz::ReadFileOrDie((closed / "vault.key").string());
  }
  ~Fixture() {
    vault.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

std::string Patched(const std::string& pristine, FuzzedDataProvider& in) {
  std::string s = pristine;
  const size_t offset = in.ConsumeIntegralInRange<size_t>(0, s.size());
  const size_t length = in.ConsumeBool() ? in.ConsumeIntegralInRange<size_t>(0, s.size() + 64)
                                         : s.size();
  const std::string bytes = in.ConsumeRemainingBytesAsString();
  if (offset + bytes.size() > s.size()) s.resize(offset + bytes.size());
  s.replace(offset, bytes.size(), bytes);
  s.resize(length, '\0');
  return s;
}

bool SameDraft(const Draft& a, const Draft& b) {
  return a.id == b.id && a.content.caption == b.content.caption &&
         a.content.hashtags == b.content.hashtags && a.version == b.version;
}

void BlobInput(FuzzedDataProvider& in) {
  Fixture& f = F();
  const int64_t offset = in.ConsumeIntegralInRange<int64_t>(-2, f.blob_plain.size() + 2);
  const int64_t length = in.ConsumeIntegralInRange<int64_t>(-2, f.blob_plain.size() + 2);
  WriteFile(f.blob_file, Patched(f.pristine_blob, in));
  Result<Bytes> range = f.vault->ReadBlobRange(f.blob_hash, offset, length);
  if (range.ok()) {
    CAIRN_FUZZ_CHECK(offset >= 0 && length >= 0, "a negative range was read");
    const size_t begin = static_cast<size_t>(offset);
    CAIRN_FUZZ_CHECK(begin <= f.blob_plain.size(), "a range past the end was read");
    const size_t n = std::min(static_cast<size_t>(length), f.blob_plain.size() - begin);
    CAIRN_FUZZ_CHECK(range->size() == n, "range size");
    CAIRN_FUZZ_CHECK(std::equal(range->begin(), range->end(), f.blob_plain.begin() + begin),
                     "a damaged blob returned other bytes than were stored");
  } else {
    CAIRN_FUZZ_CHECK(!range.status().message().empty(), "an error without a message");
  }
  Result<Bytes> whole = f.vault->ReadBlob(f.blob_hash);
  if (whole.ok()) CAIRN_FUZZ_CHECK(*whole == f.blob_plain, "a damaged blob read as other bytes");
}

void DatabaseInput(FuzzedDataProvider& in, bool key_file) {
  Fixture& f = F();
  std::error_code ec;
  for (const char* extra : {"vault.db-wal", "vault.db-shm", "vault.db-journal"}) {
    fs::remove(f.closed / extra, ec);
  }
  WriteFile(f.closed / "vault.db", key_file ? f.pristine_db : Patched(f.pristine_db, in));
  WriteFile(f.closed / "vault.key", key_file ? Patched(f.pristine_key, in) : f.pristine_key);
  Result<std::unique_ptr<Vault>> v = Vault::OpenWithDeviceKey(f.closed.string(), kDeviceKey, {});
  if (!v.ok()) {
    CAIRN_FUZZ_CHECK(!v.status().message().empty(), "an error without a message");
    return;
  }
  (void)(*v)->IntegrityCheck();
  Result<std::vector<Draft>> drafts = (*v)->ListDrafts(100);
  if (!drafts.ok()) return;
  // Whatever reads back is what was written: pages that fail to authenticate are errors.
  for (const Draft& d : *drafts) {
    bool known = false;
    for (const Draft& orig : f.drafts) known = known || SameDraft(d, orig);
    CAIRN_FUZZ_CHECK(known, "a damaged vault read back a draft never written: " + d.content.caption);
  }
}

void KeySlotInput(FuzzedDataProvider& in) {
  const std::string slot = in.ConsumeRemainingBytesAsString();
  Result<KeyFileContents> k = DecodeKeySlot(AsBytes(slot));
  if (!k.ok()) return;
  Result<Bytes> again = EncodeKeySlot(*k);
  CAIRN_FUZZ_CHECK(again.ok(), again.status().ToString());
  Result<KeyFileContents> back = DecodeKeySlot(*again);
  CAIRN_FUZZ_CHECK(back.ok(), back.status().ToString());
  CAIRN_FUZZ_CHECK(back->sequence == k->sequence && back->vault_id == k->vault_id &&
                       back->salt == k->salt && back->passphrase_wrapped == k->passphrase_wrapped &&
                       back->device_wrapped == k->device_wrapped &&
                       back->db_generation == k->db_generation,
                   "a key slot changed on a round trip");
}

}  // namespace
}  // namespace cairn::storage

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)cairn::storage::F();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::storage;
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: BlobInput(in); break;
    case 1: DatabaseInput(in, false); break;
    case 2: DatabaseInput(in, true); break;
    default: KeySlotInput(in); break;
  }
  return 0;
}
