#include "server/static_files.h"

#include <catch_amalgamated.hpp>

namespace cairn::server {
namespace {

TEST_CASE("SafeRelativePath keeps plain paths and refuses every way out", "[server]") {
  CHECK(SafeRelativePath("/") == std::string());
  CHECK(SafeRelativePath("/index.html") == "index.html");
  CHECK(SafeRelativePath("/ort/ort-wasm-simd-threaded.wasm") == "ort/ort-wasm-simd-threaded.wasm");
  CHECK_FALSE(SafeRelativePath(""));
  CHECK_FALSE(SafeRelativePath("index.html"));         // not absolute
  CHECK_FALSE(SafeRelativePath("/../etc/passwd"));
  CHECK_FALSE(SafeRelativePath("/a/../../b"));
  CHECK_FALSE(SafeRelativePath("/a/./b"));
  CHECK_FALSE(SafeRelativePath("/a//b"));
  CHECK_FALSE(SafeRelativePath("/a/"));                 // directories are not listed
  CHECK_FALSE(SafeRelativePath("/.git/config"));        // dotfiles
  CHECK_FALSE(SafeRelativePath("/a\\..\\b"));
  CHECK_FALSE(SafeRelativePath(std::string_view("/a\0b", 4)));
}

TEST_CASE("ContentTypeFor maps the app's and the packs' extensions", "[server]") {
  CHECK(ContentTypeFor("cairn_web.mjs") == "text/javascript; charset=utf-8");
  CHECK(ContentTypeFor("a/main.0123456789abcdef.js") == "text/javascript; charset=utf-8");
  CHECK(ContentTypeFor("cairn_web.wasm") == "application/wasm");
  CHECK(ContentTypeFor("app.webmanifest") == "application/manifest+json");
  CHECK(ContentTypeFor("manifest.json") == "application/json");
  CHECK(ContentTypeFor("icon-192.png") == "image/png");
  CHECK(ContentTypeFor("model.onnx") == "application/octet-stream");
  CHECK(ContentTypeFor("README") == "application/octet-stream");
  CHECK(ContentTypeFor("dir.js/file") == "application/octet-stream");
}

TEST_CASE("only content-hashed names are cached for long", "[server]") {
  CHECK(IsContentHashedName("main.0123456789abcdef.js"));
  CHECK(IsContentHashedName("assets/styles.fedcba9876543210.css"));
  CHECK_FALSE(IsContentHashedName("main.0123456789ABCDEF.js"));   // not what the build writes
  CHECK_FALSE(IsContentHashedName("main.0123456789abcde.js"));    // 15 digits
  CHECK_FALSE(IsContentHashedName(".0123456789abcdef.js"));       // no stem
  CHECK_FALSE(IsContentHashedName("main.0123456789abcdef."));     // no extension
  CHECK_FALSE(IsContentHashedName("ort-wasm-simd-threaded.jsep.wasm"));
  CHECK(CacheControlFor("main.0123456789abcdef.js") == "public, max-age=31536000, immutable");
  CHECK(CacheControlFor("sw.js") == "no-cache");
  CHECK(CacheControlFor("index.html") == "no-cache");
  CHECK(CacheControlFor("app.webmanifest") == "no-cache");
}

}  // namespace
}  // namespace cairn::server
