// The payload of an image-export job (sync/PROTOCOL.md, "The image-export payload"): which
// uploaded image to render, to which platform sizes, in which format, and the composition (the
// part of the image the creator framed, and the point to keep in view).
//
//   {"source": "<64 hex>",                  // required: a blob of this job's device
//    "sizes": ["1080x1080", "1080x1350"],   // optional: a subset of kPlatformSizes, no repeats
//    "format": "jpeg", "quality": 90,       // optional: jpeg|webp, 50..100 (90 jpeg, 85 webp)
//    "crop": {"x": 0, "y": 0.1, "w": 1, "h": 0.8},   // optional: fractions of the upright image
//    "focus": {"x": 0.5, "y": 0.4}}         // optional: fractions of the crop (default centre)
//
//   Result<ImageExportPayload> p = ParseImageExportPayload(lease.payload_json);
//   // p.status().message(): "image-export payload: field 'quality' must be a whole number from
//   //                        50 to 100, not 101"
//
// Parsed strictly, like every request of the protocol: an unknown field, a wrong type or a value
// out of range is kInvalidArgument naming the field; the job then fails with bad_payload. Pure:
// no I/O, any thread.
#ifndef CAIRN_SERVER_IMAGE_EXPORT_PAYLOAD_H_
#define CAIRN_SERVER_IMAGE_EXPORT_PAYLOAD_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace cairn::server {

struct PlatformSize {
  const char* name;  // the rendition's name: "1080x1350"
  int width;
  int height;
};
// Feed square, feed portrait (4:5), story / reel (9:16).
inline constexpr PlatformSize kPlatformSizes[] = {
    {"1080x1080", 1080, 1080}, {"1080x1350", 1080, 1350}, {"1080x1920", 1080, 1920}};

enum class ExportFormat { kJpeg, kWebp };

// A rectangle or point in fractions of the image (0..1).
struct Fraction {
  double x = 0, y = 0, w = 1, h = 1;
};

struct ImageExportPayload {
  std::string source;               // 64 lowercase hex digits
  std::vector<PlatformSize> sizes;  // in the order asked for
  ExportFormat format = ExportFormat::kJpeg;
  int quality = 90;
  Fraction crop;                    // x, y, w, h
  double focus_x = 0.5, focus_y = 0.5;
};

inline constexpr double kMinCropFraction = 0.01;

Result<ImageExportPayload> ParseImageExportPayload(std::string_view payload_json);

const char* FormatName(ExportFormat format);   // "jpeg", "webp"
const char* ContentType(ExportFormat format);  // "image/jpeg", "image/webp"

}  // namespace cairn::server

#endif  // CAIRN_SERVER_IMAGE_EXPORT_PAYLOAD_H_
