#include "sync/image_export.h"

#include <nlohmann/json.hpp>

#include "sync/blob_store.h"

namespace cairn::sync {
namespace {

using nlohmann::json;

bool IsRenditionName(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Str(const json& o, const char* name) {
  auto it = o.find(name);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& o, const char* name) {
  auto it = o.find(name);
  return it != o.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

std::optional<std::string> SourceOf(std::string_view payload_json) {
  const json j = json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const std::string source = Str(j, "source");
  if (!IsBlobHash(source)) return std::nullopt;
  return source;
}

Result<ImageExportResult> ParseImageExportResult(std::string_view result_json) {
  const json j = json::parse(result_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgument("an image-export result must be a JSON object");
  auto list = j.find("renditions");
  if (list == j.end() || !list->is_array()) {
    return InvalidArgument("an image-export result needs a 'renditions' array");
  }
  ImageExportResult r;
  for (const json& x : *list) {
    const std::string at = "image-export result: rendition " + std::to_string(r.renditions.size());
    if (!x.is_object()) return InvalidArgument(at + " is not an object");
    RenditionInfo info;
    info.name = Str(x, "name");
    info.content_type = Str(x, "content_type");
    info.blake2b = Str(x, "blake2b");
    info.width = Int(x, "width");
    info.height = Int(x, "height");
    info.bytes = Int(x, "bytes");
    if (!IsRenditionName(info.name)) {
      return InvalidArgument(at + ": 'name' must be 1..32 of A-Z a-z 0-9 _ -");
    }
    if (!IsBlobHash(info.blake2b)) {
      return InvalidArgument(at + " (" + info.name +
                             "): 'blake2b' must be 64 lowercase hex digits");
    }
    if (info.content_type.rfind("image/", 0) != 0) {
      return InvalidArgument(at + " (" + info.name + "): 'content_type' must be image/*");
    }
    for (const RenditionInfo& seen : r.renditions) {
      if (seen.name == info.name) return InvalidArgument(at + ": '" + info.name + "' is repeated");
    }
    r.renditions.push_back(std::move(info));
  }
  if (auto s = j.find("source"); s != j.end() && s->is_object()) r.source = Str(*s, "blake2b");
  if (auto p = j.find("provenance"); p != j.end() && p->is_object()) {
    r.renderer = Str(*p, "renderer");
    r.libvips = Str(*p, "libvips");
    if (std::string tier = Str(*p, "tier"); !tier.empty()) r.tier = tier;
    r.preset = Str(*p, "preset");
    r.rendered_at_ms = Int(*p, "rendered_at");
  }
  return r;
}

std::string WireKey(std::string_view key, int64_t resubmits) {
  std::string k(key);
  if (resubmits > 0) k += "-r" + std::to_string(resubmits);
  return k;
}

}  // namespace cairn::sync
