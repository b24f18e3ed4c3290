// What the device's sync engine needs to know about image-export jobs (sync/PROTOCOL.md, "The
// image-export payload" and its result): the source blob a payload names, the renditions a
// result lists, the key of a resubmission, and the limits of resubmitting.
//
//   std::optional<std::string> src = SourceOf(R"({"source":"5be1...","sizes":["1080x1080"]})");
//   Result<ImageExportResult> r = ParseImageExportResult(result_json);
//   // r->renditions[0].name "1080x1080", .blake2b "9c0f...", .content_type "image/jpeg"
//
// The result comes from the server, so it is parsed as untrusted: a rendition's name becomes
// part of a request path and must be 1..32 of [A-Za-z0-9_-], its hash 64 lowercase hex digits,
// its content type image/*. Fields the device does not use are ignored (a v1 server may add
// some).
#ifndef CAIRN_SYNC_IMAGE_EXPORT_H_
#define CAIRN_SYNC_IMAGE_EXPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace cairn::sync {

// The job failure code that means "the server has no blob with the payload's source hash".
inline constexpr char kBlobMissingCode[] = "blob_missing";
// How many times an image export is submitted again (re-uploading its source first) after a
// blob_missing, before it fails for good.
inline constexpr int64_t kMaxResubmits = 2;
// A rendition whose bytes do not hash to the result's blake2b is fetched again, at most this
// many times in all, before the job fails.
inline constexpr int64_t kMaxRenditionMismatches = 3;

struct RenditionInfo {
  std::string name;          // e.g. "1080x1350": also the last segment of its URL
  std::string content_type;  // image/jpeg | image/webp
  std::string blake2b;       // BLAKE2b-256 hex of the bytes, checked before they are stored
  int64_t width = 0, height = 0, bytes = 0;
  friend bool operator==(const RenditionInfo&, const RenditionInfo&) = default;
};

struct ImageExportResult {
  std::vector<RenditionInfo> renditions;  // in the order asked for; may be empty
  std::string source;                     // the source's blake2b, as the server read it
  std::string renderer;                   // provenance: "cairn-server image-export/1"
  std::string libvips;                    // its libvips version
  std::string tier = "cloud";
  std::string preset;
  int64_t rendered_at_ms = 0;
};

// The hash of the source blob an image-export payload names ("source"), if it is a blob hash;
// nullopt for a payload without one (the server then fails the job with bad_payload).
std::optional<std::string> SourceOf(std::string_view payload_json);

// kInvalidArgument naming the field for a result this device cannot use.
Result<ImageExportResult> ParseImageExportResult(std::string_view result_json);

// The idempotency key a submission carries on the wire: the outbox's key, with "-r<n>" after
// the n-th resubmission (each resubmission is a new job on the server).
std::string WireKey(std::string_view key, int64_t resubmits);

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_IMAGE_EXPORT_H_
