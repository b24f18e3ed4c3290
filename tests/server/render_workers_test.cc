// The render workers over a real SqliteJobStore: caption-hq on the tiny test pack (verified,
// native ONNX Runtime), job errors, cancellation, the drain on Stop, and workers that die or
// stall mid-job (the lease lapses, another worker completes the job exactly once; the first
// worker's result is refused).
#include "server/render_workers.h"

#include <catch_amalgamated.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "server/caption_hq_model.h"
#include "server/caption_hq_renderer.h"
#include "sync/sqlite_job_store.h"
#include "tests/support/test_packs.h"

namespace cairn::server {
namespace {

using nlohmann::json;
using sync::JobState;

constexpr int64_t kLeaseMs = 1000;
constexpr char kDevice[] = "dev-a";
constexpr char kPayload[] =
    R"({"task":"Write 2 captions","context":"pier at sunset; sea, sky","count":2,"max_chars":40})";

// One connection to the queue's database with its service, as one server process has.
struct Queue {
  std::unique_ptr<sync::SqliteJobStore> store;
  std::unique_ptr<sync::JobService> service;
  std::mutex mu;
  LockedJobLeases leases{*service, mu};

  explicit Queue(const std::string& path)
      : store(sync::SqliteJobStore::Open({.path = path}).value()),
        service(std::make_unique<sync::JobService>(
            *store, sync::ServiceOptions{.lease_ms = kLeaseMs, .max_attempts = 5, .id_key = {}})) {}

  std::string Submit(std::string key, sync::JobKind kind, std::string payload, int64_t now) {
    std::lock_guard<std::mutex> lock(mu);
    sync::JobSubmission s{std::move(key), kind, sync::Preset::kFinal, std::move(payload)};
    return service->Submit(kDevice, s, now).value().job.id;
  }
  sync::StoredJob Stored(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu);
    return store->Get(id).value().value();
  }
  json Result(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu);
    return json::parse(service->GetResult(kDevice, id).value().result_json);
  }
};

// Waits (10 s at most; ASan is slow) until `done` holds.
bool WaitUntil(const std::function<bool()>& done, int seconds = 30) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// The tiny pack, signed with a throwaway key and loaded once for every test.
const CaptionHqModel& TinyModel() {
  static testing::TempDir dir;
  static std::unique_ptr<CaptionHqModel> model = [] {
    testing::SignedPack pack = testing::MakeSignedPack(dir, "tiny-llama");
    std::vector<std::string> skipped;
    auto m = LoadCaptionHqModel({.models_dir = dir.path(), .model_id = "", .trust = pack.trust},
                                &skipped);
    REQUIRE(m.ok());
    return std::move(*m);
  }();
  return *model;
}

// Holds every render at its start until opened, like a worker process that stalls (or dies:
// a dead one is a stalled one that never resumes).
class GatedRenderer final : public JobRenderer {
 public:
  explicit GatedRenderer(JobRenderer& inner) : inner_(inner) {}
  RenderOutput Render(const sync::Lease& lease, const std::atomic<bool>& cancel) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++entered_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    return inner_.Render(lease, cancel);
  }
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    REQUIRE(cv_.wait_for(lock, std::chrono::seconds(30), [&] { return entered_ > 0; }));
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  JobRenderer& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool open_ = false;
};

// Renders until cancelled (a job that runs for ever).
class EndlessRenderer final : public JobRenderer {
 public:
  RenderOutput Render(const sync::Lease&, const std::atomic<bool>& cancel) override {
    started = true;
    while (!cancel) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return {R"({"never":"kept"})", "", ""};
  }
  std::atomic<bool> started{false};
};

WorkerOptions Options(std::string name, const Clock* clock = nullptr, int workers = 1) {
  return {.workers = workers, .lease_ms = kLeaseMs, .poll_ms = 20, .drain_ms = 30'000,
          .name = std::move(name), .clock = clock, .log = false};
}

TEST_CASE("a worker renders a caption-hq job on the tiny pack: HQ captions with cloud provenance") {
  testing::TempDir dir;
  Queue q(dir / "jobs.db");
  CaptionHqRenderer renderer(&*TinyModel().model);
  const std::string id = q.Submit("key-hq-0123456789ab", sync::JobKind::kCaptionHq, kPayload, 1);
  WorkerPool pool(q.leases, renderer, Options("w", nullptr, 2));
  pool.Start();
  REQUIRE(WaitUntil([&] { return q.Stored(id).state == JobState::kDone; }));
  const json r = q.Result(id);
  REQUIRE(r["captions"].size() == 2);
  for (const json& c : r["captions"]) {
    CHECK(c["text"].is_string());
    CHECK(c["safety"]["level"].is_string());
  }
  CHECK(r["provenance"]["tier"] == "cloud");
  CHECK(r["provenance"]["backend"] == "ort-native-cpu");
  CHECK(r["provenance"]["preset"] == "final");
  CHECK(r["provenance"]["quantization"] == "fp32");
  CHECK(r["provenance"]["model_id"] == "cairn-test-tiny-llama");
  CHECK(r["hq"]["rounds"].get<int>() >= kHqRounds);
  CHECK(r["hq"]["candidates"].get<int>() >= 4);  // 2x what was asked for
  CHECK(r["hq"]["seeds"][0] == r["provenance"]["seed"]);
  CHECK(q.Stored(id).attempts == 1);
  pool.Stop();
  const WorkerStats s = pool.Stats();
  CHECK(s.done == 1);
  CHECK(s.failed == 0);
  CHECK(s.busy == 0);
  CHECK(s.run_seconds > 0);
  CHECK_THAT(WorkerMetricsText(s),
             Catch::Matchers::ContainsSubstring("cairn_worker_jobs_total{outcome=\"done\"} 1\n"));
}

TEST_CASE("two workers render jobs at once on the one shared model") {
  testing::TempDir dir;
  Queue q(dir / "jobs.db");
  CaptionHqRenderer renderer(&*TinyModel().model);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    const std::string key = "key-many-" + std::to_string(i) + "-0123456789";
    ids.push_back(q.Submit(key, sync::JobKind::kCaptionHq, kPayload, 1 + i));
  }
  WorkerPool pool(q.leases, renderer, Options("w", nullptr, 2));
  pool.Start();
  for (const std::string& id : ids) {
    REQUIRE(WaitUntil([&] { return q.Stored(id).state == JobState::kDone; }));
    CHECK(q.Result(id)["captions"].size() == 2);
    CHECK(q.Stored(id).attempts == 1);
  }
  pool.Stop();
  CHECK(pool.Stats().done == 4);
}

TEST_CASE("the same payload and job render the same captions (the seed comes from the job)") {
  const CaptionHqPayload p = ParseCaptionHqPayload(kPayload, "job-one").value();
  const std::string a = RenderCaptionHq(*TinyModel().model, p, nullptr).value();
  const std::string b = RenderCaptionHq(*TinyModel().model, p, nullptr).value();
  CHECK(json::parse(a)["captions"] == json::parse(b)["captions"]);
}

TEST_CASE("jobs fail with a clear code: bad payload, no model, image export") {
  testing::TempDir dir;
  Queue q(dir / "jobs.db");
  CaptionHqRenderer with_model(&*TinyModel().model);
  CaptionHqRenderer without_model(nullptr);
  const bool has_model = GENERATE(true, false);
  const std::string bad = q.Submit("key-bad-0123456789a", sync::JobKind::kCaptionHq,
                                   R"({"task":"t","colour":"red"})", 1);
  const std::string image = q.Submit("key-img-0123456789a", sync::JobKind::kImageExport, "{}", 2);
  const std::string good = q.Submit("key-good-0123456789", sync::JobKind::kCaptionHq, kPayload, 3);
  WorkerPool pool(q.leases, has_model ? with_model : without_model, Options("w"));
  pool.Start();
  for (const std::string& id : {bad, image, good}) {
    REQUIRE(WaitUntil([&] { return sync::IsTerminal(q.Stored(id).state); }));
  }
  CHECK(q.Stored(bad).state == JobState::kFailed);
  CHECK(q.Stored(bad).error_code == "bad_payload");
  CHECK_THAT(q.Stored(bad).error_message, Catch::Matchers::ContainsSubstring("'colour'"));
  CHECK(q.Stored(image).error_code == "unsupported_kind");
  CHECK_THAT(q.Stored(image).error_message,
             Catch::Matchers::ContainsSubstring("does not render image-export"));
  if (has_model) {
    CHECK(q.Stored(good).state == JobState::kDone);
  } else {
    CHECK(q.Stored(good).state == JobState::kFailed);
    CHECK(q.Stored(good).error_code == "no_model");
  }
  pool.Stop();
  CHECK(pool.Stats().failed == (has_model ? 2u : 3u));
}

TEST_CASE("a worker stalled mid-job loses it: the lease lapses, another worker completes it once") {
  testing::TempDir dir;
  Queue qa(dir / "jobs.db"), qb(dir / "jobs.db");  // two server processes sharing the store
  const int64_t t0 = 1'700'000'000'000;
  ManualClock clock_a(t0), clock_b(t0);
  CaptionHqRenderer real(&*TinyModel().model);
  GatedRenderer stalled(real);
  const std::string id = qa.Submit("key-kill-0123456789", sync::JobKind::kCaptionHq, kPayload, t0);

  WorkerPool a(qa.leases, stalled, Options("a", &clock_a));
  a.Start();
  stalled.WaitEntered();  // worker a holds the job (attempt 1) and stalls: its clock stops too
  CHECK(qa.Stored(id).state == JobState::kRunning);
  CHECK(qa.Stored(id).worker_id == "a-1");

  clock_b.AdvanceMillis(5 * kLeaseMs);  // long after a's lease ran out
  WorkerPool b(qb.leases, real, Options("b", &clock_b));
  b.Start();
  REQUIRE(WaitUntil([&] { return qb.Stored(id).state == JobState::kDone; }));
  const sync::StoredJob done = qb.Stored(id);
  CHECK(done.attempts == 2);
  CHECK(done.worker_id == "b-1");
  b.Stop();
  CHECK(b.Stats().done == 1);

  stalled.Open();  // a wakes up and finishes (or is told it lost the job)
  REQUIRE(WaitUntil([&] { return a.Stats().abandoned + a.Stats().refused == 1; }));
  a.Stop();
  CHECK(a.Stats().done == 0);
  CHECK(qa.Stored(id) == done);  // nothing a did changed the job: done once, b's result
}

TEST_CASE("a worker died mid-job: its lease lapses, the job is done once, a late result refused") {
  testing::TempDir dir;
  Queue q(dir / "jobs.db");
  const int64_t t0 = 1'700'000'000'000;
  ManualClock clock(t0);
  const std::string id = q.Submit("key-dead-0123456789", sync::JobKind::kCaptionHq, kPayload, t0);
  const sync::Lease dead = q.leases.Claim("dead-1", t0).value().value();  // then it dies
  CaptionHqRenderer real(&*TinyModel().model);
  WorkerPool pool(q.leases, real, Options("w", &clock));
  pool.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(q.Stored(id).state == JobState::kRunning);  // not before the lease lapses
  CHECK(q.Stored(id).attempts == 1);
  clock.AdvanceMillis(kLeaseMs + 1);
  pool.Wake();
  REQUIRE(WaitUntil([&] { return q.Stored(id).state == JobState::kDone; }));
  pool.Stop();
  const sync::StoredJob done = q.Stored(id);
  CHECK(done.attempts == 2);
  const Status late = q.leases.Complete(dead, R"({"captions":[]})", clock.NowUnixMillis());
  CHECK(late.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(late.message(), Catch::Matchers::ContainsSubstring("stale lease"));
  CHECK(q.Stored(id) == done);
}

TEST_CASE("a job cancelled by its device stops its render; nothing is written") {
  testing::TempDir dir;
  Queue q(dir / "jobs.db");
  EndlessRenderer endless;
  const std::string id = q.Submit("key-cancel-01234567", sync::JobKind::kCaptionHq, kPayload, 1);
  WorkerPool pool(q.leases, endless, Options("w"));
  pool.Start();
  REQUIRE(WaitUntil([&] { return endless.started.load(); }));
  {
    std::lock_guard<std::mutex> lock(q.mu);
    REQUIRE(q.service->Cancel(kDevice, id, 2).ok());
  }
  // The keeper's next renewal (every lease / 3) is refused and cancels the render.
  REQUIRE(WaitUntil([&] { return pool.Stats().abandoned == 1; }));
  CHECK(q.Stored(id).state == JobState::kCancelled);
  CHECK(q.Stored(id).result_json.empty());
  pool.Stop();
}

TEST_CASE("Stop drains: a running job finishes first; past the drain time it is left to lapse") {
  testing::TempDir dir;
  Queue q(dir / "jobs.db");
  const bool in_time = GENERATE(true, false);
  CaptionHqRenderer real(&*TinyModel().model);
  EndlessRenderer endless;
  GatedRenderer gated(real);
  const std::string id = q.Submit("key-drain-012345678", sync::JobKind::kCaptionHq, kPayload, 1);
  WorkerOptions o = Options("w");
  o.drain_ms = in_time ? 60'000 : 200;
  WorkerPool pool(q.leases, in_time ? static_cast<JobRenderer&>(gated) : endless, o);
  pool.Start();
  if (in_time) {
    gated.WaitEntered();
    gated.Open();
  } else {
    REQUIRE(WaitUntil([&] { return endless.started.load(); }));
  }
  pool.Stop();  // returns once the job is done, or the drain time is up
  if (in_time) {
    CHECK(q.Stored(id).state == JobState::kDone);
    CHECK(pool.Stats().done == 1);
  } else {
    // Not failed, not lost: still running under a lease that will lapse, then claimed again.
    CHECK(q.Stored(id).state == JobState::kRunning);
    CHECK(pool.Stats().abandoned == 1);
    const int64_t later = SystemClock::Default().NowUnixMillis() + 10 * kLeaseMs;
    const sync::Lease again = q.leases.Claim("next", later).value().value();
    CHECK(again.job_id == id);
    CHECK(again.attempt == 2);
  }
}

TEST_CASE("the caption model is chosen by id or as the first verified caption-lm pack") {
  testing::TempDir dir;
  testing::SignedPack gpt2 = testing::MakeSignedPack(dir, "tiny-gpt2");
  testing::SignedPack llama = testing::MakeSignedPack(dir, "tiny-llama");
  std::vector<std::string> skipped;
  model::TrustStore only_llama = llama.trust;
  // tiny-gpt2 comes first by name, but its signer is not trusted: passed over, saying why.
  auto first = LoadCaptionHqModel({.models_dir = dir.path(), .model_id = "", .trust = only_llama},
                                  &skipped);
  REQUIRE(first.ok());
  CHECK((*first)->pack.manifest.id == "cairn-test-tiny-llama");
  REQUIRE(skipped.size() == 1);
  CHECK_THAT(skipped[0], Catch::Matchers::ContainsSubstring("tiny-gpt2"));

  auto by_id = LoadCaptionHqModel(
      {.models_dir = dir.path(), .model_id = "cairn-test-tiny-gpt2", .trust = only_llama}, nullptr);
  REQUIRE_FALSE(by_id.ok());  // asked for by id, it must verify
  auto missing = LoadCaptionHqModel(
      {.models_dir = dir.path(), .model_id = "nope", .trust = only_llama}, nullptr);
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK_THAT(missing.status().message(),
             Catch::Matchers::ContainsSubstring("no pack with id nope"));
  auto none = LoadCaptionHqModel(
      {.models_dir = dir / "absent", .model_id = "", .trust = only_llama}, nullptr);
  CHECK_THAT(none.status().message(), Catch::Matchers::ContainsSubstring("cannot list"));
}

}  // namespace
}  // namespace cairn::server
