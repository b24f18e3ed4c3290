// POST /v1/jobs writes twice, in this order: the request's nonce (device authentication commits
// it), then the job (the router's insert commits it). sync/PROTOCOL.md ("The nonce first, then
// the job") says why a crash between the two commits is safe; this pins it on SQLite and on
// PostgreSQL: the server dies after the nonce's commit and before the job's, restarts on the
// same stores, and then a replay of the very request is refused while the device's retry (a new
// signature and nonce, the same idempotency key) makes the job exactly once.
#include <catch_amalgamated.hpp>

#include <memory>

#include "sync/api_gateway.h"
#include "tests/sync/job_store_kinds.h"

namespace cairn::sync {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

// A JobStore whose inserts can be made to "crash": the process dies before the job's commit,
// so nothing of the job reaches the store.
class CrashBeforeJobCommit final : public JobStore {
 public:
  explicit CrashBeforeJobCommit(JobStore& inner) : inner_(inner) {}
  bool crash = false;
  int crashed = 0;

  Result<InsertOutcome> InsertOrGet(const StoredJob& job) override {
    if (crash) {
      ++crashed;
      return IoError("simulated crash before the job's commit");
    }
    return inner_.InsertOrGet(job);
  }
  Result<std::optional<StoredJob>> Get(std::string_view id) override { return inner_.Get(id); }
  Result<std::vector<StoredJob>> ChangesSince(std::string_view device_id, int64_t since,
                                              int limit) override {
    return inner_.ChangesSince(device_id, since, limit);
  }
  Result<FeedChanges> FeedSince(std::string_view device_id, int64_t since, int limit) override {
    return inner_.FeedSince(device_id, since, limit);
  }
  Result<std::optional<ExpiredJob>> GetExpired(std::string_view id) override {
    return inner_.GetExpired(id);
  }
  Result<std::vector<ExpiredJob>> ExpireFinished(int64_t changed_before_ms, int64_t now_ms,
                                                 int limit) override {
    return inner_.ExpireFinished(changed_before_ms, now_ms, limit);
  }
  Result<std::vector<StoredJob>> Claimable(int64_t now_ms, int limit) override {
    return inner_.Claimable(now_ms, limit);
  }
  Result<std::optional<StoredJob>> CompareAndSwap(const StoredJob& job) override {
    return inner_.CompareAndSwap(job);
  }

 private:
  JobStore& inner_;
};

// One server process over stores of `kind`; Restart() is the process starting again on the
// same stores (new connections, nothing kept in memory).
struct Server {
  explicit Server(const std::string& kind) : where(MakeStoreUnderTest(kind)) { Start(); }
  std::unique_ptr<StoreUnderTest> where;
  std::unique_ptr<JobStore> jobs;
  std::unique_ptr<DeviceStore> devices;
  std::unique_ptr<CrashBeforeJobCommit> crashing;
  std::unique_ptr<JobService> service;
  std::unique_ptr<ApiRouter> router;
  std::unique_ptr<DeviceAuthenticator> auth;
  std::unique_ptr<ApiGateway> gateway;

  void Start() {
    jobs = where->Open().value();
    devices = where->OpenDevices().value();
    crashing = std::make_unique<CrashBeforeJobCommit>(*jobs);
    service = std::make_unique<JobService>(*crashing, ServiceOptions{});
    router = std::make_unique<ApiRouter>(*service);
    auth = std::make_unique<DeviceAuthenticator>(*devices, AuthOptions{});
    gateway = std::make_unique<ApiGateway>(*auth, *router);
  }
  void Restart() {
    gateway.reset();
    auth.reset();
    router.reset();
    service.reset();
    crashing.reset();
    devices.reset();  // closes the connections (and SQLite's exclusive locks) first
    jobs.reset();
    Start();
  }
  size_t Jobs(const std::string& device) {
    return jobs->ChangesSince(device, 0, 100).value().size();
  }
};

struct Device {
  RequestSigner signer{crypto::GenerateSigningKeyPair()};
  int n = 0;
  HttpRequest Sign(HttpRequest r, int64_t now) {
    REQUIRE(signer.Sign(r, now, "nonce-" + std::to_string(++n) + "-0123456789ab").ok());
    return r;
  }
};

HttpRequest Submit() {
  return MakeSubmitRequest({"key-crash-between-commits", JobKind::kCaptionHq, Preset::kFinal,
                            R"({"task":"x"})"})
      .value();
}

TEST_CASE("POST /v1/jobs: a crash after the nonce's commit, before the job's, is safe") {
  const std::string kind = GENERATE(from_range(JobStoreKinds()));
  INFO("store: " << kind);
  Server server(kind);
  Device dev;
  REQUIRE(server.gateway->Handle(dev.Sign(MakeRegisterRequest(dev.signer.public_key()), kNow),
                                 kNow)
              .status == 201);
  const std::string id = dev.signer.device_id();

  // The request is authenticated (its nonce committed), then the server dies before the job's
  // commit. The device gets no answer (here: the failed store call's 503; in a real crash, a
  // broken connection), which it retries like a 5xx.
  const HttpRequest captured = dev.Sign(Submit(), kNow);
  server.crashing->crash = true;
  const HttpResponse lost = server.gateway->Handle(captured, kNow);
  CHECK(lost.status >= 500);
  REQUIRE(server.crashing->crashed == 1);  // the crash came after authentication
  server.Restart();
  CHECK(server.Jobs(id) == 0);  // the job was never stored
  CHECK(server.devices->CountNonces().value() == 2);  // the registration's and the lost request's

  // A copy of the lost request (captured on the network, or delivered twice) is a replay: it
  // is refused, across the restart, and stores nothing.
  const HttpResponse replay = server.gateway->Handle(captured, kNow + 1000);
  CHECK(replay.status == 401);
  CHECK(ParseError(replay).code == "replayed_request");
  CHECK(server.Jobs(id) == 0);

  // The device's retry (same idempotency key, new timestamp, nonce and signature) makes the job.
  const HttpResponse retry = server.gateway->Handle(dev.Sign(Submit(), kNow + 2000), kNow + 2000);
  CHECK(retry.status == 201);
  const std::string job_id = ParseJob(retry.body).value().id;
  CHECK(server.Jobs(id) == 1);
  // And any later retry gets the same job: exactly once in effect.
  const HttpResponse again = server.gateway->Handle(dev.Sign(Submit(), kNow + 3000), kNow + 3000);
  CHECK(again.status == 200);
  CHECK(ParseJob(again.body).value().id == job_id);
  CHECK(server.Jobs(id) == 1);
}

}  // namespace
}  // namespace cairn::sync
