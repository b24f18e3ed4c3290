#include "storage/cipher_vfs.h"

#include <atomic>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "core/crypto/aead.h"
#include "core/crypto/random.h"
#include "storage/write_behind.h"

namespace cairn::storage {
namespace {

using crypto::kAeadNonceBytes;
using crypto::kAeadTagBytes;

static_assert(kPageReserve == kAeadNonceBytes + kAeadTagBytes);
constexpr int kCipherBytes = kPageSize - kPageReserve;  // the encrypted part of a page
constexpr int64_t kWalHeaderBytes = 32;
constexpr int64_t kWalFrameHeaderBytes = 24;
constexpr int64_t kWalFrameBytes = kWalFrameHeaderBytes + kPageSize;

enum class Role : uint8_t { kDatabase = 0, kJournal = 1, kWal = 2 };

const char* RoleName(Role r) {
  switch (r) {
    case Role::kDatabase: return "database";
    case Role::kJournal: return "journal";
    case Role::kWal: return "WAL";
  }
  return "?";
}

}  // namespace

struct CipherVfs::Impl {
  sqlite3_vfs vfs{};
  sqlite3_vfs* base = nullptr;
  SecretBytes key;
  uint8_t vault_id[kVaultIdBytes]{};
  std::string name;
  mutable std::mutex mu;
  std::string last_error;


  void SetError(std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    last_error = std::move(e);
  }
};

namespace {

using Impl = CipherVfs::Impl;

struct CipherFile {
  sqlite3_file header;  // must be first: SQLite sees a CipherFile as a sqlite3_file
  Impl* vfs;
  sqlite3_file* real;  // the host VFS's file, in the same allocation after this struct
  // Every read, write, size, truncate and sync of `real` goes through `below`, which joins
  // contiguous writes into one host call (storage/write_behind.h).
  WriteBehind* below;
  Role role;
  const char* path;
  uint8_t* scratch;  // one page, for encrypting writes and decrypting partial reads
  // WAL only: the page number in each frame's header, as last written or read (0: unknown).
  std::vector<uint32_t>* frame_pgno;
};

Impl* VfsOf(sqlite3_vfs* v) { return static_cast<Impl*>(v->pAppData); }
CipherFile* FileOf(sqlite3_file* f) { return reinterpret_cast<CipherFile*>(f); }

// Where an offset falls: inside an encrypted unit (one page image), or in plain bytes (the WAL
// header and frame headers) that run until `plain_end`.
struct Location {
  bool in_unit;
  int64_t unit_start;
  uint64_t unit_index;
  int64_t plain_end;
};

Location Locate(Role role, int64_t off) {
  if (role == Role::kDatabase) {
    const uint64_t index = static_cast<uint64_t>(off / kPageSize);
    return {true, static_cast<int64_t>(index) * kPageSize, index, 0};
  }
  // WAL: 32-byte header, then frames of a 24-byte header and a page.
  if (off < kWalHeaderBytes) return {false, 0, 0, kWalHeaderBytes + kWalFrameHeaderBytes};
  const int64_t rel = off - kWalHeaderBytes;
  const int64_t frame = rel / kWalFrameBytes;
  const int64_t frame_start = kWalHeaderBytes + frame * kWalFrameBytes;
  if (rel % kWalFrameBytes < kWalFrameHeaderBytes) {
    return {false, 0, 0, frame_start + kWalFrameHeaderBytes};
  }
  return {true, frame_start + kWalFrameHeaderBytes, static_cast<uint64_t>(frame), 0};
}

int64_t FrameOffset(uint64_t frame) {
  return kWalHeaderBytes + static_cast<int64_t>(frame) * kWalFrameBytes;
}

// Rollback journals hold page images at offsets 4 (mod 8) (after each record's 4-byte page
// number; headers sit on sector boundaries), always read and written whole.
bool IsJournalPage(int amt, int64_t off) { return amt == kPageSize && off % 8 == 4; }

uint32_t Get32(const uint8_t* p) {  // big-endian, as in SQLite's WAL headers
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// What a page image is bound to: the associated data is `vault id || role || index`.
// Database pages and WAL frames (format 2) are bound to the page number they hold, so a
// checkpoint can copy a frame's bytes into the database unchanged; rollback-journal records to
// their byte offset. Format 1 bound WAL frames to (WAL, frame index); such frames are still
// read (a WAL left by an older Cairn), never written.
struct Binding {
  Role role;
  uint64_t index;
};

void AssociatedData(const Impl* vfs, Binding b, uint8_t out[25]) {
  std::memcpy(out, vfs->vault_id, kVaultIdBytes);
  out[16] = static_cast<uint8_t>(b.role);
  for (int i = 0; i < 8; ++i) out[17 + i] = static_cast<uint8_t>(b.index >> (8 * i));
}

// "vault.db (database) page 7", "vault.db-wal (WAL) frame 3 (page 7)", "… (journal) offset 12".
std::string Where(const CipherFile* f, uint64_t index, uint32_t pgno = 0) {
  std::string s = f->path ? f->path : "(unnamed)";
  s += " (";
  s += RoleName(f->role);
  s += ") ";
  s += f->role == Role::kDatabase ? "page " : f->role == Role::kWal ? "frame " : "offset ";
  s += std::to_string(f->role == Role::kDatabase ? index + 1 : index);
  if (f->role == Role::kWal && pgno != 0) s += " (page " + std::to_string(pgno) + ")";
  return s;
}

void RememberPgno(CipherFile* f, uint64_t frame, uint32_t pgno) {
  if (frame >= (uint64_t{1} << 22)) return;  // a 16 GiB WAL: don't cache, read the header
  if (f->frame_pgno->size() <= frame) f->frame_pgno->resize(frame + 1, 0);
  (*f->frame_pgno)[frame] = pgno;
}

// The page number in WAL frame `frame`'s header: remembered from the last write or read of that
// header unless `from_file`, else read from the file. 0: the header is not in the file.
int FramePgno(CipherFile* f, uint64_t frame, bool from_file, uint32_t* pgno) {
  if (!from_file && frame < f->frame_pgno->size() && (*f->frame_pgno)[frame] != 0) {
    *pgno = (*f->frame_pgno)[frame];
    return SQLITE_OK;
  }
  uint8_t h[4];
  int rc = f->below->Read(h, sizeof h, FrameOffset(frame));
  if (rc == SQLITE_IOERR_SHORT_READ) {
    *pgno = 0;
    return SQLITE_OK;
  }
  if (rc != SQLITE_OK) return rc;
  *pgno = Get32(h);
  RememberPgno(f, frame, *pgno);
  return SQLITE_OK;
}

// Encrypts the page at `data` into f->scratch under `b` and writes it at `off`.
int EncryptAndWrite(CipherFile* f, const void* data, Binding b, int64_t off,
                    const std::string& where) {
  uint8_t* page = f->scratch;
  std::memcpy(page, data, kCipherBytes);
  MutableByteView all(page, kPageSize);
  MutableByteView nonce = all.subspan(kCipherBytes, kAeadNonceBytes);
  crypto::RandomFill(nonce);
  uint8_t ad[25];
  AssociatedData(f->vfs, b, ad);
  Status s = crypto::AeadEncryptDetached(f->vfs->key.view(), nonce, ByteView(ad, sizeof ad),
                                         all.first(kCipherBytes), all.first(kCipherBytes),
                                         all.last(kAeadTagBytes));
  if (!s.ok()) {
    f->vfs->SetError(where + ": " + s.message());
    return SQLITE_IOERR_WRITE;
  }
  return f->below->Write(page, kPageSize, off);
}

int WriteUnit(CipherFile* f, const void* data, uint64_t index, int64_t off) {
  switch (f->role) {
    case Role::kDatabase:
      return EncryptAndWrite(f, data, {Role::kDatabase, index}, off, Where(f, index));
    case Role::kJournal:
      return EncryptAndWrite(f, data, {Role::kJournal, index}, off, Where(f, index));
    case Role::kWal: {
      uint32_t pgno = 0;
      int rc = FramePgno(f, index, /*from_file=*/false, &pgno);
      if (rc != SQLITE_OK) return rc;
      if (pgno == 0) {
        f->vfs->SetError(Where(f, index) + ": page image written before its frame header");
        return SQLITE_IOERR_WRITE;
      }
      return EncryptAndWrite(f, data, {Role::kDatabase, pgno - 1u}, off, Where(f, index, pgno));
    }
  }
  return SQLITE_IOERR_WRITE;
}

// Decrypts the page image `raw` (kPageSize bytes) under `b` into `page`; the reserve bytes come
// back zeroed. false: it did not authenticate (`page` is then zeros).
bool Decrypt(const CipherFile* f, const uint8_t* raw, Binding b, uint8_t* page) {
  uint8_t ad[25];
  AssociatedData(f->vfs, b, ad);
  Status s = crypto::AeadDecryptDetached(
      f->vfs->key.view(), ByteView(raw + kCipherBytes, kAeadNonceBytes), ByteView(ad, sizeof ad),
      ByteView(raw, kCipherBytes), ByteView(raw + kCipherBytes + kAeadNonceBytes, kAeadTagBytes),
      MutableByteView(page, kCipherBytes));
  std::memset(page + kCipherBytes, 0, kPageReserve);
  if (!s.ok()) std::memset(page, 0, kPageSize);
  return s.ok();
}

// Decrypts WAL frame `frame`'s page image `raw` into `page`: bound to the page number in its
// header (format 2) or, for a WAL an older Cairn left, to the frame index (format 1). `pgno` is
// the header's page number. true when one authenticates.
bool DecryptFrame(CipherFile* f, const uint8_t* raw, uint64_t frame, uint32_t pgno,
                  uint8_t* page) {
  if (pgno != 0 && Decrypt(f, raw, {Role::kDatabase, pgno - 1u}, page)) return true;
  return Decrypt(f, raw, {Role::kWal, frame}, page);
}

constexpr const char* kAuthFailed =
    ": authentication failed (the file was modified or damaged, or belongs to another vault)";

// Reads and decrypts the unit at `off` into `page` (kPageSize bytes). SQLITE_OK,
// SQLITE_IOERR_SHORT_READ (the unit is not, or not wholly, in the file: zeros), or
// SQLITE_IOERR_DATA (it failed to authenticate). The reserve bytes come back zeroed.
int ReadUnit(CipherFile* f, uint8_t* page, uint64_t index, int64_t off) {
  uint8_t* raw = f->scratch + kPageSize;
  int rc = f->below->Read(raw, kPageSize, off);
  if (rc == SQLITE_IOERR_SHORT_READ) {
    std::memset(page, 0, kPageSize);
    return rc;
  }
  if (rc != SQLITE_OK) return rc;
  if (f->role != Role::kWal) {
    if (Decrypt(f, raw, {f->role, index}, page)) return SQLITE_OK;
    f->vfs->SetError(Where(f, index) + kAuthFailed);
    return SQLITE_IOERR_DATA;
  }
  uint32_t pgno = 0;
  rc = FramePgno(f, index, /*from_file=*/false, &pgno);
  if (rc != SQLITE_OK) return rc;
  if (DecryptFrame(f, raw, index, pgno, page)) return SQLITE_OK;
  // The remembered header may be stale (another connection rewrote the WAL): read it again.
  uint32_t fresh = 0;
  rc = FramePgno(f, index, /*from_file=*/true, &fresh);
  if (rc != SQLITE_OK) return rc;
  if (fresh != pgno && DecryptFrame(f, raw, index, fresh, page)) return SQLITE_OK;
  f->vfs->SetError(Where(f, index, fresh) + kAuthFailed);
  // A WAL frame torn by a crash reads as zeros, which SQLite's own checksums then reject, as
  // they would a torn plaintext frame. Damage to a frame that was committed is told apart from
  // a tear when the WAL is opened (ScanWal) and is an error there.
  return SQLITE_OK;
}

// The database file of the connection that is checkpointing on this thread, or nullptr: set
// between SQLITE_FCNTL_CKPT_START and SQLITE_FCNTL_CKPT_DONE, which in SQLite 3.46's
// walCheckpoint() bracket exactly the loop that reads each frame's page image from the WAL into
// a buffer and writes that buffer to the page's place in the database, and nothing else.
// (SQLite uses a connection from one thread at a time.)
thread_local CipherFile* tl_checkpointing_db = nullptr;

// A checkpoint's read of a frame's page image: the ciphertext itself, its tag checked but not
// decrypted, since a format-2 frame is bound to its page number just as the database page it
// becomes. A format-1 frame is decrypted and encrypted again for its page. A frame that is
// missing or fails is an error naming it: the database must never receive a page that is not
// authentic.
int CheckpointRead(CipherFile* f, uint8_t* out, uint64_t frame, int64_t off) {
  int rc = f->below->Read(out, kPageSize, off);
  uint32_t pgno = 0;
  if (rc == SQLITE_OK) rc = FramePgno(f, frame, /*from_file=*/false, &pgno);
  if (rc == SQLITE_IOERR_SHORT_READ || (rc == SQLITE_OK && pgno == 0)) {
    f->vfs->SetError(Where(f, frame) + ": missing from the WAL during a checkpoint");
    return SQLITE_IOERR_DATA;
  }
  if (rc != SQLITE_OK) return rc;
  auto verify = [&](uint32_t p) {
    uint8_t ad[25];
    AssociatedData(f->vfs, {Role::kDatabase, p - 1u}, ad);
    return crypto::AeadVerifyDetached(
               f->vfs->key.view(), ByteView(out + kCipherBytes, kAeadNonceBytes),
               ByteView(ad, sizeof ad), ByteView(out, kCipherBytes),
               ByteView(out + kCipherBytes + kAeadNonceBytes, kAeadTagBytes))
        .ok();
  };
  if (verify(pgno)) return SQLITE_OK;
  uint32_t fresh = 0;
  rc = FramePgno(f, frame, /*from_file=*/true, &fresh);
  if (rc != SQLITE_OK) return rc;
  if (fresh != 0 && fresh != pgno && verify(fresh)) return SQLITE_OK;
  uint8_t* plain = f->scratch;
  if (fresh != 0 && Decrypt(f, out, {Role::kWal, frame}, plain)) {  // format 1
    std::memcpy(out, plain, kCipherBytes);
    MutableByteView all(out, kPageSize);
    MutableByteView nonce = all.subspan(kCipherBytes, kAeadNonceBytes);
    crypto::RandomFill(nonce);
    uint8_t ad[25];
    AssociatedData(f->vfs, {Role::kDatabase, fresh - 1u}, ad);
    if (crypto::AeadEncryptDetached(f->vfs->key.view(), nonce, ByteView(ad, sizeof ad),
                                    all.first(kCipherBytes), all.first(kCipherBytes),
                                    all.last(kAeadTagBytes))
            .ok()) {
      return SQLITE_OK;
    }
  }
  f->vfs->SetError(Where(f, frame, fresh) + kAuthFailed + " (during a checkpoint)");
  return SQLITE_IOERR_DATA;
}

// A checkpoint's write of a page image to database page `index` + 1: what CheckpointRead gave,
// written as it is when it authenticates for this page; anything else is encrypted as usual.
int CheckpointWrite(CipherFile* f, const void* data, uint64_t index, int64_t off) {
  const auto* in = static_cast<const uint8_t*>(data);
  uint8_t ad[25];
  AssociatedData(f->vfs, {Role::kDatabase, index}, ad);
  if (crypto::AeadVerifyDetached(f->vfs->key.view(), ByteView(in + kCipherBytes, kAeadNonceBytes),
                                 ByteView(ad, sizeof ad), ByteView(in, kCipherBytes),
                                 ByteView(in + kCipherBytes + kAeadNonceBytes, kAeadTagBytes))
          .ok()) {
    return f->below->Write(in, kPageSize, off);
  }
  return WriteUnit(f, data, index, off);
}

// SQLite's WAL checksum (fileformat2.html, "Checksum Algorithm"): over 32-bit words, big-endian
// when the WAL header's magic is 0x377f0683, little-endian for 0x377f0682.
void WalChecksum(bool big_endian, const uint8_t* data, size_t n, uint32_t s[2]) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint32_t x0, x1;
    if (big_endian) {
      x0 = Get32(data + i);
      x1 = Get32(data + i + 4);
    } else {
      std::memcpy(&x0, data + i, 4);  // wasm and every supported native target: little-endian
      std::memcpy(&x1, data + i + 4, 4);
    }
    s[0] += x0 + s[1];
    s[1] += x1 + s[0];
  }
}

// Run when SQLite reads the WAL header, i.e. before it recovers the WAL. SQLite takes the
// frames up to the first one whose salts or checksum do not match and drops the rest, which is
// right for a frame a crash tore (it belongs to a transaction that was never acknowledged) but
// would silently drop every later commit if a committed frame were damaged. A tear can only hit
// the last transaction, written after the last sync; so when a frame is bad and, after the
// commit frame that ends its transaction, the WAL still holds an authentic frame of the same
// WAL generation (its salts), a later transaction was begun after that commit was synced: the
// bad frame was committed. That is reported as damage (SQLITE_IOERR_DATA, naming the frame),
// and nothing is dropped. Damage to the last committed transaction, or to the WAL header,
// cannot be told from a tear.
int ScanWal(CipherFile* f) {
  sqlite3_int64 size = 0;
  int rc = f->below->FileSize(&size);
  if (rc != SQLITE_OK) return rc;
  uint8_t hdr[kWalHeaderBytes];
  if (size < kWalHeaderBytes + kWalFrameBytes) return SQLITE_OK;
  rc = f->below->Read(hdr, sizeof hdr, 0);
  if (rc != SQLITE_OK) return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_OK : rc;
  const uint32_t magic = Get32(hdr);
  if ((magic & ~1u) != 0x377f0682u || Get32(hdr + 8) != static_cast<uint32_t>(kPageSize)) {
    return SQLITE_OK;  // SQLite ignores such a WAL; nothing in it was ever acknowledged
  }
  const bool big_endian = magic & 1u;
  uint32_t sum[2] = {0, 0};
  WalChecksum(big_endian, hdr, 24, sum);
  if (sum[0] != Get32(hdr + 24) || sum[1] != Get32(hdr + 28)) return SQLITE_OK;

  uint8_t* raw = f->scratch + kPageSize;
  uint8_t* page = f->scratch;
  const uint64_t frames = static_cast<uint64_t>((size - kWalHeaderBytes) / kWalFrameBytes);
  uint8_t fh[kWalFrameHeaderBytes];
  bool salts_ok = false;
  // Reads frame k into fh and raw; true when its page image authenticates under the page
  // number in its header (then `page` holds the plaintext); salts_ok: its salts are this WAL
  // generation's.
  auto read_frame = [&](uint64_t k, int* io) -> bool {
    *io = f->below->Read(fh, sizeof fh, FrameOffset(k));
    if (*io == SQLITE_OK) {
      *io = f->below->Read(raw, kPageSize, FrameOffset(k) + kWalFrameHeaderBytes);
    }
    if (*io != SQLITE_OK) return false;
    RememberPgno(f, k, Get32(fh));
    salts_ok = std::memcmp(fh + 8, hdr + 16, 8) == 0;
    return DecryptFrame(f, raw, k, Get32(fh), page);
  };
  uint64_t bad = frames;  // the first frame SQLite will not take
  bool bad_is_commit = false;
  for (uint64_t k = 0; k < frames; ++k) {
    int io;
    const bool authentic = read_frame(k, &io);
    if (io != SQLITE_OK) return io;
    uint32_t next[2] = {sum[0], sum[1]};
    bool chained = false;
    if (authentic) {
      WalChecksum(big_endian, fh, 8, next);
      WalChecksum(big_endian, page, kPageSize, next);
      chained = next[0] == Get32(fh + 16) && next[1] == Get32(fh + 20);
    }
    if (authentic && salts_ok && chained) {
      sum[0] = next[0];
      sum[1] = next[1];
      continue;
    }
    bad = k;
    // Its header's commit mark counts when the header is this generation's: its salts match,
    // or its image and checksum do (a damaged salt).
    bad_is_commit = Get32(fh + 4) != 0 && (salts_ok || (authentic && chained));
    break;
  }
  if (bad == frames) return SQLITE_OK;
  const uint32_t bad_pgno = Get32(fh);
  bool after_commit = bad_is_commit;
  for (uint64_t k = bad + 1; k < frames; ++k) {
    int io;
    const bool authentic = read_frame(k, &io);
    if (io != SQLITE_OK) return io;
    if (!authentic || !salts_ok) continue;
    if (after_commit) {
      f->vfs->SetError(Where(f, bad, bad_pgno) +
                       ": damaged (authentication or checksum failed), and committed "
                       "transactions follow it; nothing was dropped: restore the vault or "
                       "run `cairn-vault check`");
      return SQLITE_IOERR_DATA;
    }
    if (Get32(fh + 4) != 0) after_commit = true;  // the commit frame ending the bad frame's txn
  }
  return SQLITE_OK;
}

int CxClose(sqlite3_file* file) {
  CipherFile* f = FileOf(file);
  if (tl_checkpointing_db == f) tl_checkpointing_db = nullptr;
  // Held writes go down first; nothing unsynced was acknowledged, but a close keeps them.
  int rc = f->below ? f->below->Flush() : SQLITE_OK;
  const int closed = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  if (rc == SQLITE_OK) rc = closed;
  delete f->below;
  f->below = nullptr;
  delete[] f->scratch;
  f->scratch = nullptr;
  delete f->frame_pgno;
  f->frame_pgno = nullptr;
  return rc;
}

// A WAL frame header seen in a read or write of `n` bytes at `off` (`bytes`): remember its page
// number.
void NoteFrameHeader(CipherFile* f, const uint8_t* bytes, int64_t n, int64_t off) {
  if (f->role != Role::kWal || off < kWalHeaderBytes || n < 4) return;
  if ((off - kWalHeaderBytes) % kWalFrameBytes != 0) return;
  RememberPgno(f, static_cast<uint64_t>((off - kWalHeaderBytes) / kWalFrameBytes), Get32(bytes));
}

int CxRead(sqlite3_file* file, void* buf, int amt, sqlite3_int64 off) {
  CipherFile* f = FileOf(file);
  uint8_t* out = static_cast<uint8_t*>(buf);
  if (f->role == Role::kJournal) {
    if (!IsJournalPage(amt, off)) return f->below->Read(buf, amt, off);
    return ReadUnit(f, out, static_cast<uint64_t>(off), off);
  }
  if (f->role == Role::kWal && tl_checkpointing_db != nullptr &&
      tl_checkpointing_db->vfs == f->vfs && amt == kPageSize) {
    Location loc = Locate(f->role, off);
    if (loc.in_unit && loc.unit_start == off) return CheckpointRead(f, out, loc.unit_index, off);
  }
  if (f->role == Role::kWal && off == 0 && amt >= kWalHeaderBytes) {
    int rc = ScanWal(f);  // SQLite is about to recover the WAL
    if (rc != SQLITE_OK) return rc;
  }
  bool short_read = false;
  int64_t pos = off;
  const int64_t end = off + amt;
  while (pos < end) {
    Location loc = Locate(f->role, pos);
    int rc;
    int64_t next;
    if (loc.in_unit) {
      next = std::min(end, loc.unit_start + kPageSize);
      const bool whole = pos == loc.unit_start && next == loc.unit_start + kPageSize;
      uint8_t* page = whole ? out + (pos - off) : f->scratch;
      rc = ReadUnit(f, page, loc.unit_index, loc.unit_start);
      if (!whole) std::memcpy(out + (pos - off), page + (pos - loc.unit_start), next - pos);
    } else {
      next = std::min(end, loc.plain_end);
      rc = f->below->Read(out + (pos - off), static_cast<int>(next - pos), pos);
      if (rc == SQLITE_OK) NoteFrameHeader(f, out + (pos - off), next - pos, pos);
    }
    if (rc == SQLITE_IOERR_SHORT_READ) {
      short_read = true;
    } else if (rc != SQLITE_OK) {
      return rc;
    }
    pos = next;
  }
  return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

int CxWrite(sqlite3_file* file, const void* buf, int amt, sqlite3_int64 off) {
  CipherFile* f = FileOf(file);
  if (f->role == Role::kJournal) {
    if (!IsJournalPage(amt, off)) return f->below->Write(buf, amt, off);
    return WriteUnit(f, buf, static_cast<uint64_t>(off), off);
  }
  Location loc = Locate(f->role, off);
  if (loc.in_unit) {
    if (loc.unit_start == off && amt == kPageSize) {
      if (f == tl_checkpointing_db) return CheckpointWrite(f, buf, loc.unit_index, off);
      return WriteUnit(f, buf, loc.unit_index, off);
    }
  } else if (off + amt <= loc.plain_end) {
    NoteFrameHeader(f, static_cast<const uint8_t*>(buf), amt, off);
    return f->below->Write(buf, amt, off);
  }
  // Never write part of a page in plaintext; SQLite does not do this with 4096-byte pages.
  f->vfs->SetError(std::string(f->path ? f->path : "?") + ": refused a write of " +
                   std::to_string(amt) + " bytes at offset " + std::to_string(off) +
                   " that is not a whole page");
  return SQLITE_IOERR_WRITE;
}

int CxTruncate(sqlite3_file* f, sqlite3_int64 size) { return FileOf(f)->below->Truncate(size); }
int CxSync(sqlite3_file* f, int flags) { return FileOf(f)->below->Sync(flags); }
int CxFileSize(sqlite3_file* f, sqlite3_int64* size) { return FileOf(f)->below->FileSize(size); }
// Held writes go down before any lock or shared-memory change, so another connection (natively,
// with shared memory) never sees a WAL index or lock state ahead of the file's bytes.
int CxLock(sqlite3_file* f, int level) {
  int rc = FileOf(f)->below->Flush();
  if (rc != SQLITE_OK) return rc;
  return FileOf(f)->real->pMethods->xLock(FileOf(f)->real, level);
}
int CxUnlock(sqlite3_file* f, int level) {
  int rc = FileOf(f)->below->Flush();
  if (rc != SQLITE_OK) return rc;
  return FileOf(f)->real->pMethods->xUnlock(FileOf(f)->real, level);
}
int CxCheckReservedLock(sqlite3_file* f, int* out) {
  return FileOf(f)->real->pMethods->xCheckReservedLock(FileOf(f)->real, out);
}
int CxFileControl(sqlite3_file* file, int op, void* arg) {
  CipherFile* f = FileOf(file);
  if (op == SQLITE_FCNTL_CKPT_START && f->role == Role::kDatabase) tl_checkpointing_db = f;
  if (op == SQLITE_FCNTL_CKPT_DONE && tl_checkpointing_db == f) tl_checkpointing_db = nullptr;
  if (op == SQLITE_FCNTL_MMAP_SIZE) {
    // Memory-mapped reads would bypass decryption: keep mmap off.
    if (arg != nullptr) *static_cast<sqlite3_int64*>(arg) = 0;
    return SQLITE_OK;
  }
  return f->real->pMethods->xFileControl(f->real, op, arg);
}
int CxSectorSize(sqlite3_file* f) {
  return FileOf(f)->real->pMethods->xSectorSize(FileOf(f)->real);
}
int CxDeviceCharacteristics(sqlite3_file* f) {
  // Pages are rewritten whole with new nonces, so no atomic-batch or partial-page promises.
  return FileOf(f)->real->pMethods->xDeviceCharacteristics(FileOf(f)->real) &
         ~(SQLITE_IOCAP_BATCH_ATOMIC);
}
int CxShmMap(sqlite3_file* f, int pg, int pgsz, int extend, void volatile** pp) {
  sqlite3_file* r = FileOf(f)->real;
  if (r->pMethods->iVersion < 2 || r->pMethods->xShmMap == nullptr) return SQLITE_IOERR_SHMMAP;
  return r->pMethods->xShmMap(r, pg, pgsz, extend, pp);
}
int CxShmLock(sqlite3_file* f, int offset, int n, int flags) {
  int rc = FileOf(f)->below->Flush();
  if (rc != SQLITE_OK) return rc;
  sqlite3_file* r = FileOf(f)->real;
  return r->pMethods->xShmLock(r, offset, n, flags);
}
// SQLite calls this between writing a commit's frames and publishing the new WAL index header.
void CxShmBarrier(sqlite3_file* f) {
  // A write that fails here fails again at the commit's sync (synchronous=FULL), or is a
  // transaction a crash could drop anyway (NORMAL): held bytes are gone either way.
  FileOf(f)->below->Flush();
  sqlite3_file* r = FileOf(f)->real;
  r->pMethods->xShmBarrier(r);
}
int CxShmUnmap(sqlite3_file* f, int del) {
  sqlite3_file* r = FileOf(f)->real;
  if (r->pMethods->iVersion < 2 || r->pMethods->xShmUnmap == nullptr) return SQLITE_OK;
  return r->pMethods->xShmUnmap(r, del);
}
int CxFetch(sqlite3_file*, sqlite3_int64, int, void** pp) {
  *pp = nullptr;  // no memory mapping: every read goes through decryption
  return SQLITE_OK;
}
int CxUnfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

const sqlite3_io_methods kMethodsWithShm = {
    3,           CxClose,     CxRead,       CxWrite,
    CxTruncate,  CxSync,      CxFileSize,   CxLock,
    CxUnlock,    CxCheckReservedLock,       CxFileControl,
    CxSectorSize, CxDeviceCharacteristics,  CxShmMap,
    CxShmLock,   CxShmBarrier, CxShmUnmap,  CxFetch,
    CxUnfetch};
// For host files without shared memory (SQLite then needs EXCLUSIVE locking for WAL).
const sqlite3_io_methods kMethodsNoShm = {
    1,          CxClose,    CxRead,     CxWrite,  CxTruncate,         CxSync,
    CxFileSize, CxLock,     CxUnlock,   CxCheckReservedLock, CxFileControl, CxSectorSize,
    CxDeviceCharacteristics, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

int VxOpen(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  Impl* impl = VfsOf(vfs);
  CipherFile* f = FileOf(file);
  f->header.pMethods = nullptr;
  f->vfs = impl;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(CipherFile));
  f->path = name;
  f->scratch = nullptr;
  f->frame_pgno = nullptr;
  f->below = nullptr;
  if (flags & SQLITE_OPEN_MAIN_DB) {
    f->role = Role::kDatabase;
  } else if (flags & SQLITE_OPEN_MAIN_JOURNAL) {
    f->role = Role::kJournal;
  } else if (flags & SQLITE_OPEN_WAL) {
    f->role = Role::kWal;
  } else {
    impl->SetError(std::string("refused to open a temporary or auxiliary file in plaintext (") +
                   (name ? name : "unnamed") + "); temporary storage must stay in memory");
    return SQLITE_CANTOPEN;
  }
  int rc = impl->base->xOpen(impl->base, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  f->scratch = new (std::nothrow) uint8_t[2 * kPageSize];  // a page, and its raw bytes on reads
  f->frame_pgno = new (std::nothrow) std::vector<uint32_t>();
  f->below = new (std::nothrow) WriteBehind(f->real);
  if (f->scratch == nullptr || f->frame_pgno == nullptr || f->below == nullptr) {
    delete[] f->scratch;
    delete f->frame_pgno;
    delete f->below;
    f->scratch = nullptr;
    f->frame_pgno = nullptr;
    f->below = nullptr;
    f->real->pMethods->xClose(f->real);
    return SQLITE_NOMEM;
  }
  const bool has_shm = f->real->pMethods->iVersion >= 2 && f->real->pMethods->xShmMap != nullptr;
  f->header.pMethods = has_shm ? &kMethodsWithShm : &kMethodsNoShm;
  return SQLITE_OK;
}

int VxDelete(sqlite3_vfs* v, const char* name, int sync_dir) {
  sqlite3_vfs* b = VfsOf(v)->base;
  return b->xDelete(b, name, sync_dir);
}
int VxAccess(sqlite3_vfs* v, const char* name, int flags, int* out) {
  sqlite3_vfs* b = VfsOf(v)->base;
  return b->xAccess(b, name, flags, out);
}
int VxFullPathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  sqlite3_vfs* b = VfsOf(v)->base;
  return b->xFullPathname(b, name, n, out);
}
int VxRandomness(sqlite3_vfs*, int n, char* out) {
  crypto::RandomFill(MutableByteView(reinterpret_cast<uint8_t*>(out), static_cast<size_t>(n)));
  return n;
}
int VxSleep(sqlite3_vfs* v, int us) {
  sqlite3_vfs* b = VfsOf(v)->base;
  return b->xSleep(b, us);
}
int VxCurrentTime(sqlite3_vfs* v, double* t) {
  sqlite3_vfs* b = VfsOf(v)->base;
  return b->xCurrentTime(b, t);
}
int VxCurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* t) {
  sqlite3_vfs* b = VfsOf(v)->base;
  if (b->iVersion >= 2 && b->xCurrentTimeInt64 != nullptr) return b->xCurrentTimeInt64(b, t);
  double d = 0;
  int rc = b->xCurrentTime(b, &d);
  *t = static_cast<sqlite3_int64>(d * 86400000.0);
  return rc;
}
int VxGetLastError(sqlite3_vfs* v, int n, char* out) {
  sqlite3_vfs* b = VfsOf(v)->base;
  return b->xGetLastError ? b->xGetLastError(b, n, out) : 0;
}

std::atomic<int> g_vfs_counter{0};

}  // namespace

Result<std::unique_ptr<CipherVfs>> CipherVfs::Register(sqlite3_vfs* base, ByteView key,
                                                       ByteView vault_id) {
  if (base == nullptr) return InvalidArgument("cipher vfs: no host VFS");
  if (key.size() != crypto::kAeadKeyBytes) {
    return InvalidArgument("cipher vfs: key must be 32 bytes, got " + std::to_string(key.size()));
  }
  if (vault_id.size() != kVaultIdBytes) {
    return InvalidArgument("cipher vfs: vault id must be 16 bytes");
  }
  std::unique_ptr<CipherVfs> out(new CipherVfs());
  out->impl_ = std::make_unique<Impl>();
  Impl* impl = out->impl_.get();
  impl->base = base;
  impl->key = SecretBytes::CopyOf(key);
  std::memcpy(impl->vault_id, vault_id.data(), kVaultIdBytes);
  out->name_ = "cairn-cipher-" + std::to_string(++g_vfs_counter);
  impl->name = out->name_;

  sqlite3_vfs& v = impl->vfs;
  v.iVersion = 2;
  v.szOsFile = static_cast<int>(sizeof(CipherFile)) + base->szOsFile;
  v.mxPathname = base->mxPathname;
  v.zName = out->name_.c_str();
  v.pAppData = impl;
  v.xOpen = VxOpen;
  v.xDelete = VxDelete;
  v.xAccess = VxAccess;
  v.xFullPathname = VxFullPathname;
  v.xRandomness = VxRandomness;
  v.xSleep = VxSleep;
  v.xCurrentTime = VxCurrentTime;
  v.xGetLastError = VxGetLastError;
  v.xCurrentTimeInt64 = VxCurrentTimeInt64;
  int rc = sqlite3_vfs_register(&v, /*makeDflt=*/0);
  if (rc != SQLITE_OK) {
    return Internal("cipher vfs: sqlite3_vfs_register failed: " + std::string(sqlite3_errstr(rc)));
  }
  return out;
}

CipherVfs::~CipherVfs() {
  if (impl_) sqlite3_vfs_unregister(&impl_->vfs);
}

std::string CipherVfs::last_error() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->last_error;
}

void CipherVfs::clear_last_error() { impl_->SetError(""); }

}  // namespace cairn::storage
