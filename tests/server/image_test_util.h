// Images made with libvips for the image-export tests: solid and two-colour test cards in any
// format, and reading pixels and metadata back. Every helper REQUIREs success.
#ifndef CAIRN_TESTS_SERVER_IMAGE_TEST_UTIL_H_
#define CAIRN_TESTS_SERVER_IMAGE_TEST_UTIL_H_

#include <vips/vips.h>

#include <catch_amalgamated.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "server/image_export_renderer.h"

namespace cairn::server::testimg {

struct Unref {
  void operator()(VipsImage* image) const {
    if (image != nullptr) g_object_unref(image);
  }
};
using Image = std::unique_ptr<VipsImage, Unref>;

inline void InitOnce() { REQUIRE(Libvips::Init(2).ok()); }

// A w x h image with `bands` uchar bands: `left` for x < split, `right` from there on.
inline Image Card(int w, int h, std::vector<int> left, std::vector<int> right, int split) {
  InitOnce();
  const int bands = static_cast<int>(left.size());
  std::vector<unsigned char> px(static_cast<size_t>(w) * h * bands);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const std::vector<int>& c = x < split ? left : right;
      for (int b = 0; b < bands; ++b) {
        px[(static_cast<size_t>(y) * w + x) * bands + b] = static_cast<unsigned char>(c[b]);
      }
    }
  }
  VipsImage* img = vips_image_new_from_memory_copy(px.data(), px.size(), w, h, bands,
                                                   VIPS_FORMAT_UCHAR);
  REQUIRE(img != nullptr);
  img->Type = bands >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W;
  return Image(img);
}

// `image` encoded by the saver for `suffix` (".jpg[Q=95]", ".png", ".webp", ".tif").
inline std::string Encode(VipsImage* image, const char* suffix) {
  void* buf = nullptr;
  size_t len = 0;
  REQUIRE(vips_image_write_to_buffer(image, suffix, &buf, &len, nullptr) == 0);
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  return out;
}

inline Image Decode(const std::string& bytes) {
  VipsImage* img = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr);
  REQUIRE(img != nullptr);
  VipsImage* mem = vips_image_copy_memory(img);
  g_object_unref(img);
  REQUIRE(mem != nullptr);
  return Image(mem);
}

inline std::array<double, 3> Pixel(VipsImage* image, int x, int y) {
  double* v = nullptr;
  int n = 0;
  REQUIRE(vips_getpoint(image, &v, &n, x, y, nullptr) == 0);
  REQUIRE(n >= 3);
  std::array<double, 3> out{v[0], v[1], v[2]};
  g_free(v);
  return out;
}

inline std::string Xmp(VipsImage* image) {
  const void* data = nullptr;
  size_t len = 0;
  if (vips_image_get_typeof(image, VIPS_META_XMP_NAME) == 0) return "";
  REQUIRE(vips_image_get_blob(image, VIPS_META_XMP_NAME, &data, &len) == 0);
  return std::string(static_cast<const char*>(data), len);
}

}  // namespace cairn::server::testimg

#endif  // CAIRN_TESTS_SERVER_IMAGE_TEST_UTIL_H_
