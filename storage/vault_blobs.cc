// The vault's blob store. File format: storage/FORMAT.md, "Blob files".
#include <array>
#include <atomic>
#include <cstring>
#include <functional>
#include <thread>

#include "core/crypto/hash.h"
#include "core/crypto/random.h"
#include "core/crypto/secret_stream.h"
#include "storage/pipeline.h"
#include "storage/sqlite_util.h"
#include "storage/vault.h"
#include "storage/vfs_file.h"

namespace cairn::storage {
namespace {

constexpr char kBlobMagic[8] = {'C', 'A', 'I', 'R', 'N', 'B', 'L', 'B'};
constexpr uint32_t kBlobVersion = 1;
constexpr int64_t kHeaderBytes = 64;
constexpr int64_t kChunkOverhead =
    crypto::kStreamHeaderBytes + crypto::kStreamChunkOverhead;  // 24 + 17
constexpr int64_t kStride = static_cast<int64_t>(kBlobChunkBytes) + kChunkOverhead;
// The part of the header every chunk's associated data covers (magic .. file nonce).
constexpr size_t kBoundHeaderBytes = 8 + 4 + 4 + 16;
// Chunks are read and written in batches of 16 (1 MiB of plaintext): one VfsFile call per batch,
// and the unit that both threads share (ChunkBatch) and that the pipeline's thread then hashes.
constexpr uint64_t kBatchChunks = 16;
constexpr size_t kBatchBytes = kBatchChunks * kBlobChunkBytes;
// Below this, handing the hash to the pipeline's thread costs more than it saves.
constexpr size_t kPipelineMinBytes = 256 * 1024;

void PutLe(uint8_t* p, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t GetLe(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// Header: magic (8) | version u32 | chunk size u32 | file nonce (16) | plaintext size u64 |
// chunk count u64 | zeros to 64 bytes.
Bytes BlobHeader(ByteView file_nonce, uint64_t size, uint64_t chunks) {
  Bytes h(kHeaderBytes, 0);
  std::memcpy(h.data(), kBlobMagic, 8);
  PutLe(h.data() + 8, kBlobVersion, 4);
  PutLe(h.data() + 12, kBlobChunkBytes, 4);
  std::memcpy(h.data() + 16, file_nonce.data(), 16);
  PutLe(h.data() + 32, size, 8);
  PutLe(h.data() + 40, chunks, 8);
  return h;
}

// Chunk i's associated data: the bound header, its index, and whether it is the last, so
// chunks cannot move, and a blob cut after any chunk fails on its new last chunk.
Bytes ChunkAd(ByteView header, uint64_t index, bool last) {
  Bytes ad(header.begin(), header.begin() + kBoundHeaderBytes);
  ad.resize(kBoundHeaderBytes + 9);
  PutLe(ad.data() + kBoundHeaderBytes, index, 8);
  ad[kBoundHeaderBytes + 8] = last ? 1 : 0;
  return ad;
}

Status CheckHash(std::string_view hash) {
  if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return InvalidArgument("blob hash must be 64 lower-case hex characters, got '" +
                           std::string(hash.substr(0, 80)) + "'");
  }
  return Status::Ok();
}

struct OpenBlob {
  VfsFile file;
  Bytes header;
  uint64_t size;
  uint64_t chunks;
};

// Opens a blob file and checks its header against the file's length.
Result<OpenBlob> OpenBlobFile(sqlite3_vfs* vfs, const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(VfsFile f, VfsFile::Open(vfs, path, VfsFile::Mode::kRead));
  Bytes header(kHeaderBytes);
  CAIRN_ASSIGN_OR_RETURN(size_t n, f.Read(0, header));
  if (n != kHeaderBytes || std::memcmp(header.data(), kBlobMagic, 8) != 0) {
    return Corruption(path + ": not a Cairn blob file (bad header)");
  }
  if (GetLe(header.data() + 8, 4) != kBlobVersion) {
    return Unsupported(path + ": blob format version " +
                       std::to_string(GetLe(header.data() + 8, 4)) + " is not supported");
  }
  if (GetLe(header.data() + 12, 4) != kBlobChunkBytes) {
    return Corruption(path + ": unexpected chunk size in the blob header");
  }
  OpenBlob b{std::move(f), std::move(header), 0, 0};
  b.size = GetLe(b.header.data() + 32, 8);
  b.chunks = GetLe(b.header.data() + 40, 8);
  CAIRN_ASSIGN_OR_RETURN(int64_t file_size, b.file.Size());
  // The header's size is untrusted: bounded by the file's before any arithmetic on it (a
  // modified header near 2^63 would overflow the sums below).
  if (b.size > static_cast<uint64_t>(file_size)) {
    return Corruption(path + ": the blob is truncated or its header was modified (" +
                      std::to_string(file_size) + " bytes on disk, header says more than " +
                      std::to_string(b.size) + ")");
  }
  const uint64_t want_chunks = b.size == 0 ? 1 : (b.size + kBlobChunkBytes - 1) / kBlobChunkBytes;
  const int64_t want_size =
      kHeaderBytes + static_cast<int64_t>(b.size) + static_cast<int64_t>(want_chunks) * kChunkOverhead;
  if (b.chunks != want_chunks || file_size != want_size) {
    return Corruption(path + ": the blob is truncated or its header was modified (" +
                      std::to_string(file_size) + " bytes on disk, header says " +
                      std::to_string(want_size) + ")");
  }
  return b;
}

uint64_t ChunkPlainBytes(const OpenBlob& b, uint64_t index) {
  return index + 1 == b.chunks ? b.size - index * kBlobChunkBytes : kBlobChunkBytes;
}

// Reads the ciphertext of chunks first .. first+count-1 (whose plaintext is `plain` bytes) with
// one read into *sealed.
Status ReadSealed(OpenBlob& b, uint64_t first, uint64_t count, size_t plain, Bytes* sealed,
                  const std::string& path) {
  sealed->resize(plain + count * kChunkOverhead);
  CAIRN_ASSIGN_OR_RETURN(size_t n, b.file.Read(kHeaderBytes + static_cast<int64_t>(first) * kStride,
                                               *sealed));
  if (n != sealed->size()) {
    return Corruption(path + ": chunk " + std::to_string(first + n / kStride) + " is short");
  }
  return Status::Ok();
}

// Authenticates and decrypts chunk `index` (its ciphertext `sealed`) into `out`.
Status OpenChunk(const OpenBlob& b, ByteView key, uint64_t index, ByteView sealed,
                 MutableByteView out, const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(auto reader, crypto::SecretStreamReader::Create(
                                          key, sealed.first(crypto::kStreamHeaderBytes)));
  Status s = reader.Pull(sealed.subspan(crypto::kStreamHeaderBytes),
                         ChunkAd(b.header, index, index + 1 == b.chunks), out);
  if (s.ok()) s = reader.Finish();
  if (!s.ok()) {
    return Corruption(path + ": chunk " + std::to_string(index) +
                      " failed authentication (the blob was modified or damaged)");
  }
  return Status::Ok();
}

// The plaintext bytes of chunks first .. first+count-1.
size_t PlainBytes(const OpenBlob& b, uint64_t first, uint64_t count) {
  return static_cast<size_t>((count - 1) * kBlobChunkBytes + ChunkPlainBytes(b, first + count - 1));
}

// Reads chunks first .. first+count-1 and decrypts them into `out` (their plaintext size), on
// this thread.
Status OpenChunks(OpenBlob& b, ByteView key, uint64_t first, uint64_t count, MutableByteView out,
                  Bytes* sealed, const std::string& path) {
  CAIRN_RETURN_IF_ERROR(ReadSealed(b, first, count, out.size(), sealed, path));
  for (uint64_t i = 0; i < count; ++i) {
    const size_t plain = ChunkPlainBytes(b, first + i);
    CAIRN_RETURN_IF_ERROR(OpenChunk(b, key, first + i,
                                    ByteView(*sealed).subspan(i * kStride, plain + kChunkOverhead),
                                    out.subspan(i * kBlobChunkBytes, plain), path));
  }
  return Status::Ok();
}

// One batch of chunks to seal or open, shared by the caller's thread and the pipeline's: each
// claims chunks by index until none is left, so the work splits itself between them whatever
// their relative speed. Reset() only while no other thread is in Help() (after Pipeline::Wait).
class ChunkBatch {
 public:
  using Work = std::function<Status(size_t index)>;

  void Reset(size_t count, Work work) {
    work_ = std::move(work);
    count_ = count;
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
  }

  // Claims and runs chunks until none is left. From either thread.
  void Help() {
    for (size_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < count_;) {
      status_[i] = work_(i);
      done_.fetch_add(1, std::memory_order_release);
    }
  }

  // Returns once every chunk has run, on whichever thread; the first failure by index. The
  // other thread is then at most one chunk from the end, so waiting is short.
  Status Wait() {
    while (done_.load(std::memory_order_acquire) < count_) std::this_thread::yield();
    for (size_t i = 0; i < count_; ++i) {
      if (!status_[i].ok()) return status_[i];
    }
    return Status::Ok();
  }

 private:
  Work work_;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  std::atomic<size_t> done_{0};
  std::array<Status, kBatchChunks> status_;
};

}  // namespace

// Where a resumable blob write stands (a row of blob_resume): the whole chunks in its file,
// the BLAKE2b state of their plaintext, and the plaintext tail not yet written.
struct BlobCheckpoint {
  Bytes nonce;  // the file's nonce (header bytes 16..31), bound into every chunk
  uint64_t chunks = 0;
  Bytes hash_state;
  Bytes tail;  // at most a chunk: the last one is written only when the blob is complete
};

// Writes one blob file: batches of chunks as data arrives, the header and a sync at Finish().
// Knows nothing of the database. Holds at most two batches of plaintext (2 MiB) and one of
// ciphertext. Not movable: the pipeline's stage refers to its members. All I/O is on the
// caller's thread.
class BlobFileWriter {
 public:
  BlobFileWriter(VfsFile file, ByteView key)
      : file_(std::move(file)), key_(SecretBytes::CopyOf(key)),
        header_(BlobHeader(crypto::RandomBytes(16), 0, 0)) {}
  // Goes on with a write that Checkpoint() recorded; the file is already cut to its chunks.
  BlobFileWriter(VfsFile file, ByteView key, const BlobCheckpoint& from, crypto::Blake2b hash)
      : file_(std::move(file)), key_(SecretBytes::CopyOf(key)),
        header_(BlobHeader(from.nonce, 0, 0)), staged_(from.tail), chunks_(from.chunks),
        size_(from.chunks * kBlobChunkBytes + from.tail.size()), hash_(std::move(hash)) {}
  BlobFileWriter(const BlobFileWriter&) = delete;
  BlobFileWriter& operator=(const BlobFileWriter&) = delete;

  Status Append(ByteView data) {
    size_ += data.size();
    while (!data.empty()) {
      // A full batch is written only once more data shows that its last chunk is not the last.
      if (staged_.size() == kBatchBytes) CAIRN_RETURN_IF_ERROR(WriteBatch(false));
      const size_t take = std::min(data.size(), kBatchBytes - staged_.size());
      staged_.insert(staged_.end(), data.begin(), data.begin() + take);
      data = data.subspan(take);
    }
    return Status::Ok();
  }

  // Writes the last batch and the header and syncs; returns the content hash (hex).
  Result<std::string> Finish() {
    CAIRN_RETURN_IF_ERROR(WriteBatch(true));
    Bytes header = BlobHeader(ByteView(header_).subspan(16, 16), size_, chunks_);
    CAIRN_RETURN_IF_ERROR(file_.Write(0, header));
    CAIRN_RETURN_IF_ERROR(file_.Sync());  // durable before any record says so
    pipeline_.Wait();
    CAIRN_ASSIGN_OR_RETURN(Bytes digest, hash_.Final());
    return ToHex(digest);
  }

  // Writes the whole chunks staged but the last (more data may follow, or it may end the
  // blob), syncs, and says where the write stands: everything appended is in the chunks or in
  // the tail. The writer goes on as before.
  Result<BlobCheckpoint> Checkpoint() {
    const size_t whole =
        staged_.empty() ? 0 : (staged_.size() - 1) / kBlobChunkBytes * kBlobChunkBytes;
    if (whole > 0) {
      Bytes tail(staged_.begin() + static_cast<std::ptrdiff_t>(whole), staged_.end());
      staged_.resize(whole);
      CAIRN_RETURN_IF_ERROR(WriteBatch(false));
      staged_ = std::move(tail);
    }
    CAIRN_RETURN_IF_ERROR(file_.Sync());
    pipeline_.Wait();  // the hash has every written chunk
    BlobCheckpoint c;
    c.nonce = Bytes(header_.begin() + 16, header_.begin() + 32);
    c.chunks = chunks_;
    c.tail = staged_;
    CAIRN_ASSIGN_OR_RETURN(c.hash_state, hash_.Save());
    return c;
  }

  uint64_t size() const { return size_; }

 private:
  // Encrypts the staged plaintext into chunks and writes them with one call. Natively the
  // pipeline's thread helps encrypt, then hashes the batch while this thread writes it and
  // stages the next. `last`: the batch ends the blob (it may be short, or empty for an empty
  // blob, which still has one chunk).
  Status WriteBatch(bool last) {
    pipeline_.Wait();  // the previous batch is hashed (hashing_ is free) and batch_ is idle
    const ByteView plain(staged_);
    const uint64_t count =
        std::max<uint64_t>(1, (plain.size() + kBlobChunkBytes - 1) / kBlobChunkBytes);
    sealed_.resize(plain.size() + count * kChunkOverhead);
    const uint64_t base = chunks_;
    batch_.Reset(count, [this, plain, base, count, last](size_t i) {
      return SealChunk(plain, base, i, last && i + 1 == count);
    });
    const bool overlap = plain.size() >= kPipelineMinBytes;
    if (overlap) {
      pipeline_.Run([this, plain] {
        batch_.Help();
        hash_.Update(plain);
      });
    }
    batch_.Help();
    CAIRN_RETURN_IF_ERROR(batch_.Wait());
    if (!overlap) hash_.Update(plain);
    CAIRN_RETURN_IF_ERROR(
        file_.Write(kHeaderBytes + static_cast<int64_t>(chunks_) * kStride, sealed_));
    chunks_ += count;
    std::swap(staged_, hashing_);  // the pipeline may still be hashing the batch: keep it aside
    staged_.clear();
    return Status::Ok();
  }

  // Encrypts chunk i of the staged batch (the blob's chunk base + i) into its place in sealed_.
  // Runs on either thread: it reads only the key, the header and its own part of the buffers.
  Status SealChunk(ByteView plain, uint64_t base, size_t i, bool last_chunk) {
    const ByteView chunk = plain.subspan(i * kBlobChunkBytes)
                               .first(std::min<size_t>(kBlobChunkBytes, plain.size() - i * kBlobChunkBytes));
    MutableByteView out = MutableByteView(sealed_).subspan(i * kStride, chunk.size() + kChunkOverhead);
    Bytes stream_header;
    CAIRN_ASSIGN_OR_RETURN(auto w, crypto::SecretStreamWriter::Create(key_.view(), &stream_header));
    std::memcpy(out.data(), stream_header.data(), crypto::kStreamHeaderBytes);
    return w.Push(chunk, ChunkAd(header_, base + i, last_chunk), true,
                  out.subspan(crypto::kStreamHeaderBytes));
  }

  VfsFile file_;
  SecretBytes key_;
  Bytes header_;   // the bound part is fixed at creation; sizes are filled in at Finish()
  Bytes staged_;   // plaintext not yet written: at most one batch
  Bytes hashing_;  // the previous batch, which the pipeline may still be hashing
  Bytes sealed_;   // one batch of ciphertext
  uint64_t chunks_ = 0;
  uint64_t size_ = 0;
  crypto::Blake2b hash_ = crypto::Blake2b::Create(32).value();
  ChunkBatch batch_;
  Pipeline pipeline_;  // last: destroyed first, so a running stage finishes before the rest
};

struct BlobWriter::State {
  Vault* vault = nullptr;
  std::string name;  // file name in the vault directory
  std::string path;
  std::optional<BlobFileWriter> file;
  bool committed = false;     // or abandoned: finished either way
  std::string resume_key;     // empty unless resumable
  bool checkpointed = false;  // a blob_resume row names this write: keep the file
};

BlobWriter::BlobWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;

BlobWriter& BlobWriter::operator=(BlobWriter&& other) noexcept {
  if (this != &other) {
    BlobWriter replaced(std::move(state_));  // ends here, as a destroyed writer does
    state_ = std::move(other.state_);
  }
  return *this;
}

BlobWriter::~BlobWriter() {
  if (!state_ || state_->committed) return;
  if (state_->checkpointed) return;  // the next ResumableBlob(key) goes on with it
  Abandon();
}

void BlobWriter::Abandon() {
  // Removes the file, then its rows (best effort; GC catches what remains).
  State& s = *state_;
  if (s.committed) return;
  s.committed = true;
  s.file.reset();
  VfsDelete(s.vault->host_, s.path).IgnoreError();
  Vault& v = *s.vault;
  v.InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Stmt q, v.stmts_.Get(v.db_, "DELETE FROM blobs WHERE file=? AND state='writing'"));
    q.Bind(1, s.name);
    CAIRN_RETURN_IF_ERROR(q.Run());
    CAIRN_ASSIGN_OR_RETURN(Stmt r, v.stmts_.Get(v.db_, "DELETE FROM blob_resume WHERE file=?"));
    r.Bind(1, s.name);
    return r.Run();
  }).IgnoreError();
}

Status BlobWriter::Append(ByteView data) {
  if (state_->committed) return FailedPrecondition("blob: append after commit");
  return state_->file->Append(data);
}

uint64_t BlobWriter::size() const { return state_->file ? state_->file->size() : 0; }

Result<uint64_t> BlobWriter::Checkpoint(ByteView caller_state) {
  State& s = *state_;
  if (s.committed) return FailedPrecondition("blob: checkpoint after commit");
  if (s.resume_key.empty()) return FailedPrecondition("blob: only a resumable write has checkpoints");
  CAIRN_ASSIGN_OR_RETURN(BlobCheckpoint c, s.file->Checkpoint());
  Vault& v = *s.vault;
  CAIRN_RETURN_IF_ERROR(v.InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, v.stmts_.Get(v.db_,
                             "INSERT OR REPLACE INTO blob_resume (key, file, nonce, chunks, hash_state, "
                             "tail, caller_state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    q.Bind(1, s.resume_key).Bind(2, s.name).Bind(3, ByteView(c.nonce));
    q.Bind(4, static_cast<int64_t>(c.chunks)).Bind(5, ByteView(c.hash_state));
    q.Bind(6, ByteView(c.tail)).Bind(7, caller_state).Bind(8, v.NowMs());
    return q.Run();
  }));
  s.checkpointed = true;
  return s.file->size();
}

Result<std::string> BlobWriter::Commit() { return Commit({}); }

Result<std::string> BlobWriter::Commit(std::string_view expected_hash) {
  State& s = *state_;
  if (s.committed) return FailedPrecondition("blob: already committed");
  CAIRN_ASSIGN_OR_RETURN(const std::string hash, s.file->Finish());
  if (!expected_hash.empty() && hash != expected_hash) {
    Abandon();
    return Status(StatusCode::kAuthFailed,
                  "blob: BLAKE2b " + hash + " is not the expected " + std::string(expected_hash));
  }
  const int64_t size = static_cast<int64_t>(s.file->size());
  s.file.reset();
  Vault& v = *s.vault;
  bool duplicate = false;
  CAIRN_RETURN_IF_ERROR(v.InTransaction([&]() -> Status {
    if (!s.resume_key.empty()) {
      CAIRN_ASSIGN_OR_RETURN(Stmt r, v.stmts_.Get(v.db_, "DELETE FROM blob_resume WHERE key=?"));
      r.Bind(1, s.resume_key);
      CAIRN_RETURN_IF_ERROR(r.Run());
    }
    CAIRN_ASSIGN_OR_RETURN(Stmt existing,
                           v.stmts_.Get(v.db_, "SELECT 1 FROM blobs WHERE hash=? AND state='ready'"));
    existing.Bind(1, hash);
    CAIRN_ASSIGN_OR_RETURN(duplicate, existing.Step());
    if (duplicate) {
      CAIRN_ASSIGN_OR_RETURN(Stmt del, v.stmts_.Get(v.db_, "DELETE FROM blobs WHERE file=?"));
      del.Bind(1, s.name);
      return del.Run();
    }
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, v.stmts_.Get(v.db_, "UPDATE blobs SET hash=?, size=?, state='ready' WHERE file=?"));
    q.Bind(1, hash).Bind(2, size).Bind(3, s.name);
    CAIRN_RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(v.db_) != 1) {
      return Cancelled("blob " + s.name + " was collected as garbage while it was being written");
    }
    return Status::Ok();
  }));
  s.committed = true;
  if (duplicate) VfsDelete(v.host_, s.path).IgnoreError();  // same content is already stored
  return hash;
}

Result<BlobWriter> Vault::NewBlob() {
  auto state = std::make_unique<BlobWriter::State>();
  state->vault = this;
  state->name = "blob-" + ToHex(crypto::RandomBytes(12)) + ".cbl";
  state->path = dir_ + "/" + state->name;
  // The record comes first, so a crash mid-write leaves a 'writing' row that GC cleans up.
  CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_, "INSERT INTO blobs (file, state, created_at) VALUES (?, 'writing', ?)"));
    q.Bind(1, state->name).Bind(2, NowMs());
    return q.Run();
  }));
  Result<VfsFile> f = VfsFile::Open(host_, state->path, VfsFile::Mode::kCreate);
  BlobWriter writer(std::move(state));
  if (!f.ok()) return f.status();
  writer.state_->file.emplace(std::move(f).value(), blob_key_.view());
  return writer;
}

Result<ResumedBlob> Vault::ResumableBlob(std::string_view key) {
  if (key.empty()) return InvalidArgument("a resumable blob needs a key");
  std::optional<BlobCheckpoint> from;
  std::string name;
  Bytes caller_state;
  {
    CAIRN_ASSIGN_OR_RETURN(
        Stmt q, stmts_.Get(db_, "SELECT r.file, r.nonce, r.chunks, r.hash_state, r.tail, r.caller_state "
                                "FROM blob_resume r JOIN blobs b ON b.file = r.file AND "
                                "b.state = 'writing' WHERE r.key=?"));
    q.Bind(1, key);
    Result<bool> row = q.Step();
    if (!row.ok()) return Explain(row.status());
    if (*row) {
      name = q.Text(0);
      from = BlobCheckpoint{q.Blob(1), static_cast<uint64_t>(q.Int(2)), q.Blob(3), q.Blob(4)};
      caller_state = q.Blob(5);
    }
  }
  if (from) {
    // Goes on only if everything checks: else the old write is removed and a new one begins.
    const std::string path = dir_ + "/" + name;
    const int64_t length = kHeaderBytes + static_cast<int64_t>(from->chunks) * kStride;
    Result<crypto::Blake2b> hash = crypto::Blake2b::Restore(from->hash_state);
    Result<VfsFile> f = VfsFile::Open(host_, path, VfsFile::Mode::kReadWrite);
    bool usable = hash.ok() && f.ok() && from->nonce.size() == 16 && from->tail.size() <= kBlobChunkBytes;
    if (usable) {
      Result<int64_t> size = f->Size();
      usable = size.ok() && *size >= length && f->Truncate(length).ok();
    }
    if (usable) {
      auto state = std::make_unique<BlobWriter::State>();
      state->vault = this;
      state->name = name;
      state->path = path;
      state->resume_key = std::string(key);
      state->checkpointed = true;
      state->file.emplace(std::move(f).value(), blob_key_.view(), *from, std::move(hash).value());
      BlobWriter writer(std::move(state));
      const uint64_t offset = writer.size();
      return ResumedBlob{std::move(writer), offset, std::move(caller_state)};
    }
    if (f.ok()) VfsFile closed = std::move(f).value();  // closed before it is deleted
    VfsDelete(host_, path).IgnoreError();  // it may be gone already
  }
  CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Stmt q, stmts_.Get(db_, "DELETE FROM blob_resume WHERE key=?"));
    q.Bind(1, key);
    CAIRN_RETURN_IF_ERROR(q.Run());
    CAIRN_ASSIGN_OR_RETURN(Stmt b, stmts_.Get(db_, "DELETE FROM blobs WHERE file=? AND state='writing'"));
    b.Bind(1, name);
    return b.Run();
  }));
  CAIRN_ASSIGN_OR_RETURN(BlobWriter writer, NewBlob());
  writer.state_->resume_key = std::string(key);
  return ResumedBlob{std::move(writer), 0, {}};
}

Result<std::string> Vault::PutBlob(ByteView data) {
  CAIRN_ASSIGN_OR_RETURN(BlobWriter w, NewBlob());
  CAIRN_RETURN_IF_ERROR(w.Append(data));
  return w.Commit();
}

Result<BlobInfo> Vault::FindBlob(std::string_view hash) {
  CAIRN_RETURN_IF_ERROR(CheckHash(hash));
  CAIRN_ASSIGN_OR_RETURN(Stmt q,
                         stmts_.Get(db_, "SELECT file, size FROM blobs WHERE hash=? AND state='ready'"));
  q.Bind(1, hash);
  Result<bool> row = q.Step();
  if (!row.ok()) return Explain(row.status());
  if (!*row) return NotFound("no blob " + std::string(hash));
  return BlobInfo{std::string(hash), q.Int(1), q.Text(0)};
}

Result<BlobInfo> Vault::StatBlob(std::string_view hash) { return FindBlob(hash); }

Result<std::vector<BlobInfo>> Vault::ListBlobs() {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_, "SELECT hash, size, file FROM blobs WHERE state='ready' ORDER BY hash"));
  std::vector<BlobInfo> out;
  while (true) {
    Result<bool> row = q.Step();
    if (!row.ok()) return Explain(row.status());
    if (!*row) break;
    out.push_back({q.Text(0), q.Int(1), q.Text(2)});
  }
  return out;
}

Result<Bytes> Vault::ReadBlobRange(std::string_view hash, int64_t offset, int64_t length) {
  CAIRN_ASSIGN_OR_RETURN(BlobInfo info, FindBlob(hash));
  if (offset < 0 || length < 0 || offset > info.size || length > info.size - offset) {
    return OutOfRange("blob " + info.hash + ": range " + std::to_string(offset) + "+" +
                      std::to_string(length) + " is outside its " + std::to_string(info.size) +
                      " bytes");
  }
  const std::string path = dir_ + "/" + info.file;
  CAIRN_ASSIGN_OR_RETURN(OpenBlob b, OpenBlobFile(host_, path));
  if (static_cast<int64_t>(b.size) != info.size) {
    return Corruption(path + ": size differs from the vault's record");
  }
  Bytes out;
  out.reserve(static_cast<size_t>(length));
  Bytes plain, sealed;
  const int64_t end = offset + length;
  for (int64_t pos = offset; pos < end;) {
    const uint64_t first = static_cast<uint64_t>(pos) / kBlobChunkBytes;
    const uint64_t last = static_cast<uint64_t>(end - 1) / kBlobChunkBytes;
    const uint64_t count = std::min(kBatchChunks, last - first + 1);
    plain.resize(PlainBytes(b, first, count));
    CAIRN_RETURN_IF_ERROR(OpenChunks(b, blob_key_.view(), first, count, plain, &sealed, path));
    const int64_t batch_start = static_cast<int64_t>(first * kBlobChunkBytes);
    const int64_t from = pos - batch_start;
    const int64_t to = std::min<int64_t>(static_cast<int64_t>(plain.size()), end - batch_start);
    out.insert(out.end(), plain.begin() + from, plain.begin() + to);
    pos = batch_start + to;
  }
  return out;
}

Result<Bytes> Vault::ReadBlob(std::string_view hash) {
  CAIRN_ASSIGN_OR_RETURN(BlobInfo info, FindBlob(hash));
  const std::string path = dir_ + "/" + info.file;
  CAIRN_ASSIGN_OR_RETURN(OpenBlob b, OpenBlobFile(host_, path));
  Bytes out;
  // Grown a batch at a time within this capacity (never moving, so the pipeline's view of the
  // previous batch stays valid): the memory is first touched by the batch that fills it.
  out.reserve(b.size);
  Bytes sealed;
  CAIRN_ASSIGN_OR_RETURN(crypto::Blake2b h, crypto::Blake2b::Create(32));
  ChunkBatch batch;
  Pipeline pipeline;  // last: destroyed first, so a running stage finishes before the rest
  // Natively, for each batch the pipeline's thread helps decrypt it, then hashes it while this
  // thread reads the next.
  for (uint64_t first = 0; first < b.chunks; first += kBatchChunks) {
    const uint64_t count = std::min(kBatchChunks, b.chunks - first);
    const size_t at = out.size();
    out.resize(at + PlainBytes(b, first, count));
    const MutableByteView dest = MutableByteView(out).subspan(at);
    CAIRN_RETURN_IF_ERROR(ReadSealed(b, first, count, dest.size(), &sealed, path));
    pipeline.Wait();  // the previous batch is hashed, and `batch` is idle
    batch.Reset(count, [&b, &sealed, &path, key = blob_key_.view(), first, dest](size_t i) {
      const size_t plain = ChunkPlainBytes(b, first + i);
      return OpenChunk(b, key, first + i, ByteView(sealed).subspan(i * kStride, plain + kChunkOverhead),
                       dest.subspan(i * kBlobChunkBytes, plain), path);
    });
    const bool overlap = dest.size() >= kPipelineMinBytes;
    if (overlap) {
      pipeline.Run([&batch, &h, dest] {
        batch.Help();
        if (batch.Wait().ok()) h.Update(dest);  // a failure is reported by this thread's Wait
      });
    }
    batch.Help();
    CAIRN_RETURN_IF_ERROR(batch.Wait());
    if (!overlap) h.Update(dest);
  }
  pipeline.Wait();
  CAIRN_ASSIGN_OR_RETURN(Bytes digest, h.Final());
  if (ToHex(digest) != info.hash) {
    return Corruption(path + ": content does not match its address " + info.hash);
  }
  return out;
}

Status Vault::RecordModelFile(std::string_view model_id, std::string_view file_name,
                              std::string_view blob_hash) {
  CAIRN_RETURN_IF_ERROR(FindBlob(blob_hash).status());
  return InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Stmt q, stmts_.Get(db_,
                                                 "INSERT OR REPLACE INTO model_files "
                                                 "(model_id, file_name, blob_hash) VALUES (?, ?, ?)"));
    q.Bind(1, model_id).Bind(2, file_name).Bind(3, blob_hash);
    return q.Run();
  });
}

namespace {

// The source photos of the outbox's unfinished image exports: the payload's "source" is the
// blob's hash (sync/PROTOCOL.md, "The image-export payload"). The sync engine uploads it before
// the job is sent and again if the server asks for it (blob_missing), so it must outlive the
// photo's asset row until the job ends. NULLs are filtered: `x NOT IN (... NULL ...)` is
// never true.
constexpr char kUnfinishedExportSources[] =
    "SELECT s FROM (SELECT json_extract(payload, '$.source') AS s FROM outbox_jobs "
    "WHERE kind = 'image-export' AND state NOT IN ('done', 'failed', 'cancelled') "
    "AND json_valid(payload)) WHERE s IS NOT NULL";

}  // namespace

Result<int> Vault::UnfinishedExportsUsing(std::string_view blob_hash) {
  CAIRN_ASSIGN_OR_RETURN(
      Stmt q, stmts_.Get(db_, std::string("SELECT count(*) FROM (") + kUnfinishedExportSources +
                                  ") WHERE s = ?"));
  q.Bind(1, blob_hash);
  CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<int>(q.Int(0)) : 0;
}

Result<int> Vault::CollectGarbage() {
  // Run it when no BlobWriter is open. A resumable write is kept for 30 days after its last
  // checkpoint; every other 'writing' blob is an interrupted write.
  constexpr int64_t kResumeKeepMs = 30LL * 24 * 60 * 60 * 1000;
  CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Stmt q, stmts_.Get(db_, "DELETE FROM blob_resume WHERE updated_at < ?"));
    q.Bind(1, NowMs() - kResumeKeepMs);
    return q.Run();
  }));
  return RemoveBlobFiles(
      "(state='writing' AND file NOT IN (SELECT file FROM blob_resume)) OR "
      "(state='ready' AND hash NOT IN (SELECT blob_hash FROM assets) AND "
      "hash NOT IN (SELECT blob_hash FROM model_files) AND "
      "hash NOT IN (" + std::string(kUnfinishedExportSources) + "))");
}

Status Vault::DropResumableBlobs() {
  // Files first: a crash in between leaves rows naming missing files, which ResumableBlob
  // replaces with new writes.
  CAIRN_RETURN_IF_ERROR(RemoveBlobFiles("file IN (SELECT file FROM blob_resume)").status());
  return InTransaction([&]() -> Status { return Exec(db_, "DELETE FROM blob_resume"); });
}

// Removes the blobs matching `where_sql` with their files, in three steps each safe to
// interrupt: rows are marked 'writing' (no longer readable), files deleted, rows deleted.
// Returns the number removed.
Result<int> Vault::RemoveBlobFiles(const std::string& where_sql) {
  std::vector<std::string> files;
  CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Stmt q, stmts_.Get(db_, "SELECT file FROM blobs WHERE " + where_sql));
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      files.push_back(q.Text(0));
    }
    for (const auto& f : files) {
      CAIRN_ASSIGN_OR_RETURN(
          Stmt mark, stmts_.Get(db_, "UPDATE blobs SET state='writing', hash=NULL WHERE file=?"));
      mark.Bind(1, f);
      CAIRN_RETURN_IF_ERROR(mark.Run());
    }
    return Status::Ok();
  }));
  for (const auto& f : files) CAIRN_RETURN_IF_ERROR(VfsDelete(host_, dir_ + "/" + f));
  CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    for (const auto& f : files) {
      CAIRN_ASSIGN_OR_RETURN(Stmt del, stmts_.Get(db_, "DELETE FROM blobs WHERE file=?"));
      del.Bind(1, f);
      CAIRN_RETURN_IF_ERROR(del.Run());
    }
    return Status::Ok();
  }));
  return static_cast<int>(files.size());
}

Status Vault::ReencryptBlobs(ByteView new_blob_key,
                             std::vector<std::pair<std::string, std::string>>* moved) {
  std::vector<BlobInfo> blobs;
  {
    CAIRN_ASSIGN_OR_RETURN(Stmt q,
                           stmts_.Get(db_, "SELECT hash, size, file FROM blobs WHERE state='ready'"));
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      blobs.push_back({q.Text(0), q.Int(1), q.Text(2)});
    }
  }
  for (const BlobInfo& b : blobs) {
    const std::string new_name = "blob-" + ToHex(crypto::RandomBytes(12)) + ".cbl";
    CAIRN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(
          Stmt q, stmts_.Get(db_, "INSERT INTO blobs (file, state, created_at) VALUES (?, 'writing', ?)"));
      q.Bind(1, new_name).Bind(2, NowMs());
      return q.Run();
    }));
    const std::string old_path = dir_ + "/" + b.file;
    CAIRN_ASSIGN_OR_RETURN(OpenBlob in, OpenBlobFile(host_, old_path));
    CAIRN_ASSIGN_OR_RETURN(VfsFile out_file,
                           VfsFile::Open(host_, dir_ + "/" + new_name, VfsFile::Mode::kCreate));
    BlobFileWriter out(std::move(out_file), new_blob_key);
    Bytes plain, sealed;
    for (uint64_t first = 0; first < in.chunks; first += kBatchChunks) {
      const uint64_t count = std::min(kBatchChunks, in.chunks - first);
      plain.resize(PlainBytes(in, first, count));
      CAIRN_RETURN_IF_ERROR(
          OpenChunks(in, blob_key_.view(), first, count, plain, &sealed, old_path));
      CAIRN_RETURN_IF_ERROR(out.Append(plain));
    }
    CAIRN_ASSIGN_OR_RETURN(std::string hash, out.Finish());
    if (hash != b.hash) return Corruption(old_path + ": content does not match its address " + b.hash);
    moved->emplace_back(b.file, new_name);
  }
  return Status::Ok();
}

}  // namespace cairn::storage
