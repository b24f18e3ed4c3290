#include "server/image_export_renderer.h"

#include <vips/vips.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "server/caption_hq_payload.h"
#include "server/caption_hq_renderer.h"
#include "sync/api_gateway.h"
#include "sync/job.h"

namespace cairn::server {
namespace {

struct Unref {
  void operator()(VipsImage* image) const {
    if (image != nullptr) g_object_unref(image);
  }
};
using Image = std::unique_ptr<VipsImage, Unref>;

// libvips' error buffer is process-wide: take (and clear) it at once, on one line.
std::string VipsError() {
  char* copied = vips_error_buffer_copy();
  std::string text = copied != nullptr ? copied : "";
  g_free(copied);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::replace(text.begin(), text.end(), '\n', ';');
  if (text.size() > 400) text = text.substr(0, 400) + "...";
  return text.empty() ? "libvips gave no reason" : text;
}

// Runs one libvips operation `op(&out)`; on failure a Status of `code` saying `what` and why.
template <typename F>
Result<Image> Op(StatusCode code, const char* what, F op) {
  VipsImage* out = nullptr;
  if (op(&out) != 0) {
    if (out != nullptr) g_object_unref(out);
    return Status(code, std::string(what) + ": " + VipsError());
  }
  return Image(out);
}

constexpr StatusCode kSourceFault = StatusCode::kInvalidArgument;  // -> bad_image
constexpr StatusCode kOurFault = StatusCode::kInternal;            // -> render_failed

bool AllowedLoader(const char* name) {
  if (name == nullptr) return false;
  const std::string_view n(name);
  for (const char* ok : {"Jpeg", "Png", "Webp", "Tiff"}) {
    if (n.find(ok) != std::string_view::npos) return true;
  }
  return false;
}

std::string XmlEscaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string IsoTime(int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];  // room for any int the compiler imagines; the time takes 24
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

// The source decoded, upright, 8-bit sRGB, 3 bands, opaque.
Result<Image> LoadUprightSrgb(std::string_view bytes) {
  if (!sync::LooksLikeImage(bytes) ||
      !AllowedLoader(vips_foreign_find_load_buffer(bytes.data(), bytes.size()))) {
    vips_error_clear();
    return Status(kSourceFault, "the source is not a JPEG, PNG, WebP or TIFF image");
  }
  CAIRN_ASSIGN_OR_RETURN(Image header, Op(kSourceFault, "the source cannot be read", [&](VipsImage** out) {
    *out = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", "access",
                                      VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR,
                                      nullptr);
    return *out == nullptr ? -1 : 0;
  }));
  // From the header alone: a decompression bomb is refused before a pixel is decoded.
  const int64_t w = vips_image_get_width(header.get()), h = vips_image_get_height(header.get());
  if (w * h > kMaxSourcePixels) {
    return Status(kSourceFault, "the source is " + std::to_string(w) + "x" + std::to_string(h) +
                                    " pixels (" + std::to_string(w * h / 1'000'000) +
                                    " megapixels); the limit is " +
                                    std::to_string(kMaxSourcePixels / 1'000'000) +
                                    " megapixels: export a smaller copy");
  }
  // Decoded once, in order, into memory: every size is cut from this copy.
  CAIRN_ASSIGN_OR_RETURN(Image decoded, Op(kSourceFault, "the source cannot be decoded", [&](VipsImage** out) {
    *out = vips_image_copy_memory(header.get());
    return *out == nullptr ? -1 : 0;
  }));
  CAIRN_ASSIGN_OR_RETURN(Image upright, Op(kOurFault, "autorotate", [&](VipsImage** out) {
    return vips_autorot(decoded.get(), out, nullptr);
  }));
  Image srgb;
  if (vips_image_get_typeof(upright.get(), VIPS_META_ICC_NAME) != 0) {
    Result<Image> through_profile = Op(kSourceFault, "icc", [&](VipsImage** out) {
      return vips_icc_transform(upright.get(), out, "srgb", "embedded", TRUE, "intent",
                                VIPS_INTENT_PERCEPTUAL, "depth", 8, nullptr);
    });
    if (through_profile.ok()) srgb = std::move(*through_profile);
    // A damaged profile: the pixels are still usable, as the interpretation says.
  }
  if (!srgb) {
    CAIRN_ASSIGN_OR_RETURN(srgb, Op(kSourceFault, "the source's colours cannot be converted to sRGB",
                                    [&](VipsImage** out) {
                                      return vips_colourspace(upright.get(), out,
                                                              VIPS_INTERPRETATION_sRGB, nullptr);
                                    }));
  }
  Image opaque = std::move(srgb);
  if (vips_image_hasalpha(opaque.get())) {
    VipsArrayDouble* white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
    Result<Image> flat = Op(kOurFault, "flatten", [&](VipsImage** out) {
      return vips_flatten(opaque.get(), out, "background", white, nullptr);
    });
    vips_area_unref(VIPS_AREA(white));
    CAIRN_ASSIGN_OR_RETURN(opaque, std::move(flat));
  }
  if (vips_image_get_format(opaque.get()) != VIPS_FORMAT_UCHAR) {
    CAIRN_ASSIGN_OR_RETURN(opaque, Op(kOurFault, "8-bit", [&](VipsImage** out) {
      return vips_cast_uchar(opaque.get(), out, nullptr);
    }));
  }
  if (vips_image_get_bands(opaque.get()) != 3) {
    return Status(kSourceFault, "the source has " + std::to_string(vips_image_get_bands(opaque.get())) +
                                    " colour bands after conversion to sRGB; expected 3");
  }
  return opaque;
}

struct Window {
  int left = 0, top = 0, width = 0, height = 0;
};

int Clamp(double v, int lo, int hi) {
  return std::clamp(static_cast<int>(std::lround(v)), lo, std::max(lo, hi));
}

// The largest window of the size's aspect inside `crop`, centred on the focus as far as it fits.
Window CoverWindow(const Window& crop, const PlatformSize& size, double fx, double fy) {
  const double aspect = static_cast<double>(size.width) / size.height;
  Window w;
  if (static_cast<double>(crop.width) / crop.height > aspect) {
    w.height = crop.height;
    w.width = Clamp(crop.height * aspect, 1, crop.width);
  } else {
    w.width = crop.width;
    w.height = Clamp(crop.width / aspect, 1, crop.height);
  }
  w.left = crop.left + Clamp(fx * crop.width - w.width / 2.0, 0, crop.width - w.width);
  w.top = crop.top + Clamp(fy * crop.height - w.height / 2.0, 0, crop.height - w.height);
  return w;
}

Result<Rendition> RenderOne(VipsImage* upright, const Window& crop, const PlatformSize& size,
                            const ImageExportPayload& p, const ExportProvenance& provenance) {
  const Window win = CoverWindow(crop, size, p.focus_x, p.focus_y);
  CAIRN_ASSIGN_OR_RETURN(Image cut, Op(kOurFault, "crop", [&](VipsImage** out) {
    return vips_extract_area(upright, out, win.left, win.top, win.width, win.height, nullptr);
  }));
  const double hscale = static_cast<double>(size.width) / win.width;
  const double vscale = static_cast<double>(size.height) / win.height;
  CAIRN_ASSIGN_OR_RETURN(Image resized, Op(kOurFault, "resize", [&](VipsImage** out) {
    return vips_resize(cut.get(), out, hscale, "vscale", vscale, "kernel", VIPS_KERNEL_LANCZOS3,
                       nullptr);
  }));
  // Rounding may leave the result a pixel off: cut or extend to exactly the size.
  if (vips_image_get_width(resized.get()) != size.width ||
      vips_image_get_height(resized.get()) != size.height) {
    CAIRN_ASSIGN_OR_RETURN(resized, Op(kOurFault, "exact size", [&](VipsImage** out) {
      return vips_embed(resized.get(), out, 0, 0, size.width, size.height, "extend",
                        VIPS_EXTEND_COPY, nullptr);
    }));
  }
  // Mild: libvips' default radius, a third less strength than its default for dark edges.
  CAIRN_ASSIGN_OR_RETURN(Image sharp, Op(kOurFault, "sharpen", [&](VipsImage** out) {
    return vips_sharpen(resized.get(), out, "sigma", 0.5, "m2", 2.0, nullptr);
  }));
  if (vips_image_guess_interpretation(sharp.get()) != VIPS_INTERPRETATION_sRGB ||
      vips_image_get_format(sharp.get()) != VIPS_FORMAT_UCHAR) {
    CAIRN_ASSIGN_OR_RETURN(sharp, Op(kOurFault, "sRGB", [&](VipsImage** out) {
      VipsImage* t = nullptr;
      if (vips_colourspace(sharp.get(), &t, VIPS_INTERPRETATION_sRGB, nullptr) != 0) return -1;
      const int rc = vips_cast_uchar(t, out, nullptr);
      g_object_unref(t);
      return rc;
    }));
  }
  CAIRN_ASSIGN_OR_RETURN(Image tagged, Op(kOurFault, "metadata", [&](VipsImage** out) {
    return vips_copy(sharp.get(), out, nullptr);
  }));
  const std::string xmp = ProvenanceXmp(provenance, size.name);
  vips_image_set_blob_copy(tagged.get(), VIPS_META_XMP_NAME, xmp.data(), xmp.size());

  void* buf = nullptr;
  size_t len = 0;
  int rc;
  if (p.format == ExportFormat::kJpeg) {
    rc = vips_jpegsave_buffer(tagged.get(), &buf, &len, "Q", p.quality, "interlace", TRUE,
                              "optimize_coding", TRUE, "keep", VIPS_FOREIGN_KEEP_XMP, nullptr);
  } else {
    rc = vips_webpsave_buffer(tagged.get(), &buf, &len, "Q", p.quality, "effort", 4, "keep",
                              VIPS_FOREIGN_KEEP_XMP, nullptr);
  }
  if (rc != 0) {
    g_free(buf);
    return Status(kOurFault, std::string("encode ") + FormatName(p.format) + ": " + VipsError());
  }
  Rendition r;
  r.name = size.name;
  r.width = size.width;
  r.height = size.height;
  r.format = p.format;
  r.upscaled = win.width < size.width || win.height < size.height;
  r.bytes.assign(static_cast<const char*>(buf), len);
  g_free(buf);
  return r;
}

}  // namespace

namespace {
std::atomic<bool> g_libvips_ready{false};  // between Libvips::Init and Shutdown
}  // namespace

Status Libvips::Init(int threads) {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [&] {
    ok = VIPS_INIT("cairn-server") == 0;
    if (!ok) return;
    g_libvips_ready = true;
    vips_concurrency_set(std::max(1, threads));
    vips_cache_set_max(0);
    vips_block_untrusted_set(TRUE);
  });
  if (!ok) return Internal("libvips did not initialise: " + VipsError());
  return Status::Ok();
}

void Libvips::Shutdown() {
  g_libvips_ready = false;
  vips_shutdown();
}

std::string Libvips::Version() { return vips_version_string(); }

std::string ProvenanceXmp(const ExportProvenance& p, std::string_view name) {
  auto attr = [](const char* key, std::string_view value) {
    return std::string(" cairn:") + key + "=\"" + XmlEscaped(value) + "\"";
  };
  return std::string("<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n") +
         "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "
         "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description "
         "rdf:about=\"\" xmlns:cairn=\"" + kProvenanceXmpNamespace + "\"" +
         attr("job", p.job_id) + attr("source", p.source) + attr("renderer", kImageRendererName) +
         attr("libvips", Libvips::Version()) + attr("preset", p.preset) + attr("tier", p.tier) +
         attr("rendition", name) + attr("renderedAt", IsoTime(p.rendered_at_ms)) +
         "/></rdf:RDF></x:xmpmeta>\n<?xpacket end=\"r\"?>";
}

Result<ImageExportOutput> RenderImageExport(std::string_view source_bytes,
                                            const ImageExportPayload& payload,
                                            const ExportProvenance& provenance,
                                            const std::atomic<bool>* cancel) {
  if (!g_libvips_ready) return FailedPrecondition("libvips is not initialised: Libvips::Init first");
  CAIRN_ASSIGN_OR_RETURN(Image upright, LoadUprightSrgb(source_bytes));
  ImageExportOutput out;
  out.source_width = vips_image_get_width(upright.get());
  out.source_height = vips_image_get_height(upright.get());
  const int W = out.source_width, H = out.source_height;
  Window crop;
  crop.left = Clamp(payload.crop.x * W, 0, W - 1);
  crop.top = Clamp(payload.crop.y * H, 0, H - 1);
  crop.width = Clamp(payload.crop.w * W, 1, W - crop.left);
  crop.height = Clamp(payload.crop.h * H, 1, H - crop.top);
  for (const PlatformSize& size : payload.sizes) {
    if (cancel != nullptr && cancel->load()) return Cancelled("the render was cancelled");
    CAIRN_ASSIGN_OR_RETURN(Rendition r, RenderOne(upright.get(), crop, size, payload, provenance));
    out.renditions.push_back(std::move(r));
  }
  return out;
}

RenderOutput ImageExportRenderer::Render(const sync::Lease& lease,
                                         const std::atomic<bool>& cancel) {
  if (lease.kind != sync::JobKind::kImageExport) {
    return RenderOutput::Error(kUnsupportedKind, std::string("the image renderer does not render ") +
                                                     sync::JobKindName(lease.kind) + " jobs");
  }
  Result<ImageExportPayload> payload = ParseImageExportPayload(lease.payload_json);
  if (!payload.ok()) return RenderOutput::Error(kBadPayload, payload.status().message());
  Result<std::optional<std::string>> source = blobs_.Get(lease.device_id, payload->source);
  if (!source.ok()) {
    return RenderOutput::Error(kRenderFailed, "the source image could not be read on the "
                                              "server; try again later");
  }
  if (!source->has_value()) {
    return RenderOutput::Error(kBlobMissing,
                               "this device has no uploaded image " + payload->source +
                                   "; upload it (PUT /v1/blobs/" + payload->source +
                                   "), then submit the export again");
  }
  ExportProvenance provenance{lease.job_id, payload->source, sync::PresetName(lease.preset),
                              "cloud", clock_->NowUnixMillis()};
  const int64_t start = clock_->MonotonicNanos();
  Result<ImageExportOutput> out = RenderImageExport(**source, *payload, provenance, &cancel);
  if (!out.ok()) {
    if (out.status().code() == kSourceFault) {
      return RenderOutput::Error(kBadImage, out.status().message());
    }
    return RenderOutput::Error(kRenderFailed,
                               "the image could not be rendered: " + out.status().message());
  }
  const int64_t render_ms = (clock_->MonotonicNanos() - start) / 1'000'000;
  nlohmann::json renditions = nlohmann::json::array();
  for (const Rendition& r : out->renditions) {
    const std::string hash = sync::BlobHashOf(r.bytes);
    Result<bool> stored = blobs_.Put(lease.device_id, hash, r.bytes);
    if (!stored.ok()) {
      return RenderOutput::Error(kRenderFailed, "the rendition " + r.name +
                                                    " could not be stored on the server; try "
                                                    "again later");
    }
    renditions.push_back({{"name", r.name},
                          {"width", r.width},
                          {"height", r.height},
                          {"format", FormatName(r.format)},
                          {"content_type", ContentType(r.format)},
                          {"bytes", r.bytes.size()},
                          {"blake2b", hash},
                          {"upscaled", r.upscaled}});
  }
  nlohmann::json result = {
      {"renditions", std::move(renditions)},
      {"source",
       {{"blake2b", payload->source}, {"width", out->source_width}, {"height", out->source_height}}},
      {"provenance",
       {{"renderer", kImageRendererName},
        {"libvips", Libvips::Version()},
        {"tier", provenance.tier},
        {"preset", provenance.preset},
        {"rendered_at", provenance.rendered_at_ms}}},
      {"stats", {{"render_ms", render_ms}}}};
  return {result.dump(), "", ""};
}

}  // namespace cairn::server
