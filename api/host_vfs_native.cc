// Natively the vault uses SQLite's default (POSIX) VFS.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "api/api_internal.h"

namespace cairn::api {

Result<HostVfs> GetHostVfs() { return HostVfs{}; }

Status PrepareVaultDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status(StatusCode::kIoError, "could not create " + dir + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace cairn::api
