// Blobs: the FileBlobStore (atomic, content-addressed, per device, verified on read), and the
// protocol's blob routes through the real gateway, authenticator, router and SQLite stores:
// PUT /v1/blobs/{hash} and GET /v1/jobs/{id}/result/{name}.
#include <catch_amalgamated.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "server/file_blob_store.h"
#include "sync/api_gateway.h"
#include "sync/request_auth.h"
#include "sync/sqlite_device_store.h"
#include "sync/sqlite_job_store.h"
#include "tests/support/temp_dir.h"

namespace cairn::server {
namespace {

using Catch::Matchers::ContainsSubstring;
using nlohmann::json;
using sync::HttpRequest;
using sync::HttpResponse;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr char kA[] = "0123456789abcdef0123456789abcdef";
constexpr char kB[] = "fedcba9876543210fedcba9876543210";
const std::string kJpeg = std::string("\xff\xd8\xff\xe0", 4) + "pretend the rest is a photo";

TEST_CASE("file blob store: put, get, has; idempotent; per device; hash checked both ways") {
  testing::TempDir dir;
  auto store = FileBlobStore::Open(dir / "a/b/blobs").value();  // parents made too
  const std::string hash = sync::BlobHashOf(kJpeg);
  CHECK_FALSE(store->Has(kA, hash).value());
  CHECK_FALSE(store->Get(kA, hash).value().has_value());
  CHECK(store->Put(kA, hash, kJpeg).value());
  CHECK_FALSE(store->Put(kA, hash, kJpeg).value());  // already there
  CHECK(store->Has(kA, hash).value());
  CHECK(store->Get(kA, hash).value() == kJpeg);
  CHECK_FALSE(store->Has(kB, hash).value());  // another device: not its blob
  CHECK_FALSE(store->Get(kB, hash).value().has_value());
  const std::string path = dir / ("a/b/blobs/" + std::string(kA) + "/" + hash.substr(0, 2) + "/" + hash);
  CHECK(std::filesystem::file_size(path) == kJpeg.size());
  CHECK((std::filesystem::status(dir / "a/b/blobs").permissions() & std::filesystem::perms::others_all) ==
        std::filesystem::perms::none);
  // No temporary file is left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / ("a/b/blobs/" + std::string(kA)))) {
    CHECK(e.path().filename().string().substr(0, 5) != ".tmp-");
    ++entries;
  }
  CHECK(entries == 1);

  Result<bool> wrong = store->Put(kA, std::string(64, '0'), kJpeg);
  REQUIRE_FALSE(wrong.ok());
  CHECK(sync::ApiErrorFromStatus(wrong.status()).code == "hash_mismatch");
  CHECK_THAT(wrong.status().message(), ContainsSubstring(hash));
  CHECK_FALSE(store->Has(kA, std::string(64, '0')).value());

  // Names that could leave the directory are refused, not resolved.
  CHECK(store->Get("../../../../etc/passwd0000000000", hash).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(store->Get(kA, "../" + hash.substr(3)).status().code() == StatusCode::kInvalidArgument);
  CHECK(store->Put(kA, std::string(64, 'G'), kJpeg).status().code() == StatusCode::kInvalidArgument);

  // A blob damaged on disk is an error naming it, never served.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5);
    f.put('X');
  }
  Result<std::optional<std::string>> damaged = store->Get(kA, hash);
  CHECK(damaged.status().code() == StatusCode::kCorruption);
  CHECK_THAT(damaged.status().message(), ContainsSubstring(hash));
  CHECK(store->Put(kA, hash, kJpeg).value());  // a new upload repairs it
  CHECK(store->Get(kA, hash).value() == kJpeg);
}

struct Api {
  testing::TempDir dir;
  std::unique_ptr<sync::SqliteJobStore> jobs =
      sync::SqliteJobStore::Open({dir / "jobs.db", nullptr, true}).value();
  std::unique_ptr<sync::SqliteDeviceStore> devices =
      sync::SqliteDeviceStore::Open({dir / "devices.db", nullptr, true}).value();
  std::unique_ptr<FileBlobStore> blobs = FileBlobStore::Open(dir / "blobs").value();
  sync::JobService service{*jobs, sync::ServiceOptions{}};
  sync::ApiRouter router{service, blobs.get()};
  sync::DeviceAuthenticator auth{*devices, sync::AuthOptions{}};
  std::mutex mu;
  sync::ApiGateway gateway{auth, router, {.blobs = blobs.get(), .state_mu = &mu}};
};

struct Device {
  sync::RequestSigner signer{crypto::GenerateSigningKeyPair()};
  HttpRequest Sign(HttpRequest r) {
    REQUIRE(signer.Sign(r, kNow, sync::NewNonce()).ok());
    return r;
  }
  const std::string& id() const { return signer.device_id(); }
  void Register(Api& api) {
    REQUIRE(api.gateway.Handle(Sign(sync::MakeRegisterRequest(signer.public_key())), kNow).status ==
            201);
  }
};

std::string CodeOf(const HttpResponse& r) { return sync::ParseError(r).code; }

HttpRequest Put(const std::string& target, std::string body,
                std::string type = "application/octet-stream") {
  return {"PUT", target, {{"Content-Type", std::move(type)}}, std::move(body)};
}

TEST_CASE("PUT /v1/blobs/{hash}: stored once, each mistake a clear 4xx that stores nothing") {
  Api api;
  Device a, b;
  a.Register(api);
  b.Register(api);
  const std::string hash = sync::BlobHashOf(kJpeg);
  HttpRequest upload = sync::MakeBlobUploadRequest(kJpeg);
  CHECK(upload.target == "/v1/blobs/" + hash);

  HttpResponse unsigned_put = api.gateway.Handle(upload, kNow);
  CHECK(unsigned_put.status == 401);
  CHECK_FALSE(api.blobs->Has(a.id(), hash).value());

  HttpResponse created = api.gateway.Handle(a.Sign(upload), kNow);
  CHECK(created.status == 201);
  CHECK(json::parse(created.body) ==
        json({{"v", 1}, {"blob", {{"hash", hash}, {"bytes", kJpeg.size()}}}}));
  CHECK(api.blobs->Has(a.id(), hash).value());
  HttpResponse again = api.gateway.Handle(a.Sign(upload), kNow);
  CHECK(again.status == 200);
  CHECK(again.body == created.body);
  CHECK(api.gateway.Handle(a.Sign(Put(upload.target, kJpeg, "image/jpeg")), kNow).status == 200);

  const std::string other = kJpeg + "!";
  HttpResponse mismatch = api.gateway.Handle(a.Sign(Put("/v1/blobs/" + hash, other)), kNow);
  CHECK(mismatch.status == 400);
  CHECK(CodeOf(mismatch) == "hash_mismatch");
  const std::string other_hash = sync::BlobHashOf(other);
  CHECK(api.gateway.Handle(a.Sign(Put("/v1/blobs/" + other_hash.substr(0, 63) + "0", other)), kNow)
            .status == 400);
  CHECK_FALSE(api.blobs->Has(a.id(), other_hash).value());

  const std::string text = "plain text, not an image";
  HttpResponse not_image =
      api.gateway.Handle(a.Sign(Put("/v1/blobs/" + sync::BlobHashOf(text), text)), kNow);
  CHECK(not_image.status == 400);
  CHECK(CodeOf(not_image) == "bad_image");
  CHECK_FALSE(api.blobs->Has(a.id(), sync::BlobHashOf(text)).value());

  CHECK(CodeOf(api.gateway.Handle(a.Sign(Put("/v1/blobs/" + sync::BlobHashOf(""), "")), kNow)) ==
        "bad_value");
  HttpResponse json_type = api.gateway.Handle(a.Sign(Put(upload.target, kJpeg, "application/json")), kNow);
  CHECK(json_type.status == 415);
  CHECK(CodeOf(json_type) == "unsupported_media_type");

  std::string big(sync::kMaxBlobBytes + 1, 'x');
  big.replace(0, 4, "\xff\xd8\xff\xe0");
  HttpResponse too_big = api.gateway.Handle(a.Sign(Put("/v1/blobs/" + sync::BlobHashOf(big), big)), kNow);
  CHECK(too_big.status == 413);
  CHECK(CodeOf(too_big) == "too_large");
  CHECK_THAT(sync::ParseError(too_big).message, ContainsSubstring(std::to_string(sync::kMaxBlobBytes)));
  // The 24 MiB limit is this route's alone: a job submission still stops at 64 KiB.
  CHECK(api.gateway.BodyLimit("PUT", upload.target) == sync::kMaxBlobBytes);
  CHECK(api.gateway.BodyLimit("POST", "/v1/jobs") == sync::kMaxRequestBodyBytes);
  CHECK(api.gateway.BodyLimit("GET", upload.target) == sync::kMaxRequestBodyBytes);
  HttpRequest big_job{"POST", "/v1/jobs", {{"Content-Type", "application/json"}},
                      std::string(sync::kMaxRequestBodyBytes + 1, ' ')};
  CHECK(api.gateway.Handle(a.Sign(big_job), kNow).status == 413);

  HttpResponse get = api.gateway.Handle(a.Sign({"GET", upload.target, {}, ""}), kNow);
  CHECK(get.status == 405);
  CHECK(sync::FindHeader(get.headers, "Allow") == "PUT");
  CHECK(api.gateway.Handle(a.Sign(Put("/v1/blobs/" + hash + "?x=1", kJpeg)), kNow).status == 400);
  CHECK(api.gateway.Handle(a.Sign(Put("/v1/blobs/../" + hash, kJpeg)), kNow).status == 404);
  CHECK(api.gateway.Handle(a.Sign(Put("/v1/blobs/" + hash.substr(1), kJpeg)), kNow).status == 404);

  // Device b has uploaded nothing: a's blob is not b's.
  CHECK_FALSE(api.blobs->Has(b.id(), hash).value());
}

TEST_CASE("GET /v1/jobs/{id}/result/{name}: the rendition's bytes, for the job's device only") {
  Api api;
  Device a, b;
  a.Register(api);
  b.Register(api);
  const std::string payload = json({{"source", sync::BlobHashOf(kJpeg)}}).dump();
  HttpResponse submitted = api.gateway.Handle(
      a.Sign(sync::MakeSubmitRequest({"key-render-0123456789", sync::JobKind::kImageExport,
                                      sync::Preset::kFinal, payload})
                 .value()),
      kNow);
  REQUIRE(submitted.status == 201);
  const std::string id = sync::ParseJob(submitted.body).value().id;
  HttpResponse early = api.gateway.Handle(a.Sign(sync::MakeRenditionRequest(id, "1080x1080")), kNow);
  CHECK(early.status == 409);
  CHECK(CodeOf(early) == "not_ready");

  // A worker renders it: the rendition stored under a's blobs, listed in the result.
  const std::string rendition = std::string("\xff\xd8\xff\xdb", 4) + "rendered bytes";
  const std::string hash = sync::BlobHashOf(rendition);
  REQUIRE(api.blobs->Put(a.id(), hash, rendition).value());
  sync::Lease lease = api.service.Claim("w-1", kNow).value().value();
  CHECK(lease.device_id == a.id());
  const json result = {{"renditions",
                        {{{"name", "1080x1080"}, {"content_type", "image/jpeg"}, {"blake2b", hash},
                          {"bytes", rendition.size()}}}}};
  REQUIRE(api.service.Complete(lease, result.dump(), kNow).ok());

  HttpResponse got = api.gateway.Handle(a.Sign(sync::MakeRenditionRequest(id, "1080x1080")), kNow);
  CHECK(got.status == 200);
  CHECK(got.body == rendition);
  CHECK(sync::FindHeader(got.headers, "Content-Type") == "image/jpeg");
  CHECK(sync::FindHeader(got.headers, "ETag") == "\"" + hash + "\"");
  // The JSON result is still JSON.
  HttpResponse listed = api.gateway.Handle(a.Sign(sync::MakeResultRequest(id)), kNow);
  CHECK(listed.status == 200);
  CHECK(json::parse(listed.body)["result"] == result);

  HttpResponse unknown = api.gateway.Handle(a.Sign(sync::MakeRenditionRequest(id, "1080x1920")), kNow);
  CHECK(unknown.status == 404);
  CHECK_THAT(sync::ParseError(unknown).message, ContainsSubstring("no rendition '1080x1920'"));
  HttpResponse other = api.gateway.Handle(b.Sign(sync::MakeRenditionRequest(id, "1080x1080")), kNow);
  HttpResponse missing = api.gateway.Handle(
      b.Sign(sync::MakeRenditionRequest("0123456789abcdef0123456789abcdef", "1080x1080")), kNow);
  CHECK(other.status == 404);
  CHECK(CodeOf(other) == "not_found");
  CHECK(missing.status == 404);
  std::string masked = other.body;  // exactly like a missing job: nothing about it
  masked.replace(masked.find(id), id.size(), "0123456789abcdef0123456789abcdef");
  CHECK(masked == missing.body);
  CHECK(api.gateway.Handle(b.Sign(sync::MakeResultRequest(id)), kNow).status == 404);
  HttpResponse del = api.gateway.Handle(
      a.Sign({"DELETE", "/v1/jobs/" + id + "/result/1080x1080", {}, ""}), kNow);
  CHECK(del.status == 405);
}

}  // namespace
}  // namespace cairn::server
