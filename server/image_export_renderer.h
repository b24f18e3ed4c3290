// image-export on libvips: the full-resolution renders of a thumbnail composition
// (sync/PROTOCOL.md, "The image-export payload"), and the JobRenderer that runs them for the
// render workers, reading the source from and writing the renditions to a BlobStore.
//
//   Status s = Libvips::Init(/*threads=*/2);      // once per process, before any render
//   ImageExportRenderer renderer(blobs);           // a JobRenderer (server/render_workers.h)
//   ...
//   Libvips::Shutdown();                           // at exit, after the workers stopped
//
// The render (RenderImageExport): load from memory (JPEG, PNG, WebP, TIFF only; libvips'
// other loaders are blocked; the header's pixel count is checked against kMaxSourcePixels
// before a pixel is decoded; decode errors and truncation fail, never a partial image), turn
// upright (EXIF orientation), 8-bit sRGB (through the embedded ICC profile if any; CMYK without
// one through libvips' default CMYK profile), alpha flattened onto white, the payload's crop,
// then per size: the largest window of its aspect inside the crop, centred on the focus point
// as far as it fits, Lanczos3 to exactly the size, a mild sharpen, and JPEG (progressive,
// optimised) or WebP with nothing but the provenance XMP as metadata.
// Errors: kInvalidArgument for the source's fault (the job fails bad_image), kCancelled when
// `cancel` was set, anything else is the renderer's fault (render_failed).
// Threading: any number of renders at once, from any threads, after Libvips::Init.
#ifndef CAIRN_SERVER_IMAGE_EXPORT_RENDERER_H_
#define CAIRN_SERVER_IMAGE_EXPORT_RENDERER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "server/image_export_payload.h"
#include "server/render_workers.h"
#include "sync/blob_store.h"

namespace cairn::server {

inline constexpr int64_t kMaxSourcePixels = 100'000'000;  // 100 megapixels
inline constexpr char kBlobMissing[] = "blob_missing";
inline constexpr char kBadImage[] = "bad_image";
inline constexpr char kImageRendererName[] = "cairn-server image-export/1";
inline constexpr char kProvenanceXmpNamespace[] = "urn:cairn:provenance:1";

class Libvips {
 public:
  // VIPS_INIT, then: `threads` worker threads per render (vips_concurrency_set), no operation
  // cache (every job is a different image), untrusted loaders blocked. Idempotent.
  static Status Init(int threads);
  static void Shutdown();
  static std::string Version();  // "8.16.1"
};

// What goes into every rendition's XMP and the result's provenance.
struct ExportProvenance {
  std::string job_id;
  std::string source;  // the source's hash
  std::string preset;  // the job's preset
  std::string tier = "cloud";
  int64_t rendered_at_ms = 0;
};

struct Rendition {
  std::string name;  // "1080x1350"
  int width = 0, height = 0;
  ExportFormat format = ExportFormat::kJpeg;
  bool upscaled = false;  // the window was smaller than the size
  std::string bytes;
};

struct ImageExportOutput {
  int source_width = 0, source_height = 0;  // upright
  std::vector<Rendition> renditions;        // in the payload's order
};

Result<ImageExportOutput> RenderImageExport(std::string_view source_bytes,
                                            const ImageExportPayload& payload,
                                            const ExportProvenance& provenance,
                                            const std::atomic<bool>* cancel);

// The XMP packet carrying `provenance` for rendition `name`.
std::string ProvenanceXmp(const ExportProvenance& provenance, std::string_view name);

class ImageExportRenderer final : public JobRenderer {
 public:
  // blobs: not owned, thread-safe. clock: rendered_at; nullptr: the system's.
  explicit ImageExportRenderer(sync::BlobStore& blobs, const Clock* clock = nullptr)
      : blobs_(blobs), clock_(clock != nullptr ? clock : &SystemClock::Default()) {}
  RenderOutput Render(const sync::Lease& lease, const std::atomic<bool>& cancel) override;

 private:
  sync::BlobStore& blobs_;
  const Clock* clock_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_IMAGE_EXPORT_RENDERER_H_
