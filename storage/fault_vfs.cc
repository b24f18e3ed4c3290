#include "storage/fault_vfs.h"

#include <atomic>
#include <cstring>

namespace cairn::storage {
namespace {

struct MemFile {
  sqlite3_file header;
  FaultVfs* disk;
  std::string* path;  // owned; the key of the file in disk->files_
  bool delete_on_close;
};

FaultVfs* DiskOf(sqlite3_vfs* v) { return static_cast<FaultVfs*>(v->pAppData); }
MemFile* FileOf(sqlite3_file* f) { return reinterpret_cast<MemFile*>(f); }

int MxClose(sqlite3_file* file) {
  MemFile* f = FileOf(file);
  if (f->delete_on_close) {
    std::lock_guard<std::mutex> lock(f->disk->mu_);
    f->disk->files_.erase(*f->path);
  }
  delete f->path;
  f->path = nullptr;
  return SQLITE_OK;
}

int MxRead(sqlite3_file* file, void* buf, int amt, sqlite3_int64 off) {
  MemFile* f = FileOf(file);
  std::lock_guard<std::mutex> lock(f->disk->mu_);
  auto it = f->disk->files_.find(*f->path);
  const Bytes empty;
  const Bytes& data = it == f->disk->files_.end() ? empty : it->second.current;
  int64_t have = static_cast<int64_t>(data.size()) - off;
  if (have < 0) have = 0;
  const int64_t n = have < amt ? have : amt;
  if (n > 0) std::memcpy(buf, data.data() + off, static_cast<size_t>(n));
  if (n < amt) {
    std::memset(static_cast<uint8_t*>(buf) + n, 0, static_cast<size_t>(amt - n));
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int MxWrite(sqlite3_file* file, const void* buf, int amt, sqlite3_int64 off) {
  MemFile* f = FileOf(file);
  int rc = f->disk->Operation(nullptr);
  if (rc != SQLITE_OK) return rc;
  std::lock_guard<std::mutex> lock(f->disk->mu_);
  FaultVfs::File& file_state = f->disk->files_[*f->path];
  const int64_t end = off + amt;
  if (end > static_cast<int64_t>(file_state.current.size())) {
    const int64_t grow = end - static_cast<int64_t>(file_state.current.size());
    if (f->disk->capacity_ >= 0 && f->disk->TotalBytesLocked() + grow > f->disk->capacity_) {
      return SQLITE_FULL;
    }
    file_state.current.resize(static_cast<size_t>(end));
  }
  std::memcpy(file_state.current.data() + off, buf, static_cast<size_t>(amt));
  return SQLITE_OK;
}

int MxTruncate(sqlite3_file* file, sqlite3_int64 size) {
  MemFile* f = FileOf(file);
  int rc = f->disk->Operation(nullptr);
  if (rc != SQLITE_OK) return rc;
  std::lock_guard<std::mutex> lock(f->disk->mu_);
  FaultVfs::File& file_state = f->disk->files_[*f->path];
  if (static_cast<int64_t>(file_state.current.size()) > size) {
    file_state.current.resize(static_cast<size_t>(size));
  }
  return SQLITE_OK;
}

int MxSync(sqlite3_file* file, int) {
  MemFile* f = FileOf(file);
  int rc = f->disk->Operation(nullptr);
  if (rc != SQLITE_OK) return rc;
  std::lock_guard<std::mutex> lock(f->disk->mu_);
  FaultVfs::File& file_state = f->disk->files_[*f->path];
  file_state.durable = file_state.current;
  file_state.ever_synced = true;
  return SQLITE_OK;
}

int MxFileSize(sqlite3_file* file, sqlite3_int64* size) {
  MemFile* f = FileOf(file);
  std::lock_guard<std::mutex> lock(f->disk->mu_);
  auto it = f->disk->files_.find(*f->path);
  *size = it == f->disk->files_.end() ? 0 : static_cast<sqlite3_int64>(it->second.current.size());
  return SQLITE_OK;
}

int MxLock(sqlite3_file*, int) { return SQLITE_OK; }
int MxUnlock(sqlite3_file*, int) { return SQLITE_OK; }
int MxCheckReservedLock(sqlite3_file*, int* out) {
  *out = 0;
  return SQLITE_OK;
}
int MxFileControl(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
int MxSectorSize(sqlite3_file*) { return 4096; }
int MxDeviceCharacteristics(sqlite3_file*) { return SQLITE_IOCAP_POWERSAFE_OVERWRITE; }

const sqlite3_io_methods kMethods = {1,          MxClose,       MxRead,       MxWrite,
                                     MxTruncate, MxSync,        MxFileSize,   MxLock,
                                     MxUnlock,   MxCheckReservedLock,         MxFileControl,
                                     MxSectorSize, MxDeviceCharacteristics,
                                     nullptr,    nullptr,       nullptr,      nullptr,
                                     nullptr,    nullptr};

int VxOpen(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out) {
  FaultVfs* disk = DiskOf(vfs);
  MemFile* f = FileOf(file);
  f->header.pMethods = nullptr;
  static std::atomic<int> anon{0};
  std::string path = name ? name : "/temp-" + std::to_string(++anon);
  {
    std::lock_guard<std::mutex> lock(disk->mu_);
    bool exists = disk->files_.count(path) > 0;
    if (!exists && !(flags & SQLITE_OPEN_CREATE)) return SQLITE_CANTOPEN;
    if (exists && (flags & SQLITE_OPEN_EXCLUSIVE)) return SQLITE_CANTOPEN;
    disk->files_[path];
  }
  f->disk = disk;
  f->path = new std::string(path);
  f->delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0;
  f->header.pMethods = &kMethods;
  if (out) *out = flags;
  return SQLITE_OK;
}

int VxDelete(sqlite3_vfs* vfs, const char* name, int) {
  FaultVfs* disk = DiskOf(vfs);
  int rc = disk->Operation(nullptr);
  if (rc != SQLITE_OK) return SQLITE_IOERR_DELETE;
  std::lock_guard<std::mutex> lock(disk->mu_);
  // Deletion is durable at once (a simplification: unlink + directory sync).
  return disk->files_.erase(name) > 0 ? SQLITE_OK : SQLITE_IOERR_DELETE_NOENT;
}

int VxAccess(sqlite3_vfs* vfs, const char* name, int, int* out) {
  FaultVfs* disk = DiskOf(vfs);
  std::lock_guard<std::mutex> lock(disk->mu_);
  *out = disk->files_.count(name) > 0 ? 1 : 0;
  return SQLITE_OK;
}

int VxFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  sqlite3_snprintf(n, out, "%s", name);
  return SQLITE_OK;
}

sqlite3_vfs* Host() { return sqlite3_vfs_find(nullptr); }
int VxRandomness(sqlite3_vfs*, int n, char* out) { return Host()->xRandomness(Host(), n, out); }
int VxSleep(sqlite3_vfs*, int us) { return us; }
int VxCurrentTime(sqlite3_vfs*, double* t) { return Host()->xCurrentTime(Host(), t); }
int VxGetLastError(sqlite3_vfs*, int, char*) { return 0; }

std::atomic<int> g_counter{0};

}  // namespace

Result<std::unique_ptr<FaultVfs>> FaultVfs::Register() {
  std::unique_ptr<FaultVfs> d(new FaultVfs());
  d->name_ = "cairn-fault-" + std::to_string(++g_counter);
  sqlite3_vfs& v = d->vfs_;
  v.iVersion = 1;
  v.szOsFile = sizeof(MemFile);
  v.mxPathname = 512;
  v.zName = d->name_.c_str();
  v.pAppData = d.get();
  v.xOpen = VxOpen;
  v.xDelete = VxDelete;
  v.xAccess = VxAccess;
  v.xFullPathname = VxFullPathname;
  v.xRandomness = VxRandomness;
  v.xSleep = VxSleep;
  v.xCurrentTime = VxCurrentTime;
  v.xGetLastError = VxGetLastError;
  if (sqlite3_vfs_register(&v, 0) != SQLITE_OK) return Internal("fault vfs: register failed");
  return d;
}

FaultVfs::~FaultVfs() { sqlite3_vfs_unregister(&vfs_); }

int FaultVfs::Operation(int64_t* op_out) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t op = ++ops_;
  if (op_out) *op_out = op;
  if (fail_at_ > 0 && (op == fail_at_ || (fail_after_ && op > fail_at_))) return fail_rc_;
  return SQLITE_OK;
}

int64_t FaultVfs::operations() const { return ops_; }

void FaultVfs::FailAt(int64_t op, int rc, bool and_after) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = op;
  fail_rc_ = rc;
  fail_after_ = and_after;
}

void FaultVfs::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = 0;
  capacity_ = -1;
}

void FaultVfs::SetCapacity(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  capacity_ = bytes;
}

int64_t FaultVfs::TotalBytesLocked() const {
  int64_t total = 0;
  for (const auto& [name, f] : files_) total += static_cast<int64_t>(f.current.size());
  return total;
}

void FaultVfs::Crash() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = files_.begin(); it != files_.end();) {
    if (!it->second.ever_synced) {
      it = files_.erase(it);
    } else {
      it->second.current = it->second.durable;
      ++it;
    }
  }
}

std::vector<std::string> FaultVfs::Files() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : files_) out.push_back(name);
  return out;
}

void FaultVfs::CopyFilesFrom(const FaultVfs& other) {
  std::scoped_lock lock(mu_);
  files_ = other.files_;
}

Bytes* FaultVfs::MutableFile(const std::string& path) {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second.current;
}

}  // namespace cairn::storage
