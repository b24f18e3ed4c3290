// Shared by the C ABI's sources: handles, the last error, and string hand-off.
#ifndef CAIRN_API_API_INTERNAL_H_
#define CAIRN_API_API_INTERNAL_H_

#include <sqlite3.h>

#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/cairn_api.h"
#include "core/base/status.h"
#include "core/engine/caption_engine.h"
#include "core/model/manifest.h"
#include "storage/vault.h"

struct cairn_vault {
  std::unique_ptr<cairn::storage::Vault> vault;
};

struct cairn_pack {
  cairn::model::Manifest manifest;
  std::string manifest_bytes;
  std::string signature_bytes;
};

struct cairn_caption_model {
  std::optional<cairn::engine::CaptionModel> model;
};

namespace cairn::api {

// Records `s` as this thread's last error and returns its code (CAIRN_OK for OK).
int Fail(const Status& s);
int Ok();
// A copy of `text` the caller frees with cairn_free.
char* CopyString(std::string_view text);
// Checks a required pointer argument.
Status Need(const void* p, const char* what);

// The host file system the vault lives on: OPFS through HostFsVfs in the browser (exclusive
// locking), SQLite's default VFS natively. Chosen by CMake (host_vfs_*.cc).
struct HostVfs {
  sqlite3_vfs* vfs = nullptr;  // nullptr: SQLite's default
  bool exclusive = false;
};
Result<HostVfs> GetHostVfs();
// Makes `dir` ready for a new vault (natively: created 0700 if missing; OPFS has no folders).
Status PrepareVaultDir(const std::string& dir);

// Runs `body` and turns its Status into the ABI's int, catching what third-party code throws.
template <typename F>
int Call(F&& body) {
  try {
    return Fail(body());
  } catch (const std::exception& e) {
    return Fail(Status(StatusCode::kInternal, std::string("unexpected exception: ") + e.what()));
  }
}

template <typename F>
int ReturnJson(char** out, F&& make) {
  return Call([&]() -> Status {
    CAIRN_RETURN_IF_ERROR(Need(out, "out"));
    CAIRN_ASSIGN_OR_RETURN(nlohmann::json j, make());
    *out = CopyString(j.dump());
    return *out ? Status::Ok() : Status(StatusCode::kResourceExhausted, "out of memory");
  });
}

}  // namespace cairn::api

#endif  // CAIRN_API_API_INTERNAL_H_
