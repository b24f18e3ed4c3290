#include "storage/vfs_file.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace cairn::storage {

void VfsFile::Closer::operator()(sqlite3_file* f) const {
  if (f == nullptr) return;
  if (f->pMethods != nullptr) f->pMethods->xClose(f);
  std::free(f);
}

VfsFile::VfsFile(VfsFile&&) noexcept = default;
VfsFile& VfsFile::operator=(VfsFile&&) noexcept = default;
VfsFile::~VfsFile() = default;

Status VfsFile::Error(const char* op, int rc) const {
  std::string msg = *path_ + ": " + op + " failed: " + sqlite3_errstr(rc);
  if ((rc & 0xff) == SQLITE_FULL) return ResourceExhausted(msg + " (the disk is full)");
  return IoError(msg);
}

Result<VfsFile> VfsFile::Open(sqlite3_vfs* vfs, const std::string& path, Mode mode) {
  VfsFile f;
  f.path_ = std::make_unique<std::string>(path);
  auto* raw = static_cast<sqlite3_file*>(std::calloc(1, static_cast<size_t>(vfs->szOsFile)));
  if (raw == nullptr) return ResourceExhausted(path + ": out of memory opening the file");
  f.file_.reset(raw);
  // The journal type: the POSIX VFS syncs the directory after creating one, so a new file's
  // name is durable once the file has been synced.
  int flags = SQLITE_OPEN_MAIN_JOURNAL;
  flags |= mode == Mode::kRead ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (mode == Mode::kCreate) flags |= SQLITE_OPEN_CREATE;
  int out_flags = 0;
  int rc = vfs->xOpen(vfs, f.path_->c_str(), raw, flags, &out_flags);
  if (rc != SQLITE_OK) {
    if (mode != Mode::kCreate) {
      Result<bool> exists = VfsExists(vfs, path);
      if (exists.ok() && !*exists) return NotFound(path + ": no such file");
    }
    return f.Error("open", rc);
  }
  return f;
}

Result<size_t> VfsFile::Read(int64_t offset, MutableByteView out) {
  if (out.empty()) return size_t{0};
  CAIRN_ASSIGN_OR_RETURN(int64_t size, Size());
  if (offset >= size) return size_t{0};
  const size_t n = static_cast<size_t>(std::min<int64_t>(size - offset, out.size()));
  for (size_t done = 0; done < n;) {
    const size_t piece = std::min(n - done, kMaxIoBytes);
    int rc = file_->pMethods->xRead(file_.get(), out.data() + done, static_cast<int>(piece),
                                    offset + static_cast<int64_t>(done));
    if (rc != SQLITE_OK) return Error("read", rc);
    done += piece;
  }
  return n;
}

Status VfsFile::Write(int64_t offset, ByteView data) {
  for (size_t done = 0; done < data.size();) {
    const size_t piece = std::min(data.size() - done, kMaxIoBytes);
    int rc = file_->pMethods->xWrite(file_.get(), data.data() + done, static_cast<int>(piece),
                                     offset + static_cast<int64_t>(done));
    if (rc != SQLITE_OK) return Error("write", rc);
    done += piece;
  }
  return Status::Ok();
}

Status VfsFile::Sync() {
  int rc = file_->pMethods->xSync(file_.get(), SQLITE_SYNC_FULL);
  return rc == SQLITE_OK ? Status::Ok() : Error("sync", rc);
}

Status VfsFile::Truncate(int64_t size) {
  int rc = file_->pMethods->xTruncate(file_.get(), size);
  return rc == SQLITE_OK ? Status::Ok() : Error("truncate", rc);
}

Result<int64_t> VfsFile::Size() {
  sqlite3_int64 size = 0;
  int rc = file_->pMethods->xFileSize(file_.get(), &size);
  if (rc != SQLITE_OK) return Error("size", rc);
  return static_cast<int64_t>(size);
}

Result<bool> VfsExists(sqlite3_vfs* vfs, const std::string& path) {
  int out = 0;
  int rc = vfs->xAccess(vfs, path.c_str(), SQLITE_ACCESS_EXISTS, &out);
  if (rc != SQLITE_OK) return IoError(path + ": cannot check whether it exists");
  return out != 0;
}

Status VfsDelete(sqlite3_vfs* vfs, const std::string& path) {
  int rc = vfs->xDelete(vfs, path.c_str(), /*syncDir=*/1);
  if (rc == SQLITE_OK || rc == SQLITE_IOERR_DELETE_NOENT) return Status::Ok();
  return IoError(path + ": delete failed: " + sqlite3_errstr(rc));
}

}  // namespace cairn::storage
