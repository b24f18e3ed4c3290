#include "server/image_export_payload.h"

#include <nlohmann/json.hpp>

#include "core/base/utf8.h"
#include "sync/blob_store.h"

namespace cairn::server {
namespace {

using nlohmann::json;

constexpr char kFields[] = "source, sizes, format, quality, crop, focus";
constexpr int kMinQuality = 50, kMaxQuality = 100;

Status Bad(const std::string& message) {
  return Status(StatusCode::kInvalidArgument, "image-export payload: " + message);
}

// At most `max_bytes` of `text` for a message, cut on a character boundary: the message becomes
// the failed job's error, stored (PostgreSQL refuses invalid UTF-8 in a text column, so half a
// character there would fail the job's every attempt) and sent to the device as JSON.
std::string Excerpt(std::string_view text, size_t max_bytes) {
  const std::string_view kept = Utf8Prefix(text, max_bytes);
  return kept.size() == text.size() ? std::string(text) : std::string(kept) + "...";
}

// A value the device sent, as JSON, shortened for a message.
std::string Quoted(const json& v) {
  return Excerpt(v.dump(-1, ' ', false, json::error_handler_t::replace), 40);
}
// A field name the device sent (any length, any characters), shortened for a message.
std::string Name(const std::string& key) { return Excerpt(key, 64); }

// A number in [lo, hi] (JSON integers count: 0 and 1 are fractions too).
Result<double> Number(const json& v, const std::string& key, double lo, double hi) {
  const std::string range = "a number from " + std::to_string(lo).substr(0, 4) + " to " +
                            std::to_string(hi).substr(0, 4);
  if (!v.is_number()) return Bad("field '" + key + "' must be " + range);
  const double d = v.get<double>();
  if (!(d >= lo && d <= hi)) return Bad("field '" + key + "' must be " + range + ", not " + v.dump());
  return d;
}

// An object with exactly the fields `names` (all required), each a fraction.
Result<std::vector<double>> Fractions(const json& v, const std::string& key,
                                      std::initializer_list<const char*> names) {
  std::string list;
  for (const char* n : names) list += std::string(list.empty() ? "" : ", ") + n;
  if (!v.is_object()) return Bad("field '" + key + "' must be an object with " + list);
  for (auto it = v.begin(); it != v.end(); ++it) {
    bool known = false;
    for (const char* n : names) known = known || it.key() == n;
    if (!known) {
      return Bad("'" + key + "." + Name(it.key()) + "' is not a field (" + key + " has " + list +
                 ")");
    }
  }
  std::vector<double> out;
  for (const char* n : names) {
    auto it = v.find(n);
    if (it == v.end()) return Bad("field '" + key + "." + n + "' is missing");
    CAIRN_ASSIGN_OR_RETURN(double d, Number(*it, key + "." + n, 0, 1));
    out.push_back(d);
  }
  return out;
}

}  // namespace

const char* FormatName(ExportFormat f) { return f == ExportFormat::kWebp ? "webp" : "jpeg"; }
const char* ContentType(ExportFormat f) {
  return f == ExportFormat::kWebp ? "image/webp" : "image/jpeg";
}

Result<ImageExportPayload> ParseImageExportPayload(std::string_view payload_json) {
  json j = json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("not valid JSON");
  if (!j.is_object()) return Bad("not a JSON object");
  ImageExportPayload out;
  bool has_source = false, has_quality = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = *it;
    if (k == "source") {
      if (!v.is_string() || !sync::IsBlobHash(v.get<std::string>())) {
        return Bad("field 'source' must be the 64 lowercase hex digits of an uploaded blob's "
                   "BLAKE2b-256");
      }
      out.source = v.get<std::string>();
      has_source = true;
    } else if (k == "sizes") {
      if (!v.is_array() || v.empty()) {
        return Bad("field 'sizes' must be a non-empty array of 1080x1080, 1080x1350, 1080x1920");
      }
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string at = "sizes[" + std::to_string(i) + "]";
        const PlatformSize* found = nullptr;
        if (v[i].is_string()) {
          for (const PlatformSize& p : kPlatformSizes) {
            if (v[i].get<std::string>() == p.name) found = &p;
          }
        }
        if (found == nullptr) {
          return Bad("field '" + at + "' must be 1080x1080, 1080x1350 or 1080x1920, not " +
                     Quoted(v[i]));
        }
        for (const PlatformSize& seen : out.sizes) {
          if (std::string_view(seen.name) == found->name) {
            return Bad("field '" + at + "' repeats " + found->name);
          }
        }
        out.sizes.push_back(*found);
      }
    } else if (k == "format") {
      if (v == "jpeg") {
        out.format = ExportFormat::kJpeg;
      } else if (v == "webp") {
        out.format = ExportFormat::kWebp;
      } else {
        return Bad("field 'format' must be \"jpeg\" or \"webp\", not " + Quoted(v));
      }
    } else if (k == "quality") {
      const std::string range = " a whole number from " + std::to_string(kMinQuality) + " to " +
                                std::to_string(kMaxQuality);
      if (!v.is_number_integer()) return Bad("field 'quality' must be" + range);
      const bool in = v.is_number_unsigned() ? v.get<uint64_t>() <= kMaxQuality
                                             : v.get<int64_t>() <= kMaxQuality;
      if (!in || v.get<int64_t>() < kMinQuality) {
        return Bad("field 'quality' must be" + range + ", not " + v.dump());
      }
      out.quality = static_cast<int>(v.get<int64_t>());
      has_quality = true;
    } else if (k == "crop") {
      CAIRN_ASSIGN_OR_RETURN(std::vector<double> c, Fractions(v, k, {"x", "y", "w", "h"}));
      out.crop = {c[0], c[1], c[2], c[3]};
      if (c[2] < kMinCropFraction || c[3] < kMinCropFraction) {
        return Bad("field 'crop' must be at least 0.01 wide and high");
      }
      // A small tolerance: fractions computed on a device (0.1 + 0.9) may pass 1 by a rounding.
      if (c[0] + c[2] > 1 + 1e-9 || c[1] + c[3] > 1 + 1e-9) {
        return Bad("field 'crop' leaves the image (x + w and y + h must be at most 1)");
      }
    } else if (k == "focus") {
      CAIRN_ASSIGN_OR_RETURN(std::vector<double> f, Fractions(v, k, {"x", "y"}));
      out.focus_x = f[0];
      out.focus_y = f[1];
    } else {
      return Bad("'" + Name(k) + "' is not a field of an image-export payload (its fields: " +
                 kFields + ")");
    }
  }
  if (!has_source) return Bad("the field 'source' is missing (the hash of the uploaded image)");
  if (out.sizes.empty()) out.sizes.assign(std::begin(kPlatformSizes), std::end(kPlatformSizes));
  if (!has_quality) out.quality = out.format == ExportFormat::kWebp ? 85 : 90;
  return out;
}

}  // namespace cairn::server
