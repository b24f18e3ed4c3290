#include "storage/host_fs_vfs.h"

#include <cstring>

namespace cairn::storage {
namespace {

struct HostFile {
  sqlite3_file header;
  HostFileSystem* fs;
  int handle;
  std::string* path;  // owned
  bool delete_on_close;
};

HostFileSystem* FsOf(sqlite3_vfs* v) { return static_cast<HostFsVfs*>(v->pAppData)->fs(); }
HostFile* FileOf(sqlite3_file* f) { return reinterpret_cast<HostFile*>(f); }

int ToSqlite(const Status& s, int io_code) {
  if (s.ok()) return SQLITE_OK;
  return s.code() == StatusCode::kResourceExhausted ? SQLITE_FULL : io_code;
}

int HxClose(sqlite3_file* file) {
  HostFile* f = FileOf(file);
  Status s = f->fs->Close(f->handle);
  if (f->delete_on_close) f->fs->Delete(*f->path).IgnoreError();
  delete f->path;
  f->path = nullptr;
  return ToSqlite(s, SQLITE_IOERR_CLOSE);
}

int HxRead(sqlite3_file* file, void* buf, int amt, sqlite3_int64 off) {
  HostFile* f = FileOf(file);
  Result<size_t> n = f->fs->Read(f->handle, off, MutableByteView(static_cast<uint8_t*>(buf),
                                                                 static_cast<size_t>(amt)));
  if (!n.ok()) return SQLITE_IOERR_READ;
  if (*n < static_cast<size_t>(amt)) {
    std::memset(static_cast<uint8_t*>(buf) + *n, 0, static_cast<size_t>(amt) - *n);
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int HxWrite(sqlite3_file* file, const void* buf, int amt, sqlite3_int64 off) {
  HostFile* f = FileOf(file);
  return ToSqlite(f->fs->Write(f->handle, off, ByteView(static_cast<const uint8_t*>(buf),
                                                        static_cast<size_t>(amt))),
                  SQLITE_IOERR_WRITE);
}

int HxTruncate(sqlite3_file* file, sqlite3_int64 size) {
  HostFile* f = FileOf(file);
  return ToSqlite(f->fs->Truncate(f->handle, size), SQLITE_IOERR_TRUNCATE);
}

int HxSync(sqlite3_file* file, int) {
  HostFile* f = FileOf(file);
  return ToSqlite(f->fs->Flush(f->handle), SQLITE_IOERR_FSYNC);
}

int HxFileSize(sqlite3_file* file, sqlite3_int64* size) {
  HostFile* f = FileOf(file);
  Result<int64_t> n = f->fs->Size(f->handle);
  if (!n.ok()) return SQLITE_IOERR_FSTAT;
  *size = *n;
  return SQLITE_OK;
}

int HxLock(sqlite3_file*, int) { return SQLITE_OK; }  // the host's handle is already exclusive
int HxUnlock(sqlite3_file*, int) { return SQLITE_OK; }
int HxCheckReservedLock(sqlite3_file*, int* out) {
  *out = 0;
  return SQLITE_OK;
}
int HxFileControl(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
int HxSectorSize(sqlite3_file*) { return 4096; }
int HxDeviceCharacteristics(sqlite3_file*) { return SQLITE_IOCAP_POWERSAFE_OVERWRITE; }

const sqlite3_io_methods kMethods = {1,          HxClose,  HxRead,       HxWrite,
                                     HxTruncate, HxSync,   HxFileSize,   HxLock,
                                     HxUnlock,   HxCheckReservedLock,    HxFileControl,
                                     HxSectorSize, HxDeviceCharacteristics,
                                     nullptr,    nullptr,  nullptr,      nullptr,
                                     nullptr,    nullptr};

int VxOpen(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out) {
  HostFile* f = FileOf(file);
  f->header.pMethods = nullptr;
  if (name == nullptr) return SQLITE_CANTOPEN;  // temporary files stay in memory
  HostFileSystem* fs = FsOf(vfs);
  Result<int> h = fs->Open(name, (flags & SQLITE_OPEN_CREATE) != 0);
  if (!h.ok()) return SQLITE_CANTOPEN;
  f->fs = fs;
  f->handle = *h;
  f->path = new std::string(name);
  f->delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0;
  f->header.pMethods = &kMethods;
  if (out) *out = flags;
  return SQLITE_OK;
}

int VxDelete(sqlite3_vfs* vfs, const char* name, int) {
  Status s = FsOf(vfs)->Delete(name);
  return s.ok() ? SQLITE_OK : SQLITE_IOERR_DELETE;
}

int VxAccess(sqlite3_vfs* vfs, const char* name, int, int* out) {
  Result<bool> e = FsOf(vfs)->Exists(name);
  if (!e.ok()) return SQLITE_IOERR_ACCESS;
  *out = *e ? 1 : 0;
  return SQLITE_OK;
}

int VxFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  sqlite3_snprintf(n, out, "%s", name);
  return SQLITE_OK;
}

sqlite3_vfs* Default() { return sqlite3_vfs_find(nullptr); }
int VxRandomness(sqlite3_vfs*, int n, char* out) { return Default()->xRandomness(Default(), n, out); }
int VxSleep(sqlite3_vfs*, int us) { return Default()->xSleep(Default(), us); }
int VxCurrentTime(sqlite3_vfs*, double* t) { return Default()->xCurrentTime(Default(), t); }
int VxGetLastError(sqlite3_vfs*, int, char*) { return 0; }

}  // namespace

Result<std::unique_ptr<HostFsVfs>> HostFsVfs::Register(HostFileSystem* fs, const std::string& name) {
  if (fs == nullptr) return InvalidArgument("host fs vfs: no file system");
  std::unique_ptr<HostFsVfs> v(new HostFsVfs());
  v->fs_ = fs;
  v->name_ = name;
  sqlite3_vfs& s = v->vfs_;
  s.iVersion = 1;
  s.szOsFile = sizeof(HostFile);
  s.mxPathname = 1024;
  s.zName = v->name_.c_str();
  s.pAppData = v.get();
  s.xOpen = VxOpen;
  s.xDelete = VxDelete;
  s.xAccess = VxAccess;
  s.xFullPathname = VxFullPathname;
  s.xRandomness = VxRandomness;
  s.xSleep = VxSleep;
  s.xCurrentTime = VxCurrentTime;
  s.xGetLastError = VxGetLastError;
  if (sqlite3_vfs_register(&s, 0) != SQLITE_OK) return Internal("host fs vfs: register failed");
  return v;
}

HostFsVfs::~HostFsVfs() { sqlite3_vfs_unregister(&vfs_); }

}  // namespace cairn::storage
