// PgJobStore's own behaviour (the JobService rules run on it in job_service_test.cc): several
// connections claiming from one queue, as several cairn-server instances do; the schema
// version; errors that name the store and never the password; reconnecting. And PgDeviceStore
// shared by several servers (the authentication rules run on it in
// device_authenticator_test.cc): one registration for all, one acceptance per nonce.
#include "sync/pg_job_store.h"

#include <catch_amalgamated.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <atomic>

#include "sync/device_authenticator.h"
#include "sync/job_service.h"
#include "sync/pg_device_store.h"
#include "sync/sqlite_job_store.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/temp_dir.h"

namespace cairn::sync {
namespace {

testing::PgCluster& Cluster() {
  std::string why;
  testing::PgCluster* pg = testing::PgCluster::Shared(&why);
  if (pg == nullptr) SKIP(why);
  return *pg;
}

JobSubmission Sub(int i) {
  return {"key-" + std::to_string(1'000'000 + i) + "-abcdef", JobKind::kCaptionHq, Preset::kFinal,
          R"({"task":"x"})"};
}

using OpenStore = std::function<std::unique_ptr<JobStore>()>;

struct ClaimRun {
  std::map<std::string, int> claims;  // job id -> how many times a worker got it
  int done = 0;
  double seconds = 0;
};

// `workers` threads, each with its own connection and JobService (as separate server instances
// have), claim and complete until every one of `jobs` jobs is done.
ClaimRun ClaimConcurrently(const OpenStore& open, int jobs, int workers) {
  {
    std::unique_ptr<JobStore> store = open();
    JobService service(*store, ServiceOptions{});
    for (int i = 0; i < jobs; ++i) REQUIRE(service.Submit("dev-a", Sub(i), 0).ok());
  }
  ClaimRun run;
  std::mutex mu;
  std::atomic<int> done{0};
  std::atomic<int> errors{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      std::unique_ptr<JobStore> store = open();
      JobService service(*store, ServiceOptions{});
      const std::string me = "w" + std::to_string(w);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (done.load() < jobs && std::chrono::steady_clock::now() < deadline) {
        auto lease = service.Claim(me, 1);
        if (!lease.ok()) {
          ++errors;  // kUnavailable under contention is allowed; counted, then retried
          continue;
        }
        if (!lease->has_value()) continue;  // others hold the rest: poll again
        {
          std::lock_guard<std::mutex> lock(mu);
          ++run.claims[(*lease)->job_id];
        }
        if (service.Complete(**lease, R"({"by":")" + me + R"("})", 2).ok()) ++done;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.done = done.load();
  CHECK(errors.load() <= jobs);  // a few busy retries, not a storm
  return run;
}

TEST_CASE("several connections claim from one PostgreSQL queue: each job exactly once") {
  testing::PgCluster& pg = Cluster();
  const std::string url = pg.NewDatabase();
  constexpr int kJobs = 300, kWorkers = 6;
  ClaimRun run = ClaimConcurrently([&] { return PgJobStore::Open({.url = url}).value(); }, kJobs,
                                   kWorkers);
  CHECK(run.done == kJobs);
  CHECK(run.claims.size() == static_cast<size_t>(kJobs));
  for (const auto& [id, n] : run.claims) {
    CAPTURE(id);
    CHECK(n == 1);
  }
  // Every job done, at attempt 1, in the store too.
  auto store = PgJobStore::Open({.url = url}).value();
  auto feed = store->ChangesSince("dev-a", 0, kJobs + 1).value();
  REQUIRE(feed.size() == static_cast<size_t>(kJobs));
  for (const StoredJob& j : feed) {
    CHECK(j.state == JobState::kDone);
    CHECK(j.attempts == 1);
  }
  // The same run on SQLite (separate connections to one WAL file), for comparison.
  testing::TempDir dir;
  ClaimRun lite = ClaimConcurrently(
      [&] { return SqliteJobStore::Open({.path = dir / "jobs.db"}).value(); }, kJobs, kWorkers);
  CHECK(lite.done == kJobs);
  // Not a benchmark: the test cluster runs with fsync off, SQLite with synchronous=FULL.
  std::printf("claim+complete, %d jobs, %d connections: PostgreSQL (fsync off) %.0f jobs/s, "
              "SQLite %.0f jobs/s\n", kJobs, kWorkers, kJobs / run.seconds, kJobs / lite.seconds);
}

TEST_CASE("a submission raced from several connections is inserted once") {
  const std::string url = Cluster().NewDatabase();
  constexpr int kConnections = 6;
  std::atomic<int> inserted{0};
  std::vector<std::thread> threads;
  std::vector<std::string> ids(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    threads.emplace_back([&, i] {
      auto store = PgJobStore::Open({.url = url}).value();
      StoredJob j;
      j.id = "job-raced";
      j.device_id = "dev-a";
      j.idempotency_key = "key-raced-0123456789";
      j.payload_json = "{}";
      auto out = store->InsertOrGet(j);
      if (out.ok()) {
        if (out->inserted) ++inserted;
        ids[i] = out->job.id;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(inserted.load() == 1);
  for (const std::string& id : ids) CHECK(id == "job-raced");
}

TEST_CASE("the schema is made once, versioned; a newer schema is refused") {
  testing::PgCluster& pg = Cluster();
  const std::string url = pg.NewDatabase();
  REQUIRE(PgJobStore::Open({.url = url}).ok());
  REQUIRE(PgJobStore::Open({.url = url}).ok());  // already there: used as it is
  pg.Sql("UPDATE cairn_schema SET version = 3 WHERE name = 'jobs'", url);
  Status newer = PgJobStore::Open({.url = url}).status();
  CHECK(newer.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(newer.message(), Catch::Matchers::ContainsSubstring("schema is version 3"));
}

TEST_CASE("a version 1 jobs schema (before retention) is brought to version 2, jobs kept") {
  testing::PgCluster& pg = Cluster();
  const std::string url = pg.NewDatabase();
  std::string id;
  {
    auto store = PgJobStore::Open({.url = url}).value();
    JobService service(*store, ServiceOptions{});
    id = service.Submit("dev-a", Sub(1), 0).value().job.id;
    REQUIRE(service.Cancel("dev-a", id, 5).ok());
  }
  // What a server before retention left: no expired_jobs, no jobs_finished, version 1.
  pg.Sql("DROP TABLE expired_jobs; DROP INDEX jobs_finished; "
         "UPDATE cairn_schema SET version = 1 WHERE name = 'jobs'",
         url);
  {
    auto store = PgJobStore::Open({.url = url}).value();
    JobService service(*store, ServiceOptions{});
    CHECK(service.Get("dev-a", id).value().state == JobState::kCancelled);
    CHECK(service.ExpireFinished(100, 10).value() == 1);
    CHECK(ApiErrorFromStatus(service.Get("dev-a", id).status()).code == "job_expired");
  }
  // Version 2 now: used as it is (a second migration would fail on the existing table).
  auto again = PgJobStore::Open({.url = url});
  REQUIRE(again.ok());
  CHECK(ApiErrorFromStatus(JobService(**again, ServiceOptions{}).Submit("dev-a", Sub(1), 9)
                               .status())
            .code == "job_expired");
}

// Retention's promise under concurrency (sync/job_store.h): a submission racing the expiry of
// its key's job, on another connection (another server), gets the job or job_expired, never a
// fresh job that would run again.
TEST_CASE("a replay racing its job's expiry gets the job or job_expired, never a new job") {
  const std::string url = Cluster().NewDatabase();
  auto setup = PgJobStore::Open({.url = url}).value();
  JobService service(*setup, ServiceOptions{});
  auto expirer_store = PgJobStore::Open({.url = url}).value();
  auto replayer_store = PgJobStore::Open({.url = url}).value();
  JobService expirer(*expirer_store, ServiceOptions{});
  JobService replayer(*replayer_store, ServiceOptions{});
  int returned = 0, expired = 0;
  for (int round = 0; round < 20; ++round) {
    const JobSubmission sub = Sub(round);
    const std::string id = service.Submit("dev-a", sub, 0).value().job.id;
    REQUIRE(service.Cancel("dev-a", id, 1).ok());
    std::atomic<bool> go{false};
    Result<int64_t> removed = 0;  // checked after the join: Catch2 asserts on one thread only
    std::thread expiring([&] {
      while (!go.load()) std::this_thread::yield();
      removed = expirer.ExpireFinished(100, 10);
    });
    go = true;
    for (int i = 0; i < 30; ++i) {
      Result<SubmitOutcome> r = replayer.Submit("dev-a", sub, 50);
      if (r.ok()) {
        CHECK_FALSE(r->created);
        CHECK(r->job.id == id);
        CHECK(r->job.state == JobState::kCancelled);
        ++returned;
      } else {
        CHECK(ApiErrorFromStatus(r.status()).code == "job_expired");
        ++expired;
      }
    }
    expiring.join();
    CHECK(removed.value() == 1);
    CHECK(ApiErrorFromStatus(replayer.Submit("dev-a", sub, 60).status()).code == "job_expired");
  }
  CHECK(setup->Claimable(1000, 10).value().empty());  // nothing was queued to run again
  CHECK(returned + expired == 20 * 30);
  CHECK(returned > 0);  // the replays did run before the expiry too (not only after it)
}

TEST_CASE("errors name the store and what failed, never the password") {
  testing::PgCluster& pg = Cluster();
  const std::string secret = "s3cret-pa55word";
  Status refused =
      PgJobStore::Open({.url = "postgresql://cairn:" + secret + "@/cairn?host=" + pg.dir() +
                               "-missing&connect_timeout=2"})
          .status();
  CHECK(refused.code() == StatusCode::kUnavailable);
  CHECK_THAT(refused.message(), Catch::Matchers::ContainsSubstring("cairn@" + pg.dir() +
                                                                   "-missing/cairn"));
  CHECK_THAT(refused.message(), Catch::Matchers::ContainsSubstring("connecting failed"));
  CHECK(refused.message().find(secret) == std::string::npos);

  Status garbled = PgJobStore::Open({.url = "postgresql://cairn:" + secret + "@/%zz"}).status();
  CHECK(garbled.code() == StatusCode::kInvalidArgument);
  CHECK(garbled.message().find(secret) == std::string::npos);

  Status no_db = PgJobStore::Open({.url = pg.UrlOf("nope")}).status();
  CHECK_THAT(no_db.message(), Catch::Matchers::ContainsSubstring("nope"));
}

TEST_CASE("a lost connection is kUnavailable once, then reopened") {
  testing::PgCluster& pg = Cluster();
  const std::string url = pg.NewDatabase();
  auto store = PgJobStore::Open({.url = url}).value();
  JobService service(*store, ServiceOptions{});
  const std::string id = service.Submit("dev-a", Sub(1), 0).value().job.id;
  pg.Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
         " AND pid <> pg_backend_pid()", url);
  Status lost = service.Get("dev-a", id).status();
  CHECK(lost.code() == StatusCode::kUnavailable);
  CHECK_THAT(lost.message(), Catch::Matchers::ContainsSubstring("PostgreSQL job store"));
  CHECK(service.Get("dev-a", id).value().state == JobState::kAccepted);
}

// Two cairn-server instances on one database: each its own connection and authenticator.
struct SharedDeviceServer {
  std::unique_ptr<PgDeviceStore> store;
  std::unique_ptr<DeviceAuthenticator> auth;
  explicit SharedDeviceServer(const std::string& url)
      : store(PgDeviceStore::Open({.url = url}).value()),
        auth(std::make_unique<DeviceAuthenticator>(*store, AuthOptions{})) {}
};

TEST_CASE("devices and nonces are shared: register on one server, use another, no replay across") {
  const std::string url = Cluster().NewDatabase();
  SharedDeviceServer a(url), b(url);
  constexpr int64_t kNow = 1'700'000'000'000;
  RequestSigner dev(crypto::GenerateSigningKeyPair());
  HttpRequest reg = MakeRegisterRequest(dev.public_key());
  REQUIRE(dev.Sign(reg, kNow, NewNonce()).ok());
  REQUIRE(a.auth->Register(reg, kNow).value().created);
  // B never saw the registration, and knows the device.
  HttpRequest get = MakeChangesRequest(0);
  REQUIRE(dev.Sign(get, kNow, NewNonce()).ok());
  CHECK(b.auth->Authenticate(get, kNow).value() == dev.device_id());
  // A request B accepted, replayed to A, and the registration replayed to B: refused.
  Status replay = a.auth->Authenticate(get, kNow + 1).status();
  CHECK(ApiErrorFromStatus(replay).code == "replayed_request");
  CHECK(ApiErrorFromStatus(b.auth->Register(reg, kNow + 1).status()).code == "replayed_request");
  // Registering again through B (fresh nonce): the same device, not a new one.
  REQUIRE(dev.Sign(reg, kNow + 2, NewNonce()).ok());
  CHECK(!b.auth->Register(reg, kNow + 2).value().created);
  CHECK(a.store->CountNonces().value() == 3);
}

TEST_CASE("one signed request sent to two servers at once is accepted by exactly one") {
  const std::string url = Cluster().NewDatabase();
  SharedDeviceServer a(url), b(url);
  constexpr int64_t kNow = 1'700'000'000'000;
  RequestSigner dev(crypto::GenerateSigningKeyPair());
  HttpRequest reg = MakeRegisterRequest(dev.public_key());
  REQUIRE(dev.Sign(reg, kNow, NewNonce()).ok());
  REQUIRE(a.auth->Register(reg, kNow).ok());
  constexpr int kRounds = 40;
  int accepted_twice = 0, accepted_never = 0;
  for (int i = 0; i < kRounds; ++i) {
    HttpRequest get = MakeChangesRequest(i);
    REQUIRE(dev.Sign(get, kNow + i, NewNonce()).ok());
    std::atomic<int> ok{0}, replayed{0};
    auto send = [&](SharedDeviceServer& s) {
      Result<std::string> r = s.auth->Authenticate(get, kNow + i);
      if (r.ok()) ++ok;
      if (!r.ok() && ApiErrorFromStatus(r.status()).code == "replayed_request") ++replayed;
    };
    std::thread ta([&] { send(a); });
    std::thread tb([&] { send(b); });
    ta.join();
    tb.join();
    if (ok == 2) ++accepted_twice;
    if (ok == 0) ++accepted_never;
    CHECK(ok + replayed == 2);
  }
  CHECK(accepted_twice == 0);
  CHECK(accepted_never == 0);
}

TEST_CASE("the device schema is versioned; a newer one is refused") {
  const std::string url = Cluster().NewDatabase();
  REQUIRE(PgDeviceStore::Open({.url = url}).ok());
  REQUIRE(PgDeviceStore::Open({.url = url}).ok());  // opening again finds it made
  Cluster().Sql("UPDATE cairn_schema SET version = 2 WHERE name = 'devices'", url);
  Status newer = PgDeviceStore::Open({.url = url}).status();
  CHECK(newer.code() == StatusCode::kFailedPrecondition);
  CHECK(newer.message().find("devices schema is version 2") != std::string::npos);
}

}  // namespace
}  // namespace cairn::sync
