// Blob quota and garbage collection (issue 7) on the real stores: the FileBlobStore behind the
// real gateway, authenticator and router on SQLite, and CollectBlobGarbage over the real job
// store; then cairn-server's own collector, started by HttpServer::Serve. Job retention with
// the collector on SQLite and PostgreSQL, and through a real cairn-server over HTTP.
#include <fcntl.h>
#include <httplib.h>
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
#include "tests/sync/job_store_kinds.h"

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

// Retention (issue 7), one pass of cairn-server's collector on each store: the finished job
// older than the retention goes first, then the blobs only it referred to; a younger finished
// job, a job still waiting, and every blob one of them refers to stay.
TEST_CASE("retention: an old finished job goes with the blobs only it referred to") {
  const std::string kind = GENERATE(from_range(sync::JobStoreKinds()));
  CAPTURE(kind);
  std::unique_ptr<sync::StoreUnderTest> where = sync::MakeStoreUnderTest(kind);
  std::unique_ptr<sync::JobStore> jobs = where->Open().value();
  sync::JobService service(*jobs, sync::ServiceOptions{});
  testing::TempDir dir;
  auto blobs = FileBlobStore::Open(dir / "blobs").value();
  const std::string device = "0123456789abcdef0123456789abcdef";
  const std::string old_source = Image(1), old_rendition = Image(2), shared = Image(3),
                    young_source = Image(4), waiting_source = Image(5);
  for (const std::string* b : {&old_source, &old_rendition, &shared, &young_source,
                               &waiting_source}) {
    REQUIRE(blobs->Put(device, sync::BlobHashOf(*b), *b).value());
    const std::string h = sync::BlobHashOf(*b);
    Api::SetModified(dir / ("blobs/" + device + "/" + h.substr(0, 2) + "/" + h),
                     NowMs() - 10 * kDay);  // all older than the blobs' maximum age
  }
  const int64_t now = NowMs();
  auto submit = [&](const std::string& key, const json& payload, int64_t at) {
    return service
        .Submit(device, {key, sync::JobKind::kImageExport, sync::Preset::kFinal, payload.dump()},
                at)
        .value()
        .job.id;
  };
  auto finish = [&](const json& result, int64_t at) {
    sync::Lease l = service.Claim("w", at).value().value();
    REQUIRE(service.Complete(l, result.dump(), at).ok());
    return l.job_id;
  };
  // Done 31 days ago (past 30 days' retention): its source, its rendition and a blob it shares.
  const std::string old_job =
      submit("key-old-job-0123456789",
             {{"source", sync::BlobHashOf(old_source)}, {"overlay", sync::BlobHashOf(shared)}},
             now - 31 * kDay);
  REQUIRE(finish({{"renditions", {{{"blake2b", sync::BlobHashOf(old_rendition)}}}}},
                 now - 31 * kDay) == old_job);
  // Done a day ago, sharing a blob with the old one.
  const std::string young_job =
      submit("key-young-job-01234567",
             {{"source", sync::BlobHashOf(young_source)}, {"overlay", sync::BlobHashOf(shared)}},
             now - 2 * kDay);
  REQUIRE(finish({{"renditions", json::array()}}, now - kDay) == young_job);
  // Submitted 40 days ago and never finished (no worker took it): not for retention.
  const std::string waiting_job = submit(
      "key-waiting-job-0123456", {{"source", sync::BlobHashOf(waiting_source)}}, now - 40 * kDay);

  ManualClock clock(now);
  Collector gc(blobs.get(), *jobs, &service,
               {.max_age_ms = 7 * kDay, .interval_ms = kHourMs, .job_retention_ms = 30 * kDay},
               &clock);
  gc.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (gc.Totals().blobs == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  gc.Stop();
  const BlobGcStats t = gc.Totals();
  CHECK(t.jobs_expired == 1);
  CHECK(t.removed == 2);  // in the same pass as the job
  CHECK_FALSE(blobs->Has(device, sync::BlobHashOf(old_source)).value());
  CHECK_FALSE(blobs->Has(device, sync::BlobHashOf(old_rendition)).value());
  CHECK(blobs->Has(device, sync::BlobHashOf(shared)).value());  // the young job refers to it
  CHECK(blobs->Has(device, sync::BlobHashOf(young_source)).value());
  CHECK(blobs->Has(device, sync::BlobHashOf(waiting_source)).value());
  CHECK(sync::ApiErrorFromStatus(service.Get(device, old_job).status()).code == "job_expired");
  CHECK(service.Get(device, young_job).value().state == sync::JobState::kDone);
  CHECK(service.Get(device, waiting_job).value().state == sync::JobState::kAccepted);
  CHECK_THAT(BlobGcMetricsText(t), ContainsSubstring("\ncairn_jobs_expired_total 1\n"));

  // The old job's submission replayed: refused, and nothing new to run but the waiting job.
  const Status replay =
      service
          .Submit(device, {"key-old-job-0123456789", sync::JobKind::kImageExport,
                           sync::Preset::kFinal, json{{"source", "x"}}.dump()},
                  now)
          .status();
  CHECK(sync::ApiErrorFromStatus(replay).http_status == 410);
  CHECK(service.Claim("w", now).value().value().job_id == waiting_job);
  CHECK_FALSE(service.Claim("w", now).value().has_value());
}

// Through a real cairn-server (HttpServer on loopback, cpp-httplib's client), its clock moved
// forward a month between requests: the collector's hourly pass (here every second) expires
// the cancelled job, its blob goes, and every request about it is answered 410 job_expired.
class HttpDevice {
 public:
  HttpDevice(int port, const Clock& clock) : client_("127.0.0.1", port), clock_(clock) {}
  HttpResponse Send(HttpRequest r) {
    REQUIRE(signer_.Sign(r, clock_.NowUnixMillis(), sync::NewNonce()).ok());
    httplib::Headers headers;
    std::string type = "application/json";
    for (const auto& [name, value] : r.headers) {
      if (name == "Content-Type") {
        type = value;
      } else {
        headers.emplace(name, value);
      }
    }
    httplib::Result res = r.method == "GET"      ? client_.Get(r.target, headers)
                          : r.method == "DELETE" ? client_.Delete(r.target, headers)
                          : r.method == "PUT"    ? client_.Put(r.target, headers, r.body, type)
                                                 : client_.Post(r.target, headers, r.body, type);
    REQUIRE(res);
    return HttpResponse{res->status, {}, res->body};
  }
  const std::string& id() const { return signer_.device_id(); }
  void Register() {
    REQUIRE(Send(sync::MakeRegisterRequest(signer_.public_key())).status == 201);
  }

 private:
  httplib::Client client_;
  const Clock& clock_;
  sync::RequestSigner signer_{crypto::GenerateSigningKeyPair()};
};

TEST_CASE("retention over HTTP: a month later the job is 410 job_expired and its blob is gone") {
  testing::TempDir dir;
  auto blobs = FileBlobStore::Open(dir / "blobs").value();
  ManualClock clock(NowMs());
  ServerOptions options;
  options.port = 0;
  options.data_dir = dir / "data";
  options.blobs = blobs.get();
  options.clock = &clock;
  options.blob_gc_interval_ms = 1000;  // the hourly pass, every second
  REQUIRE(options.job_retention_ms == 720 * kHourMs);  // the default: 30 days
  auto server = HttpServer::Open(options).value();
  std::thread serving([&] { CHECK(server->Serve().ok()); });
  HttpDevice a(server->port(), clock), b(server->port(), clock);
  a.Register();
  b.Register();
  const std::string source = Image(1), other = Image(2);
  REQUIRE(a.Send(sync::MakeBlobUploadRequest(source)).status == 201);
  REQUIRE(b.Send(sync::MakeBlobUploadRequest(other)).status == 201);
  const sync::JobSubmission sub{"key-http-retention-0123", sync::JobKind::kImageExport,
                                sync::Preset::kFinal,
                                json{{"source", sync::BlobHashOf(source)}}.dump()};
  HttpResponse created = a.Send(sync::MakeSubmitRequest(sub).value());
  REQUIRE(created.status == 201);
  const std::string id = sync::ParseJob(created.body).value().id;
  REQUIRE(a.Send(sync::MakeCancelRequest(id)).status == 200);  // finished: cancelled
  REQUIRE(b.Send(sync::MakeSubmitRequest({"key-http-waiting-012345", sync::JobKind::kImageExport,
                                          sync::Preset::kFinal,
                                          json{{"source", sync::BlobHashOf(other)}}.dump()})
                     .value())
              .status == 201);  // waits: no workers

  clock.AdvanceMillis(31 * 24 * kHourMs);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (blobs->Has(a.id(), sync::BlobHashOf(source)).value() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE(blobs->Has(a.id(), sync::BlobHashOf(source)).value());
  CHECK(blobs->Has(b.id(), sync::BlobHashOf(other)).value());  // its job waits

  for (const HttpRequest& r : {sync::MakeSubmitRequest(sub).value(), sync::MakeGetJobRequest(id),
                               sync::MakeResultRequest(id), sync::MakeCancelRequest(id),
                               sync::MakeRenditionRequest(id, "1080x1080")}) {
    CAPTURE(r.method, r.target);
    const HttpResponse gone = a.Send(r);
    CHECK(gone.status == 410);
    const sync::ApiError e = sync::ParseError(gone);
    CHECK(e.code == "job_expired");
    CHECK_THAT(e.message, ContainsSubstring("will not run again"));
  }
  CHECK(b.Send(sync::MakeGetJobRequest(id)).status == 404);  // not b's: nothing to learn
  const sync::ChangesPage feed =
      sync::ParseChanges(a.Send(sync::MakeChangesRequest(0)).body).value();
  CHECK(feed.jobs.empty());
  REQUIRE(feed.expired.size() == 1);
  CHECK(feed.expired[0].id == id);
  CHECK(feed.expired[0].idempotency_key == sub.idempotency_key);
  httplib::Client plain("127.0.0.1", server->port());
  httplib::Result metrics = plain.Get("/metrics");
  REQUIRE(metrics);
  CHECK_THAT(metrics->body, ContainsSubstring("\ncairn_jobs_expired_total 1\n"));
  CHECK_THAT(metrics->body, ContainsSubstring("\ncairn_jobs_created_total 2\n"));  // no new job
  server->Stop();
  serving.join();
}

}  // namespace
}  // namespace cairn::server
