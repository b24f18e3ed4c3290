// In the browser the vault lives in OPFS: HostFsVfs (storage/host_fs_vfs.h) over the JS half,
// an object the worker passes to the module factory as `cairnHostFs` (pwa/src/worker/
// opfs_pool.ts; tests/api/node_host_fs.mjs under Node). Its methods are synchronous:
//
//   open(path: string, create: boolean): number      handle > 0, or an error code < 0
//   read(h, offset: number, into: Uint8Array): number  bytes read (short at the end), or < 0
//   write(h, offset: number, from: Uint8Array): number 0 or < 0
//   truncate(h, size): number; size(h): number (bytes, or < 0); flush(h): number; close(h): number
//   remove(path): number (0 also when absent); exists(path): number (1, 0, or < 0)
//   lastError(): string                               what the last failure was, for messages
//
// Error codes: -1 I/O error, -2 not found, -3 storage full or over quota.
#include <emscripten.h>

#include <cstdlib>
#include <map>

#include "api/api_internal.h"
#include "storage/host_fs_vfs.h"

namespace cairn::api {
namespace {

// Offsets and sizes cross as doubles: exact to 2^53, far beyond any vault file.
EM_JS(int, cairn_js_open, (const char* path, int create),
      { return Module.cairnHostFs.open(UTF8ToString(path), !!create); });
EM_JS(double, cairn_js_read, (int h, double offset, uint8_t* p, size_t n),
      { return Module.cairnHostFs.read(h, offset, HEAPU8.subarray(p, p + n)); });
EM_JS(int, cairn_js_write, (int h, double offset, const uint8_t* p, size_t n),
      { return Module.cairnHostFs.write(h, offset, HEAPU8.subarray(p, p + n)); });
EM_JS(int, cairn_js_truncate, (int h, double size), { return Module.cairnHostFs.truncate(h, size); });
EM_JS(double, cairn_js_size, (int h), { return Module.cairnHostFs.size(h); });
EM_JS(int, cairn_js_flush, (int h), { return Module.cairnHostFs.flush(h); });
EM_JS(int, cairn_js_close, (int h), { return Module.cairnHostFs.close(h); });
EM_JS(int, cairn_js_remove, (const char* path),
      { return Module.cairnHostFs.remove(UTF8ToString(path)); });
EM_JS(int, cairn_js_exists, (const char* path),
      { return Module.cairnHostFs.exists(UTF8ToString(path)); });
EM_JS(char*, cairn_js_last_error, (), {
  const fs = Module.cairnHostFs;
  return stringToNewUTF8(fs && fs.lastError ? String(fs.lastError()) : "");
});
EM_JS(int, cairn_js_has_host, (), { return Module.cairnHostFs ? 1 : 0; });

Status JsError(double rc, const std::string& what) {
  char* detail = cairn_js_last_error();
  std::string message = what + (detail && *detail ? ": " + std::string(detail) : "");
  std::free(detail);
  const StatusCode code = rc == -2   ? StatusCode::kNotFound
                          : rc == -3 ? StatusCode::kResourceExhausted
                                     : StatusCode::kIoError;
  return Status(code, message);
}

class WebHostFileSystem final : public storage::HostFileSystem {
 public:
  Result<int> Open(const std::string& path, bool create) override {
    const int h = cairn_js_open(path.c_str(), create ? 1 : 0);
    if (h <= 0) return JsError(h, "could not open " + path);
    paths_[h] = path;
    return h;
  }
  Result<size_t> Read(int h, int64_t offset, MutableByteView out) override {
    const double n = cairn_js_read(h, static_cast<double>(offset), out.data(), out.size());
    if (n < 0) return JsError(n, "could not read " + paths_[h]);
    return static_cast<size_t>(n);
  }
  Status Write(int h, int64_t offset, ByteView data) override {
    const int rc = cairn_js_write(h, static_cast<double>(offset), data.data(), data.size());
    return rc < 0 ? JsError(rc, "could not write " + paths_[h]) : Status::Ok();
  }
  Status Truncate(int h, int64_t size) override {
    const int rc = cairn_js_truncate(h, static_cast<double>(size));
    return rc < 0 ? JsError(rc, "could not truncate " + paths_[h]) : Status::Ok();
  }
  Result<int64_t> Size(int h) override {
    const double n = cairn_js_size(h);
    if (n < 0) return JsError(n, "could not size " + paths_[h]);
    return static_cast<int64_t>(n);
  }
  Status Flush(int h) override {
    const int rc = cairn_js_flush(h);
    return rc < 0 ? JsError(rc, "could not flush " + paths_[h]) : Status::Ok();
  }
  Status Close(int h) override {
    const int rc = cairn_js_close(h);
    const std::string path = paths_[h];
    paths_.erase(h);
    return rc < 0 ? JsError(rc, "could not close " + path) : Status::Ok();
  }
  Status Delete(const std::string& path) override {
    const int rc = cairn_js_remove(path.c_str());
    return rc < 0 ? JsError(rc, "could not delete " + path) : Status::Ok();
  }
  Result<bool> Exists(const std::string& path) override {
    const int rc = cairn_js_exists(path.c_str());
    if (rc < 0) return JsError(rc, "could not look for " + path);
    return rc == 1;
  }

 private:
  std::map<int, std::string> paths_;
};

}  // namespace

Result<HostVfs> GetHostVfs() {
  static WebHostFileSystem* fs = nullptr;
  static std::unique_ptr<storage::HostFsVfs> vfs;
  if (!vfs) {
    if (!cairn_js_has_host()) {
      return Status(StatusCode::kFailedPrecondition,
                    "no host file system: pass cairnHostFs to the module factory");
    }
    fs = new WebHostFileSystem();  // lives as long as the module
    CAIRN_ASSIGN_OR_RETURN(vfs, storage::HostFsVfs::Register(fs, "cairn-host"));
  }
  return HostVfs{vfs->vfs(), /*exclusive=*/true};
}

Status PrepareVaultDir(const std::string&) { return Status::Ok(); }

}  // namespace cairn::api
