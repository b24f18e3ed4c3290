// Blob quota and garbage collection (issue 7) on the real stores: the FileBlobStore behind the
// real gateway, authenticator and router on SQLite, and CollectBlobGarbage over the real job
// store; then cairn-server's own collector, started by HttpServer::Serve.
#include <fcntl.h>
#include <sys/stat.h>

#include <catch_amalgamated.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/base/clock.h"
#include "server/blob_gc.h"
#include "server/file_blob_store.h"
#include "server/http_server.h"
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

constexpr int64_t kDay = 24 * kHourMs;
constexpr int64_t kMaxAge = 7 * kDay;

int64_t NowMs() { return SystemClock::Default().NowUnixMillis(); }

// `n` bytes that start like a JPEG and differ by `tag`.
std::string Image(int tag, size_t n = 100) {
  std::string b = std::string("\xff\xd8\xff\xe0", 4) + "image " + std::to_string(tag) + " ";
  b.resize(n, '.');
  return b;
}

struct Api {
  explicit Api(uint64_t quota)
      : blobs(FileBlobStore::Open(dir / "blobs", {.quota_bytes = quota}).value()) {}
  testing::TempDir dir;
  std::unique_ptr<sync::SqliteJobStore> jobs =
      sync::SqliteJobStore::Open({dir / "jobs.db", nullptr, true}).value();
  std::unique_ptr<sync::SqliteDeviceStore> devices =
      sync::SqliteDeviceStore::Open({dir / "devices.db", nullptr, true}).value();
  std::unique_ptr<FileBlobStore> blobs;
  sync::JobService service{*jobs, sync::ServiceOptions{}};
  sync::ApiRouter router{service, blobs.get()};
  sync::DeviceAuthenticator auth{*devices, sync::AuthOptions{}};
  std::mutex mu;  // the SQLite stores, one call at a time (uploads run outside it)
  sync::ApiGateway gateway{auth, router, {.blobs = blobs.get(), .state_mu = &mu}};

  std::string PathOf(const std::string& device, const std::string& hash) {
    return dir / ("blobs/" + device + "/" + hash.substr(0, 2) + "/" + hash);
  }
  // Makes a stored blob look last written `age_ms` ago.
  void Age(const std::string& device, const std::string& hash, int64_t age_ms) {
    SetModified(PathOf(device, hash), NowMs() - age_ms);
  }
  static void SetModified(const std::string& path, int64_t ms) {
    const timespec t{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000};
    const timespec times[2] = {t, t};
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  }
};

struct Device {
  sync::RequestSigner signer{crypto::GenerateSigningKeyPair()};
  HttpRequest Sign(HttpRequest r) {
    REQUIRE(signer.Sign(r, NowMs(), sync::NewNonce()).ok());
    return r;
  }
  const std::string& id() const { return signer.device_id(); }
  void Register(Api& api) {
    REQUIRE(api.gateway.Handle(Sign(sync::MakeRegisterRequest(signer.public_key())), NowMs())
                .status == 201);
  }
  HttpResponse Upload(Api& api, const std::string& bytes) {
    return api.gateway.Handle(Sign(sync::MakeBlobUploadRequest(bytes)), NowMs());
  }
  std::string Submit(Api& api, const std::string& key, const json& payload) {
    HttpResponse r = api.gateway.Handle(
        Sign(sync::MakeSubmitRequest(
                 {key, sync::JobKind::kImageExport, sync::Preset::kFinal, payload.dump()})
                 .value()),
        NowMs());
    REQUIRE(r.status == 201);
    return sync::ParseJob(r.body).value().id;
  }
};

TEST_CASE("blob quota: an upload past the device's quota is 413 quota_exceeded, nothing stored") {
  Api api(/*quota=*/300);
  Device a, b;
  a.Register(api);
  b.Register(api);
  const std::string one = Image(1), two = Image(2), three = Image(3), four = Image(4);
  CHECK(a.Upload(api, one).status == 201);
  CHECK(a.Upload(api, two).status == 201);
  CHECK(a.Upload(api, three).status == 201);  // exactly the quota: 300 bytes
  CHECK(api.blobs->Usage(a.id()).value() == 300);

  HttpResponse over = a.Upload(api, four);
  CHECK(over.status == 413);
  const json error = json::parse(over.body)["error"];
  CHECK(error["code"] == "quota_exceeded");
  CHECK_THAT(error["message"].get<std::string>(), ContainsSubstring("300 of 300 bytes"));
  CHECK_THAT(error["message"].get<std::string>(), ContainsSubstring("nothing was stored"));
  CHECK_FALSE(api.blobs->Has(a.id(), sync::BlobHashOf(four)).value());
  CHECK(api.blobs->Usage(a.id()).value() == 300);
  // No temporary file was left either.
  for (const auto& e : std::filesystem::directory_iterator(api.dir / ("blobs/" + a.id()))) {
    CHECK_FALSE(e.path().filename().string().starts_with(".tmp-"));
  }

  // A blob the device has already is never refused (a retried upload must succeed).
  CHECK(a.Upload(api, two).status == 200);
  // The quota is per device.
  CHECK(b.Upload(api, four).status == 201);
  // One upload bigger than the whole quota.
  CHECK(sync::ParseError(b.Upload(api, Image(5, 301))).code == "quota_exceeded");
  // Renditions (the workers' Put) are not refused, but they count.
  const std::string rendition = Image(6);
  CHECK(api.blobs->Put(a.id(), sync::BlobHashOf(rendition), rendition).value());
  CHECK(api.blobs->Usage(a.id()).value() == 400);

  // Space freed on disk (garbage collection) is seen at once: a refusal counts again.
  api.Age(a.id(), sync::BlobHashOf(one), kMaxAge + kDay);
  api.Age(a.id(), sync::BlobHashOf(two), kMaxAge + kDay);
  REQUIRE(CollectBlobGarbage(*api.blobs, *api.jobs, NowMs(), kMaxAge).value().removed == 2);
  CHECK(a.Upload(api, four).status == 201);
}

TEST_CASE("blob quota: concurrent uploads cannot pass it together") {
  Api api(/*quota=*/1000);
  Device a;
  a.Register(api);
  std::vector<std::vector<HttpRequest>> batches(8);
  for (int t = 0; t < 8; ++t) {
    for (int i = 0; i < 5; ++i) {
      batches[t].push_back(a.Sign(sync::MakeBlobUploadRequest(Image(t * 100 + i))));
    }
  }
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, refused{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (const HttpRequest& request : batches[t]) {
        const HttpResponse r = api.gateway.Handle(request, NowMs());
        if (r.status == 201) ++created;
        if (r.status == 413) ++refused;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(created == 10);
  CHECK(refused == 30);
  CHECK(api.blobs->Usage(a.id()).value() == 1000);
}

TEST_CASE("blob gc: removes old blobs no job refers to; keeps referenced and young ones") {
  Api api(/*quota=*/0);
  Device a, b;
  a.Register(api);
  b.Register(api);
  const std::string source = Image(1), rendition = Image(2), orphan = Image(3), young = Image(4),
                    cancelled_source = Image(5);
  const std::string h_source = sync::BlobHashOf(source), h_rendition = sync::BlobHashOf(rendition),
                    h_orphan = sync::BlobHashOf(orphan), h_young = sync::BlobHashOf(young),
                    h_cancelled = sync::BlobHashOf(cancelled_source);
  for (const std::string* blob : {&source, &orphan, &young, &cancelled_source}) {
    REQUIRE(a.Upload(api, *blob).status == 201);
  }
  // Device b uploaded the same bytes as a's source, but has no job: b's copy is b's alone.
  REQUIRE(b.Upload(api, source).status == 201);

  // a's first job is done: its result lists a rendition. Its second was cancelled.
  a.Submit(api, "key-gc-done-0123456789", {{"source", h_source}});
  REQUIRE(api.blobs->Put(a.id(), h_rendition, rendition).value());
  sync::Lease lease = api.service.Claim("w-1", NowMs()).value().value();
  const json result = {{"renditions", {{{"name", "1080x1080"}, {"blake2b", h_rendition}}}}};
  REQUIRE(api.service.Complete(lease, result.dump(), NowMs()).ok());
  const std::string cancelled = a.Submit(api, "key-gc-cancelled-0123", {{"source", h_cancelled}});
  REQUIRE(api.gateway.Handle(a.Sign(sync::MakeCancelRequest(cancelled)), NowMs()).status == 200);

  for (const std::string& h : {h_source, h_rendition, h_orphan, h_cancelled}) {
    api.Age(a.id(), h, kMaxAge + kHourMs);
  }
  api.Age(b.id(), h_source, kMaxAge + kHourMs);
  api.Age(a.id(), h_young, kMaxAge - kHourMs);
  // A stray temporary file of an interrupted upload, old.
  const std::string tmp = api.dir / ("blobs/" + a.id() + "/.tmp-0011223344556677");
  { std::ofstream(tmp) << "partial"; }
  Api::SetModified(tmp, NowMs() - kMaxAge - kHourMs);

  const BlobGcStats s = CollectBlobGarbage(*api.blobs, *api.jobs, NowMs(), kMaxAge).value();
  CHECK(s.devices == 2);
  CHECK(s.blobs == 6);
  CHECK(s.removed == 2);  // a's orphan, b's copy
  CHECK(s.removed_bytes == orphan.size() + source.size());
  CHECK(s.kept_referenced == 3);
  CHECK(s.temporaries_removed == 1);
  CHECK(api.blobs->Has(a.id(), h_source).value());       // a job's source
  CHECK(api.blobs->Has(a.id(), h_rendition).value());    // a done job's rendition
  CHECK(api.blobs->Has(a.id(), h_cancelled).value());    // any job's, whatever its state
  CHECK(api.blobs->Has(a.id(), h_young).value());        // young, though no job refers to it
  CHECK_FALSE(api.blobs->Has(a.id(), h_orphan).value());
  CHECK_FALSE(api.blobs->Has(b.id(), h_source).value());
  CHECK_FALSE(std::filesystem::exists(tmp));
  // What is kept still reads back intact.
  CHECK(api.blobs->Get(a.id(), h_rendition).value() == rendition);

  // A second pass finds nothing more to remove.
  CHECK(CollectBlobGarbage(*api.blobs, *api.jobs, NowMs(), kMaxAge).value().removed == 0);

  // Uploading an old blob again makes it young: the next pass keeps it.
  api.Age(a.id(), h_young, kMaxAge + kHourMs);
  CHECK(a.Upload(api, young).status == 200);
  CHECK(CollectBlobGarbage(*api.blobs, *api.jobs, NowMs(), kMaxAge).value().removed == 0);
  CHECK(api.blobs->Has(a.id(), h_young).value());
  // ... and once it is old again with no job, it goes.
  api.Age(a.id(), h_young, kMaxAge + kHourMs);
  CHECK(CollectBlobGarbage(*api.blobs, *api.jobs, NowMs(), kMaxAge).value().removed == 1);
  CHECK_FALSE(api.blobs->Has(a.id(), h_young).value());
}

TEST_CASE("blob gc: cairn-server collects when it starts") {
  testing::TempDir dir;
  auto blobs = FileBlobStore::Open(dir / "blobs").value();
  const std::string device = "0123456789abcdef0123456789abcdef";
  const std::string old = Image(1), young = Image(2);
  REQUIRE(blobs->Put(device, sync::BlobHashOf(old), old).value());
  REQUIRE(blobs->Put(device, sync::BlobHashOf(young), young).value());
  const std::string h = sync::BlobHashOf(old);
  Api::SetModified(dir / ("blobs/" + device + "/" + h.substr(0, 2) + "/" + h),
                   NowMs() - 3 * kHourMs);
  ServerOptions options;
  options.port = 0;
  options.data_dir = dir / "data";
  options.blobs = blobs.get();
  options.blob_max_age_ms = 2 * kHourMs;
  auto server = HttpServer::Open(options).value();
  std::thread serving([&] { CHECK(server->Serve().ok()); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (blobs->Has(device, h).value() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  server->Stop();
  serving.join();
  CHECK_FALSE(blobs->Has(device, h).value());
  CHECK(blobs->Has(device, sync::BlobHashOf(young)).value());
}

}  // namespace
}  // namespace cairn::server
