#include <catch_amalgamated.hpp>

#include <filesystem>
#include <random>

#include "core/crypto/hash.h"
#include "core/crypto/random.h"
#include "storage/fault_vfs.h"
#include "storage/vault.h"
#include "tests/support/temp_dir.h"

namespace cairn::storage {
namespace {

using cairn::testing::Contains;
using cairn::testing::ReadFileBytes;
using cairn::testing::TempDir;
using cairn::testing::WriteFileBytes;

VaultOptions FastOptions() {
  VaultOptions o;
  o.kdf = crypto::Argon2idParams{1, 64 * 1024};
  return o;
}

Bytes Pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

std::string FileOf(Vault& v, const std::string& hash) {
  return v.dir() + "/" + v.StatBlob(hash).value().file;
}

TEST_CASE("blobs of every size round-trip and are addressed by their BLAKE2b-256") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  for (size_t n : {size_t{0}, size_t{1}, kBlobChunkBytes - 1, kBlobChunkBytes,
                   kBlobChunkBytes + 1, 5 * kBlobChunkBytes + 123}) {
    INFO("size " << n);
    Bytes data = Pattern(n, static_cast<uint32_t>(n));
    std::string hash = v->PutBlob(data).value();
    CHECK(hash == ToHex(crypto::Blake2bHash(data, 32).value()));
    CHECK(v->ReadBlob(hash).value() == data);
    CHECK(v->StatBlob(hash).value().size == static_cast<int64_t>(n));
  }
}

// Reads and writes go in batches of 16 chunks; the pipeline hashes one batch while the next is
// encrypted. Sizes around the batch edges, written whole and in uneven pieces.
TEST_CASE("blobs across batch boundaries round-trip, whole and in ranges") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  constexpr size_t kBatch = 16 * kBlobChunkBytes;
  for (size_t n : {kBatch - 1, kBatch, kBatch + 1, 2 * kBatch, 2 * kBatch + kBlobChunkBytes + 5}) {
    INFO("size " << n);
    const Bytes data = Pattern(n, static_cast<uint32_t>(n));
    const std::string want = ToHex(crypto::Blake2bHash(data, 32).value());
    CHECK(v->PutBlob(data).value() == want);
    BlobWriter w = v->NewBlob().value();
    for (size_t pos = 0; pos < n;) {
      const size_t piece = std::min<size_t>(n - pos, 300'000 + pos % 77'777);
      REQUIRE(w.Append(ByteView(data).subspan(pos, piece)).ok());
      pos += piece;
    }
    CHECK(w.Commit().value() == want);
    CHECK(v->ReadBlob(want).value() == data);
    const std::string file = FileOf(*v, want);
    CHECK(std::filesystem::file_size(file) ==
          64 + n + ((n + kBlobChunkBytes - 1) / kBlobChunkBytes) * 41);
    // Ranges within a batch, across one edge, and across several batches.
    for (auto [off, len] : {std::pair<size_t, size_t>{kBatch - 10, 20}, {5, n - 10}, {0, n},
                            {kBatch / 2, kBatch}}) {
      if (off + len > n) continue;
      INFO("range " << off << "+" << len);
      CHECK(v->ReadBlobRange(want, static_cast<int64_t>(off), static_cast<int64_t>(len)).value() ==
            Bytes(data.begin() + off, data.begin() + off + len));
    }
  }
}

TEST_CASE("tampering in a later batch, or chunks swapped across batches, is detected") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  constexpr size_t kBatch = 16 * kBlobChunkBytes;
  const Bytes data = Pattern(2 * kBatch + 1000, 9);
  const std::string hash = v->PutBlob(data).value();
  const std::string file = FileOf(*v, hash);
  const Bytes original = ReadFileBytes(file);
  const size_t stride = kBlobChunkBytes + 41;
  for (size_t chunk : {size_t{15}, size_t{16}, size_t{17}, size_t{32}}) {
    Bytes bad = original;
    bad[64 + chunk * stride + 30] ^= 0x01;
    WriteFileBytes(file, bad);
    INFO("chunk " << chunk);
    Status s = v->ReadBlob(hash).status();
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring(
                                "chunk " + std::to_string(chunk) + " failed authentication"));
  }
  Bytes swapped = original;  // chunks 15 and 16: the last of one batch and the first of the next
  std::copy(original.begin() + 64 + 15 * stride, original.begin() + 64 + 16 * stride,
            swapped.begin() + 64 + 16 * stride);
  std::copy(original.begin() + 64 + 16 * stride, original.begin() + 64 + 17 * stride,
            swapped.begin() + 64 + 15 * stride);
  WriteFileBytes(file, swapped);
  CHECK(v->ReadBlob(hash).status().code() == StatusCode::kCorruption);
  // Cut after the second batch, with the header's sizes "fixed" to match: the new last chunk
  // was not written as the last, so it fails.
  Bytes cut(original.begin(), original.begin() + 64 + 32 * stride);
  const uint64_t size = 2 * kBatch, chunks = 32;
  for (int i = 0; i < 8; ++i) {
    cut[32 + i] = static_cast<uint8_t>(size >> (8 * i));
    cut[40 + i] = static_cast<uint8_t>(chunks >> (8 * i));
  }
  WriteFileBytes(file, cut);
  CHECK(v->ReadBlob(hash).status().code() == StatusCode::kCorruption);
  WriteFileBytes(file, original);
  CHECK(v->ReadBlob(hash).value() == data);
}

TEST_CASE("a streamed blob never needs the whole file, and identical content is stored once") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  const Bytes data = Pattern(3 * 1024 * 1024 + 17, 7);
  BlobWriter w = v->NewBlob().value();
  for (size_t pos = 0; pos < data.size();) {  // uneven pieces across chunk boundaries
    size_t n = std::min<size_t>(data.size() - pos, 1000 + pos % 70001);
    REQUIRE(w.Append(ByteView(data).subspan(pos, n)).ok());
    pos += n;
  }
  std::string hash = w.Commit().value();
  CHECK(v->ReadBlob(hash).value() == data);
  const size_t files_before = std::distance(std::filesystem::directory_iterator(dir.path()), {});
  CHECK(v->PutBlob(data).value() == hash);
  CHECK(static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir.path()), {})) ==
        files_before);
}

// A download checked against a signed manifest is hashed once, by the writer: a commit that
// expects another address keeps nothing, file or record.
TEST_CASE("a commit expecting another BLAKE2b is refused and keeps nothing") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  const Bytes data = Pattern(200 * 1024 + 3, 11);
  const std::string want = ToHex(crypto::Blake2bHash(data, 32).value());
  const size_t files_before = std::distance(std::filesystem::directory_iterator(dir.path()), {});

  BlobWriter bad = v->NewBlob().value();
  REQUIRE(bad.Append(data).ok());
  std::string other = want;
  other[0] = other[0] == '0' ? '1' : '0';
  Result<std::string> refused = bad.Commit(other);
  REQUIRE(!refused.ok());
  CHECK(refused.status().code() == StatusCode::kAuthFailed);
  CHECK(refused.status().message().find(other) != std::string::npos);
  CHECK(!v->StatBlob(want).ok());
  CHECK(v->ListBlobs().value().empty());
  CHECK(static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir.path()), {})) ==
        files_before);

  BlobWriter good = v->NewBlob().value();
  REQUIRE(good.Append(data).ok());
  CHECK(good.Commit(want).value() == want);
  CHECK(v->ReadBlob(want).value() == data);
}

TEST_CASE("byte ranges decrypt only the chunks they touch") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  const Bytes data = Pattern(4 * kBlobChunkBytes + 500, 11);
  std::string hash = v->PutBlob(data).value();
  std::mt19937 rng(3);
  for (int i = 0; i < 40; ++i) {
    int64_t off = rng() % data.size();
    int64_t len = rng() % (data.size() - off + 1);
    Bytes got = v->ReadBlobRange(hash, off, len).value();
    CHECK(got == Bytes(data.begin() + off, data.begin() + off + len));
  }
  CHECK(v->ReadBlobRange(hash, 0, 0).value().empty());
  CHECK(v->ReadBlobRange(hash, 10, static_cast<int64_t>(data.size())).status().code() ==
        StatusCode::kOutOfRange);

  // Damage chunk 3: reads of chunk 0 still work (it alone is decrypted); chunk 3 is named.
  const std::string file = FileOf(*v, hash);
  Bytes raw = ReadFileBytes(file);
  const size_t stride = kBlobChunkBytes + 41;
  raw[64 + 3 * stride + 100] ^= 1;
  WriteFileBytes(file, raw);
  CHECK(v->ReadBlobRange(hash, 5, 100).value() == Bytes(data.begin() + 5, data.begin() + 105));
  Status bad = v->ReadBlobRange(hash, 3 * kBlobChunkBytes + 10, 10).status();
  CHECK(bad.code() == StatusCode::kCorruption);
  CHECK_THAT(bad.message(), Catch::Matchers::ContainsSubstring("chunk 3 failed authentication"));
  CHECK(v->ReadBlob(hash).status().code() == StatusCode::kCorruption);
}

// Regression (found by fuzz_vault_files): a header whose size field is near 2^63 overflowed the
// expected-length sum (undefined behaviour, caught by UBSan) before it was refused.
TEST_CASE("a blob header claiming an enormous size is refused, not overflowed") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  const std::string hash = v->PutBlob(Pattern(1000, 5)).value();
  const std::string file = FileOf(*v, hash);
  Bytes raw = ReadFileBytes(file);
  for (uint64_t size : {uint64_t{0x7fffffffffff0000}, ~uint64_t{0}, uint64_t{1000} + 1}) {
    INFO("size " << size);
    Bytes bad = raw;
    for (int i = 0; i < 8; ++i) bad[32 + i] = static_cast<uint8_t>(size >> (8 * i));  // size, LE
    WriteFileBytes(file, bad);
    Status s = v->ReadBlob(hash).status();
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("header was modified"));
  }
}

TEST_CASE("any flipped byte, truncation or swapped chunk in a blob file is detected") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  const Bytes data = Pattern(2 * kBlobChunkBytes + 10, 5);
  std::string hash = v->PutBlob(data).value();
  const std::string file = FileOf(*v, hash);
  const Bytes original = ReadFileBytes(file);
  int tried = 0;
  for (size_t i = 0; i < original.size(); i += 997) {
    Bytes bad = original;
    bad[i] ^= 0x40;
    WriteFileBytes(file, bad);
    INFO("byte " << i);
    CHECK(v->ReadBlob(hash).status().code() == StatusCode::kCorruption);
    ++tried;
  }
  CHECK(tried > 100);
  // Truncated: the last chunk dropped, the header's sizes left as they were or "fixed".
  Bytes cut(original.begin(), original.end() - 51);
  WriteFileBytes(file, cut);
  Status s = v->ReadBlob(hash).status();
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK_THAT(s.message(), Catch::Matchers::ContainsSubstring("truncated"));
  // A chunk from another blob at the same position does not authenticate here.
  std::string other = v->PutBlob(Pattern(2 * kBlobChunkBytes + 10, 6)).value();
  Bytes mixed = original;
  Bytes other_raw = ReadFileBytes(FileOf(*v, other));
  std::copy(other_raw.begin() + 64, other_raw.begin() + 64 + kBlobChunkBytes + 41,
            mixed.begin() + 64);
  WriteFileBytes(file, mixed);
  CHECK(v->ReadBlob(hash).status().code() == StatusCode::kCorruption);
  WriteFileBytes(file, original);
  CHECK(v->ReadBlob(hash).value() == data);
}

TEST_CASE("blob files hold no plaintext") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  std::string text;
  while (text.size() < 200'000) text += "SECRET-PHOTO-BYTES-4411 ";
  std::string hash = v->PutBlob(AsBytes(text)).value();
  CHECK_FALSE(Contains(ReadFileBytes(FileOf(*v, hash)), "SECRET-PHOTO"));
}

TEST_CASE("garbage collection keeps referenced blobs and removes the rest") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  std::string kept = v->PutBlob(AsBytes("photo bytes")).value();
  std::string model = v->PutBlob(AsBytes("model bytes")).value();
  std::string orphan = v->PutBlob(AsBytes("nobody needs me")).value();
  const std::string orphan_file = FileOf(*v, orphan);
  AssetInput a;
  a.kind = "photo";
  a.mime = "image/jpeg";
  a.blob_hash = kept;
  REQUIRE(v->AddAsset(a).ok());
  REQUIRE(v->RecordModelFile("glove-100d", "model.onnx", model).ok());
  {
    BlobWriter abandoned = v->NewBlob().value();
    REQUIRE(abandoned.Append(AsBytes("half written")).ok());
  }  // destroyed without Commit
  CHECK(v->CollectGarbage().value() == 1);
  CHECK(v->ReadBlob(kept).ok());
  CHECK(v->ReadBlob(model).ok());
  CHECK(v->StatBlob(orphan).status().code() == StatusCode::kNotFound);
  CHECK_FALSE(std::filesystem::exists(orphan_file));
  CHECK(v->CollectGarbage().value() == 0);
  CHECK(v->ReadBlob("zz").status().code() == StatusCode::kInvalidArgument);
}

// Deleting a photo whose HQ export is still waiting to be sent must not lose the export: the
// sync engine uploads the source (again, if the server asks) until the job ends.
TEST_CASE("an unfinished image export keeps its source photo's blob after the photo is deleted") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  const std::string photo = v->PutBlob(AsBytes("photo bytes")).value();
  const std::string other = v->PutBlob(AsBytes("another photo")).value();
  AssetInput a;
  a.kind = "photo";
  a.mime = "image/jpeg";
  a.blob_hash = photo;
  const int64_t asset = v->AddAsset(a).value();
  OutboxJob job = v->EnqueueJob("image-export", "final",
                                R"({"source":")" + photo + R"(","sizes":["1080x1080"]})").value();
  // A caption job's payload names nothing, and an export without a source must not stop the
  // collection of everything else (a NULL in `NOT IN` would).
  REQUIRE(v->EnqueueJob("caption-hq", "final", R"({"source":")" + other + R"("})").ok());
  REQUIRE(v->EnqueueJob("image-export", "final", R"({"sizes":["1080x1080"]})").ok());

  REQUIRE(v->DeleteAsset(asset).ok());
  CHECK(v->UnfinishedExportsUsing(photo).value() == 1);
  CHECK(v->UnfinishedExportsUsing(other).value() == 0);
  CHECK(v->CollectGarbage().value() == 1);  // `other`: only a caption job's payload names it
  CHECK(v->ReadBlob(photo).ok());
  CHECK(v->StatBlob(other).status().code() == StatusCode::kNotFound);

  job.state = "sending";  // still unfinished
  REQUIRE(v->UpdateJob(job).ok());
  CHECK(v->CollectGarbage().value() == 0);
  job.state = "done";
  REQUIRE(v->UpdateJob(job).ok());
  CHECK(v->UnfinishedExportsUsing(photo).value() == 0);
  CHECK(v->CollectGarbage().value() == 1);
  CHECK(v->StatBlob(photo).status().code() == StatusCode::kNotFound);
}

TEST_CASE("a blob write cut by power loss leaves nothing readable and is collected") {
  auto disk = FaultVfs::Register().value();
  SecretBytes device = crypto::RandomSecret(32);
  VaultOptions o;
  o.host_vfs = disk->vfs();
  o.exclusive = true;
  std::string committed;
  {
    auto v = Vault::CreateWithDeviceKey("/v", device.view(), o).value();
    committed = v->PutBlob(Pattern(100'000, 1)).value();
    AssetInput a;
    a.kind = "photo";
    a.mime = "image/jpeg";
    a.blob_hash = committed;
    REQUIRE(v->AddAsset(a).ok());
    BlobWriter w = v->NewBlob().value();
    REQUIRE(w.Append(Pattern(3 * kBlobChunkBytes, 2)).ok());
    disk->Crash();  // power lost mid-write; the process dies with the writer open
    disk->FailAt(disk->operations() + 1, SQLITE_IOERR_WRITE, true);
  }
  disk->ClearFaults();
  auto v = Vault::OpenWithDeviceKey("/v", device.view(), o).value();
  CHECK(v->ReadBlob(committed).value() == Pattern(100'000, 1));
  CHECK(v->CollectGarbage().value() == 1);  // the interrupted write's record and file
  CHECK(v->ReadBlob(committed).value() == Pattern(100'000, 1));
}

std::vector<std::filesystem::path> BlobFiles(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".cbl") out.push_back(e.path());
  }
  return out;
}

Status AppendInPieces(BlobWriter& w, ByteView data) {
  for (size_t at = 0, piece = 7; at < data.size(); at += piece, piece = piece * 3 % 100'003 + 1) {
    CAIRN_RETURN_IF_ERROR(w.Append(data.subspan(at, std::min(piece, data.size() - at))));
  }
  return Status::Ok();
}

// A model download interrupted by a reload: the write goes on from its last checkpoint, with
// the plaintext tail of a part-chunk and the caller's state; what came after it is redone.
TEST_CASE("a resumable blob write goes on after a restart from its last checkpoint") {
  TempDir dir;
  constexpr size_t kBatch = 16 * kBlobChunkBytes;
  const Bytes data = Pattern(3 * kBatch + 12'345, 9);
  const size_t checkpoint = kBatch + 5 * kBlobChunkBytes + 77;  // a part-chunk tail
  {
    auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
    ResumedBlob r = v->ResumableBlob("model:x/model.onnx").value();
    CHECK(r.offset == 0);
    CHECK(r.caller_state.empty());
    REQUIRE(AppendInPieces(r.writer, ByteView(data).first(checkpoint)).ok());
    CHECK(r.writer.Checkpoint(AsBytes("verifier at A")).value() == checkpoint);
    REQUIRE(AppendInPieces(r.writer, ByteView(data).subspan(checkpoint, 300'000)).ok());
    BlobWriter plain = v->NewBlob().value();
    CHECK(plain.Checkpoint({}).status().code() == StatusCode::kFailedPrecondition);
  }  // closed uncommitted: the checkpointed file stays
  auto v = Vault::Open(dir.path(), "pw", FastOptions()).value();
  CHECK(v->CollectGarbage().value() == 0);  // a resumable write is not garbage
  ResumedBlob r = v->ResumableBlob("model:x/model.onnx").value();
  REQUIRE(r.offset == checkpoint);
  CHECK(r.caller_state == ToBytes("verifier at A"));
  REQUIRE(AppendInPieces(r.writer, ByteView(data).subspan(checkpoint)).ok());
  const std::string hash = r.writer.Commit().value();
  CHECK(hash == ToHex(crypto::Blake2bHash(data, 32).value()));
  CHECK(v->ReadBlob(hash).value() == data);
  CHECK(BlobFiles(dir.path()).size() == 1);
  // Committed, the record is gone: the same key starts a new write.
  ResumedBlob again = v->ResumableBlob("model:x/model.onnx").value();
  CHECK(again.offset == 0);
  again.writer.Abandon();
  CHECK(BlobFiles(dir.path()).size() == 1);
}

TEST_CASE("a checkpoint survives power loss; what followed it is redone") {
  auto disk = FaultVfs::Register().value();
  SecretBytes device = crypto::RandomSecret(32);
  VaultOptions o;
  o.host_vfs = disk->vfs();
  o.exclusive = true;
  const Bytes data = Pattern(40 * kBlobChunkBytes + 5, 3);
  const size_t checkpoint = 21 * kBlobChunkBytes + 1000;
  {
    auto v = Vault::CreateWithDeviceKey("/v", device.view(), o).value();
    ResumedBlob r = v->ResumableBlob("k").value();
    REQUIRE(r.writer.Append(ByteView(data).first(checkpoint)).ok());
    REQUIRE(r.writer.Checkpoint(AsBytes("s")).ok());
    REQUIRE(r.writer.Append(ByteView(data).subspan(checkpoint, 17 * kBlobChunkBytes)).ok());
    disk->Crash();  // power lost; the process dies with the writer open
    disk->FailAt(disk->operations() + 1, SQLITE_IOERR_WRITE, true);
  }
  disk->ClearFaults();
  auto v = Vault::OpenWithDeviceKey("/v", device.view(), o).value();
  ResumedBlob r = v->ResumableBlob("k").value();
  REQUIRE(r.offset == checkpoint);
  REQUIRE(r.writer.Append(ByteView(data).subspan(checkpoint)).ok());
  const std::string hash = r.writer.Commit().value();
  CHECK(v->ReadBlob(hash).value() == data);
}

TEST_CASE("a resumable write that cannot go on starts over; abandoned and rekeyed ones go") {
  TempDir dir;
  auto v = Vault::Create(dir.path(), "pw", FastOptions()).value();
  const Bytes data = Pattern(5 * kBlobChunkBytes, 4);
  auto checkpointed = [&](const std::string& key) {
    ResumedBlob r = v->ResumableBlob(key).value();
    REQUIRE(r.writer.Append(data).ok());
    REQUIRE(r.writer.Checkpoint(AsBytes(key)).value() == data.size());
  };
  SECTION("its file was cut short") {
    checkpointed("cut");
    const auto files = BlobFiles(dir.path());
    REQUIRE(files.size() == 1);
    std::filesystem::resize_file(files[0], 64 + kBlobChunkBytes);
    ResumedBlob r = v->ResumableBlob("cut").value();
    CHECK(r.offset == 0);
    CHECK(r.caller_state.empty());
    REQUIRE(r.writer.Append(data).ok());
    CHECK(v->ReadBlob(r.writer.Commit().value()).value() == data);
    CHECK(BlobFiles(dir.path()).size() == 1);  // the cut file is gone
  }
  SECTION("abandoned: the file and the record go") {
    checkpointed("refused");
    ResumedBlob r = v->ResumableBlob("refused").value();
    CHECK(r.offset == data.size());
    r.writer.Abandon();
    CHECK(BlobFiles(dir.path()).empty());
    CHECK(v->ResumableBlob("refused").value().offset == 0);
  }
  SECTION("a rekey drops it: its chunks are under the old key") {
    checkpointed("old-key");
    REQUIRE(v->Rekey("pw").ok());
    CHECK(v->ResumableBlob("old-key").value().offset == 0);
  }
}

}  // namespace
}  // namespace cairn::storage
