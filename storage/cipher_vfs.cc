#include "storage/cipher_vfs.h"

#include <atomic>
#include <cstring>
#include <new>
#include <string>

#include "core/crypto/aead.h"
#include "core/crypto/random.h"

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
  Role role;
  const char* path;
  uint8_t* scratch;  // one page, for encrypting writes and decrypting partial reads
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

// Rollback journals hold page images at offsets 4 (mod 8) (after each record's 4-byte page
// number; headers sit on sector boundaries), always read and written whole.
bool IsJournalPage(int amt, int64_t off) { return amt == kPageSize && off % 8 == 4; }

void AssociatedData(const Impl* vfs, Role role, uint64_t index, uint8_t out[25]) {
  std::memcpy(out, vfs->vault_id, kVaultIdBytes);
  out[16] = static_cast<uint8_t>(role);
  for (int i = 0; i < 8; ++i) out[17 + i] = static_cast<uint8_t>(index >> (8 * i));
}

std::string Where(const CipherFile* f, uint64_t index) {
  std::string s = f->path ? f->path : "(unnamed)";
  s += " (";
  s += RoleName(f->role);
  s += ") ";
  s += f->role == Role::kDatabase ? "page " : f->role == Role::kWal ? "frame " : "offset ";
  s += std::to_string(f->role == Role::kDatabase ? index + 1 : index);
  return s;
}

// Encrypts the page at `data` into f->scratch and writes it at `off`.
int WriteUnit(CipherFile* f, const void* data, uint64_t index, int64_t off) {
  uint8_t* page = f->scratch;
  std::memcpy(page, data, kCipherBytes);
  MutableByteView all(page, kPageSize);
  MutableByteView nonce = all.subspan(kCipherBytes, kAeadNonceBytes);
  crypto::RandomFill(nonce);
  uint8_t ad[25];
  AssociatedData(f->vfs, f->role, index, ad);
  Status s = crypto::AeadEncryptDetached(f->vfs->key.view(), nonce, ByteView(ad, sizeof ad),
                                         all.first(kCipherBytes), all.first(kCipherBytes),
                                         all.last(kAeadTagBytes));
  if (!s.ok()) {
    f->vfs->SetError(Where(f, index) + ": " + s.message());
    return SQLITE_IOERR_WRITE;
  }
  return f->real->pMethods->xWrite(f->real, page, kPageSize, off);
}

// Reads and decrypts the unit at `off` into `page` (kPageSize bytes). SQLITE_OK,
// SQLITE_IOERR_SHORT_READ (the unit is not, or not wholly, in the file: zeros), or
// SQLITE_IOERR_DATA (it failed to authenticate). The reserve bytes come back zeroed.
int ReadUnit(CipherFile* f, uint8_t* page, uint64_t index, int64_t off) {
  int rc = f->real->pMethods->xRead(f->real, page, kPageSize, off);
  if (rc == SQLITE_IOERR_SHORT_READ) {
    std::memset(page, 0, kPageSize);
    return rc;
  }
  if (rc != SQLITE_OK) return rc;
  uint8_t nonce[kAeadNonceBytes];
  uint8_t tag[kAeadTagBytes];
  std::memcpy(nonce, page + kCipherBytes, sizeof nonce);
  std::memcpy(tag, page + kCipherBytes + kAeadNonceBytes, sizeof tag);
  uint8_t ad[25];
  AssociatedData(f->vfs, f->role, index, ad);
  MutableByteView body(page, kCipherBytes);
  Status s = crypto::AeadDecryptDetached(f->vfs->key.view(), nonce, ByteView(ad, sizeof ad), body,
                                         tag, body);
  std::memset(page + kCipherBytes, 0, kPageReserve);
  if (!s.ok()) {
    f->vfs->SetError(Where(f, index) + ": authentication failed (the file was modified or "
                                       "damaged, or belongs to another vault)");
    std::memset(page, 0, kPageSize);
    // A torn journal record or WAL frame after a crash reads as zeros, which SQLite's own
    // checksums then reject, as they would a torn plaintext frame; the database file itself
    // has no such recovery, so there it is an error.
    return f->role == Role::kDatabase ? SQLITE_IOERR_DATA : SQLITE_OK;
  }
  return SQLITE_OK;
}

int CxClose(sqlite3_file* file) {
  CipherFile* f = FileOf(file);
  int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  delete[] f->scratch;
  f->scratch = nullptr;
  return rc;
}

int CxRead(sqlite3_file* file, void* buf, int amt, sqlite3_int64 off) {
  CipherFile* f = FileOf(file);
  uint8_t* out = static_cast<uint8_t*>(buf);
  if (f->role == Role::kJournal) {
    if (!IsJournalPage(amt, off)) return f->real->pMethods->xRead(f->real, buf, amt, off);
    return ReadUnit(f, out, static_cast<uint64_t>(off), off);
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
      rc = f->real->pMethods->xRead(f->real, out + (pos - off), static_cast<int>(next - pos), pos);
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
    if (!IsJournalPage(amt, off)) return f->real->pMethods->xWrite(f->real, buf, amt, off);
    return WriteUnit(f, buf, static_cast<uint64_t>(off), off);
  }
  Location loc = Locate(f->role, off);
  if (loc.in_unit) {
    if (loc.unit_start == off && amt == kPageSize) return WriteUnit(f, buf, loc.unit_index, off);
  } else if (off + amt <= loc.plain_end) {
    return f->real->pMethods->xWrite(f->real, buf, amt, off);
  }
  // Never write part of a page in plaintext; SQLite does not do this with 4096-byte pages.
  f->vfs->SetError(std::string(f->path ? f->path : "?") + ": refused a write of " +
                   std::to_string(amt) + " bytes at offset " + std::to_string(off) +
                   " that is not a whole page");
  return SQLITE_IOERR_WRITE;
}

int CxTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return FileOf(f)->real->pMethods->xTruncate(FileOf(f)->real, size);
}
int CxSync(sqlite3_file* f, int flags) {
  return FileOf(f)->real->pMethods->xSync(FileOf(f)->real, flags);
}
int CxFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return FileOf(f)->real->pMethods->xFileSize(FileOf(f)->real, size);
}
int CxLock(sqlite3_file* f, int level) {
  return FileOf(f)->real->pMethods->xLock(FileOf(f)->real, level);
}
int CxUnlock(sqlite3_file* f, int level) {
  return FileOf(f)->real->pMethods->xUnlock(FileOf(f)->real, level);
}
int CxCheckReservedLock(sqlite3_file* f, int* out) {
  return FileOf(f)->real->pMethods->xCheckReservedLock(FileOf(f)->real, out);
}
int CxFileControl(sqlite3_file* file, int op, void* arg) {
  CipherFile* f = FileOf(file);
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
  sqlite3_file* r = FileOf(f)->real;
  return r->pMethods->xShmLock(r, offset, n, flags);
}
void CxShmBarrier(sqlite3_file* f) {
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
  f->scratch = new (std::nothrow) uint8_t[kPageSize];
  if (f->scratch == nullptr) {
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
