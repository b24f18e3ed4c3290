#include "server/static_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace cairn::server {

namespace {
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
    "connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; font-src 'self'; "
    "manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types default";
}  // namespace

namespace {

constexpr char kNoCache[] = "no-cache";
constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr char kNotFound[] = "not found\n";

std::string_view Extension(std::string_view name) {
  const size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The canonical absolute path of `path`, or "" if it does not exist.
std::string RealPath(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
  return real ? std::string(real.get()) : std::string();
}

bool IsUnder(const std::string& real, const std::string& real_root) {
  return real == real_root ||
         (real.size() > real_root.size() && real.compare(0, real_root.size(), real_root) == 0 &&
          real[real_root.size()] == '/');
}

void NotFound(httplib::Response& res) {
  res.status = 404;
  res.set_header("Cache-Control", kNoCache);
  res.set_content(kNotFound, "text/plain");  // a body: the server's JSON 404 leaves it alone
}

// Sends the regular file at root/relative (relative already checked by SafeRelativePath), with
// its type, caching headers and ETag; 404 if it is missing, not a regular file, or escapes root
// through a symlink.
void SendFile(const std::string& root, const std::string& relative, const httplib::Request& req,
              httplib::Response& res) {
  const std::string real_root = RealPath(root);
  const std::string real = RealPath(root + "/" + relative);
  if (real_root.empty() || real.empty() || !IsUnder(real, real_root)) return NotFound(res);
  const int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0) return NotFound(res);
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return NotFound(res);
  }
  char etag[64];
  std::snprintf(etag, sizeof(etag), "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
                    static_cast<unsigned long long>(st.st_mtim.tv_nsec));
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", std::string(CacheControlFor(relative)));
  if (req.get_header_value("If-None-Match") == etag) {
    ::close(fd);
    res.status = 304;
    return;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  auto file = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  res.set_content_provider(
      size, std::string(ContentTypeFor(relative)),
      [file](size_t offset, size_t length, httplib::DataSink& sink) {
        char buf[64 * 1024];
        const size_t want = std::min(length, sizeof(buf));
        const ssize_t n = ::pread(*file, buf, want, static_cast<off_t>(offset));
        if (n <= 0) return false;  // the file shrank or failed: cpp-httplib drops the connection
        return sink.write(buf, static_cast<size_t>(n));
      });
}

// Every subdirectory of models_dir with a readable manifest.json, sorted by id.
std::string ModelIndex(const std::string& models_dir) {
  nlohmann::json packs = nlohmann::json::array();
  std::vector<std::string> ids;
  if (DIR* dir = ::opendir(models_dir.c_str())) {
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') ids.emplace_back(e->d_name);
    }
    ::closedir(dir);
  }
  std::sort(ids.begin(), ids.end());
  for (const std::string& id : ids) {
    const std::string pack_dir = models_dir + "/" + id;
    std::FILE* f = std::fopen((pack_dir + "/manifest.json").c_str(), "rb");
    if (f == nullptr) continue;
    nlohmann::json manifest = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
    std::fclose(f);
    if (manifest.is_discarded()) continue;  // a pack being written, or not a pack
    nlohmann::json files = nlohmann::json::array();
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(pack_dir.c_str())) {
      while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') names.emplace_back(e->d_name);
      }
      ::closedir(dir);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      struct stat st {};
      if (::stat((pack_dir + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        files.push_back({{"name", name}, {"size", static_cast<uint64_t>(st.st_size)}});
      }
    }
    packs.push_back({{"id", id}, {"manifest", std::move(manifest)}, {"files", std::move(files)}});
  }
  return nlohmann::json{{"packs", std::move(packs)}}.dump() + "\n";
}

}  // namespace

std::string_view ContentTypeFor(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"wasm", "application/wasm"},
      {"png", "image/png"},
      {"svg", "image/svg+xml"},
      {"ico", "image/x-icon"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"webp", "image/webp"},
      {"txt", "text/plain; charset=utf-8"},
      {"map", "application/json"},
      {"onnx", "application/octet-stream"},
  };
  const std::string_view ext = Extension(name);
  for (const auto& [e, type] : kTypes) {
    if (e == ext) return type;
  }
  return "application/octet-stream";
}

bool IsContentHashedName(std::string_view name) {
  const size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const size_t last = name.rfind('.');
  if (last == std::string_view::npos || last < 18 || last + 1 == name.size()) return false;
  return name[last - 17] == '.' && IsLowerHex(name.substr(last - 16, 16));
}

std::string_view CacheControlFor(std::string_view name) {
  return IsContentHashedName(name) ? kImmutable : kNoCache;
}

std::optional<std::string> SafeRelativePath(std::string_view url_path) {
  if (url_path.empty() || url_path[0] != '/') return std::nullopt;
  url_path.remove_prefix(1);
  if (url_path.empty()) return std::string();
  std::string out;
  while (true) {
    const size_t slash = url_path.find('/');
    const std::string_view segment = url_path.substr(0, slash);
    if (segment.empty() || segment[0] == '.' ||
        segment.find_first_of(std::string_view("\\\0", 2)) != std::string_view::npos) {
      return std::nullopt;  // "", ".", "..", dotfiles, backslashes, NUL
    }
    out.append(segment);
    if (slash == std::string_view::npos) return out;
    out.push_back('/');
    url_path.remove_prefix(slash + 1);
  }
}

void SetIsolationHeaders(httplib::Server& http) {
  http.set_default_headers({{"Cross-Origin-Opener-Policy", "same-origin"},
                            {"Cross-Origin-Embedder-Policy", "require-corp"},
                            {"Cross-Origin-Resource-Policy", "same-origin"},
                            {"X-Content-Type-Options", "nosniff"},
                            // The app runs only its own scripts: no inline script, no eval
                            // beyond compiling WebAssembly, nothing framed, nothing fetched
                            // from elsewhere; model output can never become markup that runs.
                            {"Content-Security-Policy", kContentSecurityPolicy},
                            {"Referrer-Policy", "no-referrer"},
                            {"Permissions-Policy",
                             "camera=(), microphone=(), geolocation=(), payment=(), usb=()"}});
}

void MountStaticFiles(httplib::Server& http, const StaticOptions& options) {
  if (!options.models_dir.empty()) {
    const std::string models = options.models_dir;
    http.Get("/models/index.json", [models](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", kNoCache);
      res.set_content(ModelIndex(models), "application/json");
    });
    http.Get(R"(/models/.*)", [models](const httplib::Request& req, httplib::Response& res) {
      const auto relative = SafeRelativePath(req.path.substr(std::string_view("/models").size()));
      // Exactly <id>/<file>: no deeper paths, no files at the top.
      if (!relative || std::count(relative->begin(), relative->end(), '/') != 1) {
        return NotFound(res);
      }
      SendFile(models, *relative, req, res);
    });
  }
  if (!options.app_dir.empty()) {
    const std::string app = options.app_dir;
    http.Get(R"(/.*)", [app](const httplib::Request& req, httplib::Response& res) {
      auto relative = SafeRelativePath(req.path);
      if (!relative) return NotFound(res);
      if (relative->empty() || relative->back() == '/') relative->append("index.html");
      SendFile(app, *relative, req, res);
    });
  }
}

}  // namespace cairn::server
