// The image-export payload parser (server/image_export_payload.h): the render worker parses a
// device's payload from the job queue, so every byte of it is the device's. The input is the
// payload's JSON text as stored.
//
// Oracles:
//  - an accepted payload keeps the documented rules (a 64-hex source; 1..3 distinct platform
//    sizes; quality 50..100; a crop inside the image, at least 1% wide and high; a focus point
//    inside it) and, written back as JSON, parses to the same payload;
//  - a refusal is kInvalidArgument with a short message that is valid UTF-8 (it becomes the job's
//    error, stored in SQLite or PostgreSQL and sent to the device as JSON) and names the payload.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/base/utf8.h"
#include "server/image_export_payload.h"
#include "sync/blob_store.h"
#include "tests/fuzz/fuzz_util.h"

namespace cairn::server {
namespace {

using nlohmann::json;

bool ValidUtf8(std::string_view s) { return Utf8Prefix(s, s.size()).size() == s.size(); }

json ToJson(const ImageExportPayload& p) {
  json sizes = json::array();
  for (const PlatformSize& s : p.sizes) sizes.push_back(s.name);
  return {{"source", p.source},
          {"sizes", sizes},
          {"format", FormatName(p.format)},
          {"quality", p.quality},
          {"crop", {{"x", p.crop.x}, {"y", p.crop.y}, {"w", p.crop.w}, {"h", p.crop.h}}},
          {"focus", {{"x", p.focus_x}, {"y", p.focus_y}}}};
}

bool Same(const ImageExportPayload& a, const ImageExportPayload& b) {
  if (a.sizes.size() != b.sizes.size()) return false;
  for (size_t i = 0; i < a.sizes.size(); ++i) {
    if (std::string_view(a.sizes[i].name) != b.sizes[i].name) return false;
  }
  return a.source == b.source && a.format == b.format && a.quality == b.quality &&
         a.crop.x == b.crop.x && a.crop.y == b.crop.y && a.crop.w == b.crop.w &&
         a.crop.h == b.crop.h && a.focus_x == b.focus_x && a.focus_y == b.focus_y;
}

void CheckAccepted(const ImageExportPayload& p, const std::string& input) {
  CAIRN_FUZZ_CHECK(sync::IsBlobHash(p.source), input);
  CAIRN_FUZZ_CHECK(!p.sizes.empty() && p.sizes.size() <= std::size(kPlatformSizes), input);
  for (size_t i = 0; i < p.sizes.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      CAIRN_FUZZ_CHECK(std::string_view(p.sizes[i].name) != p.sizes[j].name, input);
    }
  }
  CAIRN_FUZZ_CHECK(p.quality >= 50 && p.quality <= 100, input);
  const Fraction& c = p.crop;
  CAIRN_FUZZ_CHECK(c.x >= 0 && c.y >= 0 && c.w >= kMinCropFraction && c.h >= kMinCropFraction,
                   input);
  CAIRN_FUZZ_CHECK(c.x + c.w <= 1 + 1e-9 && c.y + c.h <= 1 + 1e-9, input);
  CAIRN_FUZZ_CHECK(p.focus_x >= 0 && p.focus_x <= 1 && p.focus_y >= 0 && p.focus_y <= 1, input);
  const std::string again = ToJson(p).dump();
  Result<ImageExportPayload> back = ParseImageExportPayload(again);
  CAIRN_FUZZ_CHECK(back.ok(), back.status().ToString() + "\n  written back: " + again);
  CAIRN_FUZZ_CHECK(Same(p, *back), again);
}

}  // namespace
}  // namespace cairn::server

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::server;
  const std::string input(reinterpret_cast<const char*>(data), size);
  cairn::Result<ImageExportPayload> p = ParseImageExportPayload(input);
  if (p.ok()) {
    CheckAccepted(*p, input);
    return 0;
  }
  const std::string& m = p.status().message();
  CAIRN_FUZZ_CHECK(p.status().code() == cairn::StatusCode::kInvalidArgument, m);
  CAIRN_FUZZ_CHECK(m.starts_with("image-export payload: "), m);
  CAIRN_FUZZ_CHECK(ValidUtf8(m), "invalid UTF-8 in the message: " + m);
  CAIRN_FUZZ_CHECK(m.size() <= 400, "a message of " + std::to_string(m.size()) + " bytes");
  return 0;
}
