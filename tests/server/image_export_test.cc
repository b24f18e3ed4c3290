// image-export: the payload's strict parsing, and real libvips renders of small generated images
// (sizes, formats, sRGB from CMYK, EXIF orientation, alpha, crop and focus, provenance XMP, no
// other metadata, damaged and oversized sources), then the renderer over a FileBlobStore.
#include <catch_amalgamated.hpp>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "core/base/utf8.h"
#include "server/file_blob_store.h"
#include "server/image_export_payload.h"
#include "server/image_export_renderer.h"
#include "sync/blob_store.h"
#include "tests/server/image_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn::server {
namespace {

using Catch::Matchers::ContainsSubstring;
using nlohmann::json;
using testimg::Card;
using testimg::Decode;
using testimg::Encode;
using testimg::Pixel;

const std::string kHash(64, 'a');
constexpr char kDevice[] = "0123456789abcdef0123456789abcdef";

std::string Payload(const json& extra = json::object()) {
  json p = {{"source", kHash}};
  p.update(extra);
  return p.dump();
}

std::string ErrorOf(const std::string& payload_json) {
  Result<ImageExportPayload> p = ParseImageExportPayload(payload_json);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == StatusCode::kInvalidArgument);
  return p.status().message();
}

TEST_CASE("image-export payload: defaults") {
  const ImageExportPayload p = ParseImageExportPayload(Payload()).value();
  CHECK(p.source == kHash);
  REQUIRE(p.sizes.size() == 3);
  CHECK(std::string(p.sizes[0].name) == "1080x1080");
  CHECK(std::string(p.sizes[2].name) == "1080x1920");
  CHECK(p.format == ExportFormat::kJpeg);
  CHECK(p.quality == 90);
  CHECK(p.crop.x == 0);
  CHECK(p.crop.w == 1);
  CHECK(p.focus_x == 0.5);
  CHECK(ParseImageExportPayload(Payload({{"format", "webp"}})).value().quality == 85);
}

TEST_CASE("image-export payload: every field") {
  const ImageExportPayload p =
      ParseImageExportPayload(Payload({{"sizes", {"1080x1920", "1080x1080"}},
                                       {"format", "webp"},
                                       {"quality", 70},
                                       {"crop", {{"x", 0.1}, {"y", 0}, {"w", 0.9}, {"h", 1}}},
                                       {"focus", {{"x", 0}, {"y", 1}}}}))
          .value();
  REQUIRE(p.sizes.size() == 2);
  CHECK(std::string(p.sizes[0].name) == "1080x1920");  // in the order asked for
  CHECK(p.sizes[0].height == 1920);
  CHECK(p.format == ExportFormat::kWebp);
  CHECK(p.quality == 70);
  CHECK(p.crop.x == 0.1);
  CHECK(p.crop.w == 0.9);
  CHECK(p.focus_x == 0);
  CHECK(p.focus_y == 1);
}

TEST_CASE("image-export payload: each mistake is refused, naming the field") {
  CHECK_THAT(ErrorOf("{"), ContainsSubstring("not valid JSON"));
  CHECK_THAT(ErrorOf("[]"), ContainsSubstring("not a JSON object"));
  CHECK_THAT(ErrorOf("{}"), ContainsSubstring("'source' is missing"));
  CHECK_THAT(ErrorOf(R"({"source":"abc"})"), ContainsSubstring("field 'source' must be the 64"));
  CHECK_THAT(ErrorOf(json{{"source", std::string(64, 'A')}}.dump()),
             ContainsSubstring("lowercase hex"));
  CHECK_THAT(ErrorOf(Payload({{"colour", "red"}})),
             ContainsSubstring("'colour' is not a field of an image-export payload"));
  CHECK_THAT(ErrorOf(Payload({{"sizes", json::array()}})), ContainsSubstring("non-empty array"));
  CHECK_THAT(ErrorOf(Payload({{"sizes", "1080x1080"}})), ContainsSubstring("field 'sizes'"));
  CHECK_THAT(ErrorOf(Payload({{"sizes", {"1080x1080", "640x480"}}})),
             ContainsSubstring("field 'sizes[1]' must be 1080x1080, 1080x1350 or 1080x1920"));
  CHECK_THAT(ErrorOf(Payload({{"sizes", {1080}}})), ContainsSubstring("field 'sizes[0]'"));
  CHECK_THAT(ErrorOf(Payload({{"sizes", {"1080x1350", "1080x1350"}}})),
             ContainsSubstring("'sizes[1]' repeats 1080x1350"));
  CHECK_THAT(ErrorOf(Payload({{"format", "png"}})),
             ContainsSubstring("field 'format' must be \"jpeg\" or \"webp\""));
  CHECK_THAT(ErrorOf(Payload({{"quality", 49}})),
             ContainsSubstring("'quality' must be a whole number from 50 to 100, not 49"));
  CHECK_THAT(ErrorOf(Payload({{"quality", 101}})), ContainsSubstring("not 101"));
  CHECK_THAT(ErrorOf(Payload({{"quality", 90.5}})), ContainsSubstring("'quality'"));
  CHECK_THAT(ErrorOf(Payload({{"quality", "90"}})), ContainsSubstring("'quality'"));
  CHECK_THAT(ErrorOf(Payload({{"quality", 18446744073709551615ull}})),
             ContainsSubstring("'quality'"));
  CHECK_THAT(ErrorOf(Payload({{"crop", {{"x", 0.5}, {"y", 0}, {"w", 0.6}, {"h", 1}}}})),
             ContainsSubstring("'crop' leaves the image"));
  CHECK_THAT(ErrorOf(Payload({{"crop", {{"x", 0}, {"y", 0}, {"w", 0.001}, {"h", 1}}}})),
             ContainsSubstring("at least 0.01"));
  CHECK_THAT(ErrorOf(Payload({{"crop", {{"x", 0}, {"y", 0}, {"w", 1}}}})),
             ContainsSubstring("'crop.h' is missing"));
  CHECK_THAT(ErrorOf(Payload({{"crop", {{"x", 0}, {"y", 0}, {"w", 1}, {"h", 1}, {"r", 0}}}})),
             ContainsSubstring("'crop.r' is not a field"));
  CHECK_THAT(ErrorOf(Payload({{"focus", {{"x", 1.5}, {"y", 0}}}})),
             ContainsSubstring("'focus.x' must be a number from 0"));
  CHECK_THAT(ErrorOf(Payload({{"focus", {{"x", "0.5"}, {"y", 0}}}})),
             ContainsSubstring("'focus.x'"));
  CHECK_THAT(ErrorOf(Payload({{"focus", {0.5, 0.5}}})), ContainsSubstring("must be an object"));
}

bool IsUtf8(std::string_view s) {
  return Utf8Prefix(s, s.size()).size() == s.size();
}

// Regression: the parser cut the device's value to 40 bytes for its message with substr, which
// could split a multi-byte character; the failed job's error was then invalid UTF-8 (refused by
// PostgreSQL's text column, so the job's every attempt failed to record its failure).
TEST_CASE("image-export payload: a value quoted in an error is cut on a character boundary") {
  for (const std::string ch : {"\u00e9", "\u20ac", "\U0001F600"}) {  // 2, 3 and 4 bytes
    for (size_t pad = 0; pad < 4; ++pad) {  // the 40-byte cut falls at every byte of a character
      std::string long_text(pad, 'x');
      for (int i = 0; i < 30; ++i) long_text += ch;
      INFO("character " << ch << ", " << pad << " ASCII bytes before it");
      for (const json& extra :
           {json{{"sizes", {long_text}}}, json{{"format", long_text}},
            json{{long_text + long_text + long_text, 1}},
            json{{"crop", {{"x", 0}, {"y", 0}, {"w", 1}, {"h", 1}, {long_text + long_text, 0}}}}}) {
        const std::string message = ErrorOf(Payload(extra));
        CHECK(IsUtf8(message));
        CHECK(message.size() < 400);
        CHECK_NOTHROW(json(message).dump());  // the strict encoder refuses invalid UTF-8
      }
    }
  }
  CHECK(Utf8Prefix("a\u00e9", 2) == "a");
  CHECK(Utf8Prefix("a\u00e9", 3) == "a\u00e9");
  CHECK(Utf8Prefix("ab\xff", 3) == "ab");  // stops at an invalid byte
  CHECK_THAT(ErrorOf(Payload({{"format", std::string(50, 'q')}})), ContainsSubstring("qqq..."));
}

ExportProvenance Prov() { return {"job-0123", std::string(64, 'b'), "final", "cloud", 1'700'000'000'000}; }

ImageExportPayload Parsed(const json& extra = json::object()) {
  return ParseImageExportPayload(Payload(extra)).value();
}

ImageExportOutput Render(const std::string& source, const json& extra = json::object()) {
  Result<ImageExportOutput> out = RenderImageExport(source, Parsed(extra), Prov(), nullptr);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  return std::move(*out);
}

Status RenderError(const std::string& source) {
  Result<ImageExportOutput> out = RenderImageExport(source, Parsed(), Prov(), nullptr);
  REQUIRE_FALSE(out.ok());
  return out.status();
}

TEST_CASE("render: JPEG to the three platform sizes, exact, sRGB, provenance and nothing else") {
  testimg::Image card = Card(640, 480, {200, 30, 30}, {30, 30, 200}, 320);
  // The source carries EXIF (an orientation of 1, a description): none of it may come out.
  vips_image_set_int(card.get(), VIPS_META_ORIENTATION, 1);
  vips_image_set_string(card.get(), "exif-ifd0-ImageDescription", "secret location");
  const std::string source = Encode(card.get(), ".jpg[Q=95]");
  REQUIRE(vips_image_get_typeof(Decode(source).get(), VIPS_META_EXIF_NAME) != 0);

  const ImageExportOutput out = Render(source);
  CHECK(out.source_width == 640);
  CHECK(out.source_height == 480);
  REQUIRE(out.renditions.size() == 3);
  const int heights[] = {1080, 1350, 1920};
  for (size_t i = 0; i < 3; ++i) {
    const Rendition& r = out.renditions[i];
    INFO(r.name);
    CHECK(r.width == 1080);
    CHECK(r.height == heights[i]);
    CHECK(r.upscaled);  // 480 px high sources are upscaled to every size
    REQUIRE(r.bytes.size() > 3);
    CHECK(r.bytes.substr(0, 3) == "\xff\xd8\xff");
    testimg::Image back = Decode(r.bytes);
    CHECK(vips_image_get_width(back.get()) == 1080);
    CHECK(vips_image_get_height(back.get()) == heights[i]);
    CHECK(vips_image_get_bands(back.get()) == 3);
    CHECK(vips_image_get_format(back.get()) == VIPS_FORMAT_UCHAR);
    CHECK(vips_image_guess_interpretation(back.get()) == VIPS_INTERPRETATION_sRGB);
    CHECK(vips_image_get_typeof(back.get(), VIPS_META_EXIF_NAME) == 0);
    CHECK(vips_image_get_typeof(back.get(), VIPS_META_ICC_NAME) == 0);
    const std::string xmp = testimg::Xmp(back.get());
    CHECK_THAT(xmp, ContainsSubstring("xmlns:cairn=\"urn:cairn:provenance:1\""));
    CHECK_THAT(xmp, ContainsSubstring("cairn:job=\"job-0123\""));
    CHECK_THAT(xmp, ContainsSubstring("cairn:source=\"" + std::string(64, 'b') + "\""));
    CHECK_THAT(xmp, ContainsSubstring("cairn:renderer=\"cairn-server image-export/1\""));
    CHECK_THAT(xmp, ContainsSubstring("cairn:libvips=\"" + Libvips::Version() + "\""));
    CHECK_THAT(xmp, ContainsSubstring("cairn:tier=\"cloud\""));
    CHECK_THAT(xmp, ContainsSubstring("cairn:preset=\"final\""));
    CHECK_THAT(xmp, ContainsSubstring("cairn:rendition=\"" + r.name + "\""));
    CHECK_THAT(xmp, ContainsSubstring("cairn:renderedAt=\"2023-11-14T22:13:20.000Z\""));
    // The left half red, the right half blue: kept apart through the resize.
    const auto left = Pixel(back.get(), 100, heights[i] / 2);
    const auto right = Pixel(back.get(), 980, heights[i] / 2);
    CHECK(left[0] > 150);
    CHECK(left[2] < 90);
    CHECK(right[2] > 150);
    CHECK(right[0] < 90);
  }
}

TEST_CASE("render: WebP, from PNG and TIFF sources") {
  testimg::Image card = Card(1400, 2000, {10, 160, 10}, {10, 160, 10}, 0);
  for (const char* suffix : {".png", ".tif", ".webp"}) {
    INFO(suffix);
    const ImageExportOutput out = Render(Encode(card.get(), suffix),
                                         {{"format", "webp"}, {"sizes", {"1080x1350"}}});
    REQUIRE(out.renditions.size() == 1);
    const Rendition& r = out.renditions[0];
    CHECK_FALSE(r.upscaled);
    CHECK(r.bytes.substr(0, 4) == "RIFF");
    CHECK(r.bytes.substr(8, 4) == "WEBP");
    testimg::Image back = Decode(r.bytes);
    CHECK(vips_image_get_width(back.get()) == 1080);
    CHECK(vips_image_get_height(back.get()) == 1350);
    CHECK(vips_image_get_bands(back.get()) == 3);
    CHECK_THAT(testimg::Xmp(back.get()), ContainsSubstring("cairn:rendition=\"1080x1350\""));
    const auto px = Pixel(back.get(), 540, 675);
    CHECK(px[1] > 130);
    CHECK(px[0] < 50);
  }
}

TEST_CASE("render: a CMYK JPEG with its profile comes out sRGB with the right colour") {
  testimg::Image red = Card(300, 300, {220, 20, 20}, {220, 20, 20}, 0);
  VipsImage* cmyk = nullptr;
  REQUIRE(vips_icc_transform(red.get(), &cmyk, "cmyk", "input_profile", "srgb", "embedded",
                             FALSE, nullptr) == 0);
  testimg::Image owned(cmyk);
  REQUIRE(vips_image_get_bands(cmyk) == 4);
  const std::string source = Encode(cmyk, ".jpg[Q=95]");
  testimg::Image loaded = Decode(source);
  REQUIRE(vips_image_get_interpretation(loaded.get()) == VIPS_INTERPRETATION_CMYK);
  REQUIRE(vips_image_get_typeof(loaded.get(), VIPS_META_ICC_NAME) != 0);

  const ImageExportOutput out = Render(source, {{"sizes", {"1080x1080"}}});
  testimg::Image back = Decode(out.renditions[0].bytes);
  CHECK(vips_image_get_bands(back.get()) == 3);
  CHECK(vips_image_guess_interpretation(back.get()) == VIPS_INTERPRETATION_sRGB);
  const auto px = Pixel(back.get(), 540, 540);
  INFO(px[0] << "," << px[1] << "," << px[2]);
  CHECK(px[0] > 170);  // red stays red; read as RGB, the 4 CMYK bands would not
  CHECK(px[1] < 90);
  CHECK(px[2] < 90);
}

TEST_CASE("render: an EXIF-rotated photo is turned upright") {
  // Stored 60 wide and 30 high, left half red; orientation 6: the stored left is the top.
  testimg::Image card = Card(60, 30, {230, 10, 10}, {10, 10, 230}, 30);
  vips_image_set_int(card.get(), VIPS_META_ORIENTATION, 6);
  const ImageExportOutput out = Render(Encode(card.get(), ".jpg[Q=95]"), {{"sizes", {"1080x1920"}}});
  CHECK(out.source_width == 30);
  CHECK(out.source_height == 60);
  testimg::Image back = Decode(out.renditions[0].bytes);
  CHECK(vips_image_get_width(back.get()) == 1080);
  CHECK(vips_image_get_height(back.get()) == 1920);
  const auto top = Pixel(back.get(), 540, 200), bottom = Pixel(back.get(), 540, 1720);
  CHECK(top[0] > 150);
  CHECK(top[2] < 90);
  CHECK(bottom[2] > 150);
  CHECK(bottom[0] < 90);
}

TEST_CASE("render: alpha is flattened onto white") {
  // Left half transparent black, right half opaque black.
  testimg::Image card = Card(400, 400, {0, 0, 0, 0}, {0, 0, 0, 255}, 200);
  const ImageExportOutput out = Render(Encode(card.get(), ".png"), {{"sizes", {"1080x1080"}}});
  testimg::Image back = Decode(out.renditions[0].bytes);
  CHECK(vips_image_get_bands(back.get()) == 3);
  const auto left = Pixel(back.get(), 200, 540), right = Pixel(back.get(), 880, 540);
  CHECK(left[0] > 240);
  CHECK(left[1] > 240);
  CHECK(right[0] < 20);
}

TEST_CASE("render: crop and focus choose what the window keeps") {
  // 2000 x 1000, a green stripe along the left 300 px, grey elsewhere.
  testimg::Image card = Card(2000, 1000, {20, 200, 20}, {128, 128, 128}, 300);
  const std::string source = Encode(card.get(), ".png");
  auto green_at_left = [&](const json& extra) {
    json e = extra;
    e["sizes"] = {"1080x1080"};
    const ImageExportOutput out = Render(source, e);
    testimg::Image back = Decode(out.renditions[0].bytes);
    const auto px = Pixel(back.get(), 20, 540);
    return px[1] > 150 && px[0] < 100;
  };
  CHECK_FALSE(green_at_left(json::object()));                 // centred: the stripe is cut off
  CHECK(green_at_left({{"focus", {{"x", 0}, {"y", 0.5}}}}));  // focus on the left edge
  CHECK_FALSE(green_at_left({{"focus", {{"x", 1}, {"y", 0.5}}}}));
  // Crop to the right half: however the focus asks, no green is left.
  CHECK_FALSE(green_at_left(
      {{"crop", {{"x", 0.5}, {"y", 0}, {"w", 0.5}, {"h", 1}}}, {"focus", {{"x", 0}, {"y", 0}}}}));
  // Crop to the stripe's left part: all green.
  CHECK(green_at_left({{"crop", {{"x", 0}, {"y", 0}, {"w", 0.1}, {"h", 0.2}}}}));
}

TEST_CASE("render: damaged, truncated, foreign and non-images are bad images") {
  testimg::Image card = Card(400, 300, {200, 30, 30}, {30, 30, 200}, 123);
  VipsImage* noisy = nullptr;
  REQUIRE(vips_gaussnoise(&noisy, 400, 300, "sigma", 60.0, nullptr) == 0);
  testimg::Image noise(noisy);
  const std::string jpeg = Encode(noise.get(), ".jpg[Q=95]");
  REQUIRE(jpeg.size() > 20000);

  Status truncated = RenderError(jpeg.substr(0, jpeg.size() / 2));
  CHECK(truncated.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(truncated.message(), ContainsSubstring("the source cannot be decoded"));

  // A damaged frame header (sample precision 0): libjpeg's error, not a picture.
  std::string damaged = jpeg;
  const size_t sof = damaged.find("\xff\xc0");
  REQUIRE(sof != std::string::npos);
  damaged[sof + 4] = 0;
  Status header = RenderError(damaged);
  CHECK(header.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(header.message(), ContainsSubstring("the source cannot be"));

  Status text = RenderError("just some text, not an image at all");
  CHECK(text.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(text.message(), ContainsSubstring("not a JPEG, PNG, WebP or TIFF"));
  // GIF is an image libvips reads, but not one Cairn renders.
  const std::string gif = Encode(card.get(), ".gif");
  CHECK_THAT(RenderError(gif).message(), ContainsSubstring("not a JPEG, PNG, WebP or TIFF"));
  CHECK(RenderError(std::string("\xff\xd8\xff\xe0", 4)).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("render: a decompression bomb is refused from its header") {
  // A real 64 x 48 JPEG whose frame header claims 60000 x 60000 (3.6 gigapixels, ~10 GB
  // decoded). Refused with the pixel count before anything is decoded or allocated.
  testimg::Image card = Card(64, 48, {200, 30, 30}, {30, 30, 200}, 32);
  std::string jpeg = Encode(card.get(), ".jpg[Q=90]");
  const size_t sof = jpeg.find("\xff\xc0");
  REQUIRE(sof != std::string::npos);
  // SOF0: FF C0, length (2), precision (1), height (2), width (2).
  for (size_t at : {sof + 5, sof + 7}) {
    jpeg[at] = static_cast<char>(60000 >> 8);
    jpeg[at + 1] = static_cast<char>(60000 & 0xff);
  }
  Status s = RenderError(jpeg);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), ContainsSubstring("60000x60000 pixels (3600 megapixels); the limit is 100"));
}

TEST_CASE("render: cancel stops between sizes") {
  testimg::Image card = Card(200, 200, {1, 2, 3}, {1, 2, 3}, 0);
  std::atomic<bool> cancel{true};
  Result<ImageExportOutput> out =
      RenderImageExport(Encode(card.get(), ".png"), Parsed(), Prov(), &cancel);
  CHECK(out.status().code() == StatusCode::kCancelled);
}

sync::Lease LeaseFor(const std::string& payload, const char* device = kDevice) {
  sync::Lease l;
  l.job_id = "5d41402abc4b2a76b9719d911017c592";
  l.worker_id = "w-1";
  l.attempt = 1;
  l.kind = sync::JobKind::kImageExport;
  l.preset = sync::Preset::kPreview;
  l.payload_json = payload;
  l.device_id = device;
  return l;
}

TEST_CASE("renderer: source from the device's blobs, renditions stored there, result listed") {
  testing::TempDir dir;
  auto blobs = FileBlobStore::Open(dir / "blobs").value();
  ImageExportRenderer renderer(*blobs);
  std::atomic<bool> cancel{false};
  testimg::Image card = Card(900, 700, {200, 30, 30}, {30, 30, 200}, 450);
  const std::string source = Encode(card.get(), ".jpg[Q=92]");
  const std::string hash = sync::BlobHashOf(source);
  const json payload = {{"source", hash}, {"sizes", {"1080x1350", "1080x1080"}}};

  RenderOutput missing = renderer.Render(LeaseFor(payload.dump()), cancel);
  CHECK(missing.error_code == "blob_missing");
  CHECK_THAT(missing.error_message, ContainsSubstring("PUT /v1/blobs/" + hash));

  REQUIRE(blobs->Put(kDevice, hash, source).value());
  // Another device's upload of nothing: it cannot use this device's blob.
  RenderOutput other = renderer.Render(
      LeaseFor(payload.dump(), "ffffffffffffffffffffffffffffffff"), cancel);
  CHECK(other.error_code == "blob_missing");

  RenderOutput bad = renderer.Render(LeaseFor(R"({"source":")" + hash + R"(","dpi":300})"), cancel);
  CHECK(bad.error_code == "bad_payload");
  CHECK_THAT(bad.error_message, ContainsSubstring("'dpi'"));

  RenderOutput done = renderer.Render(LeaseFor(payload.dump()), cancel);
  INFO(done.error_code << ": " << done.error_message);
  REQUIRE(done.error_code.empty());
  const json result = json::parse(done.result_json);
  REQUIRE(result["renditions"].size() == 2);
  CHECK(result["source"] == json({{"blake2b", hash}, {"width", 900}, {"height", 700}}));
  CHECK(result["provenance"]["renderer"] == "cairn-server image-export/1");
  CHECK(result["provenance"]["preset"] == "preview");
  CHECK(result["provenance"]["tier"] == "cloud");
  CHECK(result["provenance"]["libvips"] == Libvips::Version());
  CHECK(result["stats"]["render_ms"].is_number_integer());
  const json& first = result["renditions"][0];
  CHECK(first["name"] == "1080x1350");
  CHECK(first["width"] == 1080);
  CHECK(first["height"] == 1350);
  CHECK(first["format"] == "jpeg");
  CHECK(first["content_type"] == "image/jpeg");
  CHECK(first["upscaled"] == true);
  for (const json& r : result["renditions"]) {
    auto bytes = blobs->Get(kDevice, r["blake2b"].get<std::string>()).value();
    REQUIRE(bytes.has_value());
    CHECK(bytes->size() == r["bytes"].get<size_t>());
    CHECK(sync::BlobHashOf(*bytes) == r["blake2b"].get<std::string>());
    CHECK_THAT(testimg::Xmp(Decode(*bytes).get()),
               ContainsSubstring("cairn:job=\"5d41402abc4b2a76b9719d911017c592\""));
  }

  std::string damaged = source.substr(0, source.size() / 3);
  REQUIRE(blobs->Put(kDevice, sync::BlobHashOf(damaged), damaged).value());
  RenderOutput broken = renderer.Render(
      LeaseFor(json({{"source", sync::BlobHashOf(damaged)}}).dump()), cancel);
  CHECK(broken.error_code == "bad_image");
  CHECK_THAT(broken.error_message, ContainsSubstring("cannot be decoded"));
}

// Not a check, a measurement: a 12-megapixel JPEG to the three sizes. Hidden (run it with
// `server_image_export_test "[.measure]"`); it prints, never asserts a time.
TEST_CASE("measure: a 12-megapixel JPEG to the three sizes", "[.measure]") {
  testimg::InitOnce();
  VipsImage* noise = nullptr;
  REQUIRE(vips_gaussnoise(&noise, 4000, 3000, "sigma", 25.0, "mean", 128.0, nullptr) == 0);
  testimg::Image n(noise);
  VipsImage* rgb = nullptr;
  VipsImage* parts[3] = {noise, noise, noise};
  REQUIRE(vips_bandjoin(parts, &rgb, 3, nullptr) == 0);
  testimg::Image c(rgb);
  VipsImage* u = nullptr;
  REQUIRE(vips_cast_uchar(rgb, &u, nullptr) == 0);
  testimg::Image uc(u);
  uc->Type = VIPS_INTERPRETATION_sRGB;
  const std::string source = Encode(uc.get(), ".jpg[Q=90]");
  for (const char* format : {"jpeg", "webp"}) {
    for (int run = 0; run < 3; ++run) {
      const auto start = std::chrono::steady_clock::now();
      const std::clock_t cpu_start = std::clock();  // this process, every thread
      const ImageExportOutput out = Render(source, {{"format", format}});
      const double ms = std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - start).count();
      const double cpu_ms = 1000.0 * static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
      size_t bytes = 0;
      for (const Rendition& r : out.renditions) bytes += r.bytes.size();
      std::printf("image-export 4000x3000 JPEG (%.1f MB) -> 3 sizes %s: %.0f ms wall, %.0f ms "
                  "CPU (%zu KB out)\n", source.size() / 1e6, format, ms, cpu_ms, bytes / 1024);
    }
  }
}

}  // namespace
}  // namespace cairn::server
