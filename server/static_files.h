// Static files for cairn-server: the PWA's build (--app DIR) at /, and model packs (--models DIR)
// at /models/<id>/<file>, with GET /models/index.json listing every pack (each subdirectory's
// manifest.json, parsed, and its files' sizes).
//
//   MountStaticFiles(http, {.app_dir = "build/pwa", .models_dir = "build/models"});
//
// Contract:
// - Only regular files under the given directories are served. A path with an empty, "." or ".."
//   segment, a backslash, a NUL, or a segment starting with "." (dotfiles) is refused with 404,
//   and so is any path whose real location (after symlinks) leaves the directory.
// - Content-Type comes from the extension (ContentTypeFor); unknown ones are
//   application/octet-stream. Every response says X-Content-Type-Options: nosniff.
// - Cache-Control (CacheControlFor): long-lived and immutable only for content-hashed names
//   (IsContentHashedName: "<stem>.<16 lowercase hex>.<ext>", what pwa/build.mjs writes);
//   everything else, sw.js, index.html and the manifest included, is "no-cache": the browser
//   revalidates with the ETag (size and modification time) and gets 304 when unchanged.
// - Range requests (resumable model downloads) are answered with 206 by cpp-httplib.
// - Cross-origin isolation headers are set on every response of the server by
//   SetIsolationHeaders (COOP same-origin, COEP require-corp, CORP same-origin), so
//   crossOriginIsolated is true in the app and ONNX Runtime Web may use threads.
// Threading: the handlers only read the file system; they run on cpp-httplib's pool.
#ifndef CAIRN_SERVER_STATIC_FILES_H_
#define CAIRN_SERVER_STATIC_FILES_H_

#include <optional>
#include <string>
#include <string_view>

namespace httplib {
class Server;
}

namespace cairn::server {

struct StaticOptions {
  std::string app_dir;     // empty: no app at /
  std::string models_dir;  // empty: no /models/
};

// Registers the GET (and HEAD) handlers. Call after the API's routes: "/" catches everything else.
void MountStaticFiles(httplib::Server& http, const StaticOptions& options);

// The headers every response of the server carries (cross-origin isolation, nosniff).
void SetIsolationHeaders(httplib::Server& http);

// The MIME type for a file name, by its extension.
std::string_view ContentTypeFor(std::string_view name);

// "<stem>.<16 lowercase hex digits>.<ext>": the build's content-hashed names.
bool IsContentHashedName(std::string_view name);

// The Cache-Control value for a file name (its last path segment decides).
std::string_view CacheControlFor(std::string_view name);

// The URL path's segments joined with "/" if every one is safe to map onto a directory (see the
// contract above); nullopt otherwise. "" for the root.
std::optional<std::string> SafeRelativePath(std::string_view url_path);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_STATIC_FILES_H_
