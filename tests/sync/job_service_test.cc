#include "sync/job_service.h"

#include <catch_amalgamated.hpp>

#include <algorithm>
#include <set>

#include "tests/sync/job_store_kinds.h"

namespace cairn::sync {
namespace {

JobSubmission Sub(std::string key, std::string payload = R"({"task":"x"})") {
  return {std::move(key), JobKind::kCaptionHq, Preset::kFinal, std::move(payload)};
}

const std::string kKeyA = "aaaaaaaaaaaaaaaa-1";
const std::string kKeyB = "bbbbbbbbbbbbbbbb-2";

struct Server {
  std::unique_ptr<StoreUnderTest> where;
  std::unique_ptr<JobStore> store;
  std::unique_ptr<JobService> service;
  ServiceOptions options{.lease_ms = 1000, .max_attempts = 3, .id_key = {}};
  explicit Server(const std::string& kind) : where(MakeStoreUnderTest(kind)) { Reopen(); }
  void Reopen() {
    service.reset();
    store.reset();
    store = where->Open().value();
    service = std::make_unique<JobService>(*store, options);
  }
};

// The rest of the test runs once per store kind (job_store_kinds.h); failures name the kind.
#define SERVER_ON_EACH_STORE(s)                                       \
  const std::string store_kind = GENERATE(from_range(JobStoreKinds())); \
  CAPTURE(store_kind);                                                \
  Server s(store_kind)

TEST_CASE("a repeated submission returns the same job; a different one under the key is refused") {
  SERVER_ON_EACH_STORE(s);
  SubmitOutcome first = s.service->Submit("dev-a", Sub(kKeyA), 100).value();
  CHECK(first.created);
  CHECK(first.job.state == JobState::kAccepted);
  CHECK(first.job.id.size() == 32);
  SubmitOutcome again = s.service->Submit("dev-a", Sub(kKeyA), 200).value();
  CHECK_FALSE(again.created);
  CHECK(again.job.id == first.job.id);
  CHECK(again.job.created_at_ms == 100);
  Status reused = s.service->Submit("dev-a", Sub(kKeyA, R"({"task":"y"})"), 300).status();
  CHECK(ApiErrorFromStatus(reused).code == "key_reused");
  CHECK(ApiErrorFromStatus(reused).http_status == 409);
  // The same key from another device is another job.
  SubmitOutcome other = s.service->Submit("dev-b", Sub(kKeyA), 400).value();
  CHECK(other.created);
  CHECK(other.job.id != first.job.id);
}

TEST_CASE("a device can never read, fetch or cancel another device's job") {
  SERVER_ON_EACH_STORE(s);
  std::string id = s.service->Submit("dev-a", Sub(kKeyA), 1).value().job.id;
  for (const Status& st : {s.service->Get("dev-b", id).status(),
                           s.service->GetResult("dev-b", id).status(),
                           s.service->Cancel("dev-b", id, 2).status()}) {
    CHECK(ApiErrorFromStatus(st).code == "not_found");
    CHECK(ApiErrorFromStatus(st).message == "no job " + id);  // exactly as for a missing job
  }
  CHECK(s.service->Changes("dev-b", 0, 10).value().jobs.empty());
  CHECK(s.service->Get("dev-a", id).value().state == JobState::kAccepted);
}

TEST_CASE("a lease that expires hands the job to another worker; the stale one cannot finish") {
  SERVER_ON_EACH_STORE(s);
  std::string id = s.service->Submit("dev-a", Sub(kKeyA), 0).value().job.id;
  Lease w1 = s.service->Claim("w1", 10).value().value();
  CHECK(w1.job_id == id);
  CHECK(w1.attempt == 1);
  CHECK_FALSE(s.service->Claim("w2", 500).value().has_value());  // leased
  Lease w2 = s.service->Claim("w2", 1010).value().value();      // w1's lease expired
  CHECK(w2.attempt == 2);
  Status stale = s.service->Complete(w1, R"({"by":"w1"})", 1020);
  CHECK(stale.code() == StatusCode::kFailedPrecondition);
  CHECK(stale.message().rfind("stale lease", 0) == 0);
  CHECK(s.service->Renew(w1, 1020).status().code() == StatusCode::kFailedPrecondition);
  REQUIRE(s.service->Complete(w2, R"({"by":"w2"})", 1030).ok());
  CHECK(s.service->GetResult("dev-a", id).value().result_json == R"({"by":"w2"})");
  // Done is final: the same lease cannot complete it twice.
  CHECK(s.service->Complete(w2, R"({"by":"w2 again"})", 1040).code() ==
        StatusCode::kFailedPrecondition);
  CHECK(s.service->GetResult("dev-a", id).value().result_json == R"({"by":"w2"})");
}

TEST_CASE("renewing keeps a slow worker's lease; lost leases end in worker_lost") {
  SERVER_ON_EACH_STORE(s);
  std::string id = s.service->Submit("dev-a", Sub(kKeyA), 0).value().job.id;
  Lease l = s.service->Claim("w1", 0).value().value();
  l = s.service->Renew(l, 900).value();
  CHECK(l.expires_at_ms == 1900);
  CHECK_FALSE(s.service->Claim("w2", 1500).value().has_value());
  CHECK(s.service->Claim("w2", 1900).value().has_value());  // attempt 2
  CHECK(s.service->Claim("w3", 2900).value().has_value());  // attempt 3 = max
  CHECK_FALSE(s.service->Claim("w4", 3900).value().has_value());
  JobView v = s.service->Get("dev-a", id).value();
  CHECK(v.state == JobState::kFailed);
  CHECK(v.error_code == "worker_lost");
}

TEST_CASE("cancelling a running job fences its worker; cancelling again changes nothing") {
  SERVER_ON_EACH_STORE(s);
  std::string id = s.service->Submit("dev-a", Sub(kKeyA), 0).value().job.id;
  Lease l = s.service->Claim("w1", 0).value().value();
  CHECK(s.service->Cancel("dev-a", id, 5).value().state == JobState::kCancelled);
  CHECK(s.service->Complete(l, "{}", 6).code() == StatusCode::kFailedPrecondition);
  JobView again = s.service->Cancel("dev-a", id, 7).value();
  CHECK(again.state == JobState::kCancelled);
  CHECK(ApiErrorFromStatus(s.service->GetResult("dev-a", id).status()).code == "not_ready");
  CHECK_FALSE(s.service->Claim("w2", 5000).value().has_value());
}

TEST_CASE("the changes feed pages by seq and survives a server restart") {
  SERVER_ON_EACH_STORE(s);
  std::string a = s.service->Submit("dev-a", Sub(kKeyA), 0).value().job.id;
  s.service->Submit("dev-a", Sub(kKeyB), 0).value();
  s.service->Submit("dev-b", Sub(kKeyA), 0).value();
  ChangesPage p1 = s.service->Changes("dev-a", 0, 1).value();
  REQUIRE(p1.jobs.size() == 1);
  CHECK(p1.more);
  ChangesPage p2 = s.service->Changes("dev-a", p1.next_since, 1).value();
  REQUIRE(p2.jobs.size() == 1);
  CHECK_FALSE(p2.more);
  CHECK(p2.jobs[0].seq > p1.jobs[0].seq);
  s.Reopen();
  Lease l = s.service->Claim("w", 10).value().value();
  CHECK(l.job_id == a);  // oldest first
  ChangesPage p3 = s.service->Changes("dev-a", p2.next_since, 10).value();
  REQUIRE(p3.jobs.size() == 1);
  CHECK(p3.jobs[0].state == JobState::kRunning);
  CHECK(ApiErrorFromStatus(s.service->Changes("dev-a", -1, 10).status()).code == "bad_value");
  CHECK(ApiErrorFromStatus(s.service->Changes("dev-a", 0, 501).status()).code == "bad_value");
}

// Retention (issue 7): a job that finished longer than the retention ago is removed; what is
// left answers a replay of its submission and any request for its id with job_expired.
TEST_CASE("retention removes finished jobs past it; unfinished and younger ones stay") {
  SERVER_ON_EACH_STORE(s);
  constexpr int64_t kRetention = 1000;
  const std::string done = s.service->Submit("dev-a", Sub(kKeyA), 0).value().job.id;
  Lease l = s.service->Claim("w1", 1).value().value();
  REQUIRE(s.service->Complete(l, R"({"captions":["a"]})", 10).ok());  // finished at 10
  const std::string young = s.service->Submit("dev-a", Sub(kKeyB), 0).value().job.id;
  REQUIRE(s.service->Cancel("dev-a", young, 20).ok());                // finished at 20
  const std::string failed =
      s.service->Submit("dev-a", Sub("cccccccccccccccc-3"), 0).value().job.id;
  const std::string other = s.service->Submit("dev-b", Sub(kKeyA), 0).value().job.id;
  Lease lb = s.service->Claim("w1", 2).value().value();
  CHECK(lb.job_id == failed);
  REQUIRE(s.service->Fail(lb, "render_failed", "no", 12).ok());  // finished at 12
  const int64_t before = s.service->Changes("dev-a", 0, 10).value().next_since;

  CHECK(ApiErrorFromStatus(s.service->ExpireFinished(1015, 0).status()).code == "bad_value");
  // Now 1015: finished before 15 goes (the done and the failed), 20 stays; dev-b's job waits.
  CHECK(s.service->ExpireFinished(1015, kRetention).value() == 2);
  CHECK(s.service->ExpireFinished(1015, kRetention).value() == 0);  // nothing left to do
  for (const std::string& id : {done, failed}) {
    for (const Status& st : {s.service->Get("dev-a", id).status(),
                             s.service->GetResult("dev-a", id).status(),
                             s.service->Cancel("dev-a", id, 1016).status()}) {
      const ApiError e = ApiErrorFromStatus(st);
      CHECK(e.http_status == 410);
      CHECK(e.code == "job_expired");
      CHECK_THAT(e.message, Catch::Matchers::ContainsSubstring("job " + id));
      CHECK_THAT(e.message, Catch::Matchers::ContainsSubstring("will not run again"));
    }
    // Another device learns nothing: exactly as for a job that never was.
    CHECK(ApiErrorFromStatus(s.service->Get("dev-b", id).status()).message == "no job " + id);
  }
  CHECK(s.service->Get("dev-a", young).value().state == JobState::kCancelled);
  CHECK(s.service->Get("dev-b", other).value().state == JobState::kAccepted);

  // A replay of the expired submission (same key, the same or any payload) runs nothing.
  for (const std::string& payload : {std::string(R"({"task":"x"})"), std::string("{}")}) {
    const ApiError replay =
        ApiErrorFromStatus(s.service->Submit("dev-a", Sub(kKeyA, payload), 1020).status());
    CHECK(replay.http_status == 410);
    CHECK(replay.code == "job_expired");
  }
  Lease next = s.service->Claim("w2", 1030).value().value();
  CHECK(next.job_id == other);  // the only job left to run
  CHECK_FALSE(s.service->Claim("w2", 1030).value().has_value());

  // The feed reports the removals after the jobs' last changes, by seq.
  ChangesPage feed = s.service->Changes("dev-a", before, 10).value();
  CHECK(feed.jobs.empty());
  REQUIRE(feed.expired.size() == 2);
  CHECK(feed.expired[0].seq > before);
  CHECK(feed.expired[1].seq > feed.expired[0].seq);
  CHECK(feed.expired[0].expired_at_ms == 1015);
  CHECK(feed.next_since == feed.expired[1].seq);
  CHECK_FALSE(feed.more);
  std::set<std::string> keys{feed.expired[0].idempotency_key, feed.expired[1].idempotency_key};
  CHECK(keys == std::set<std::string>{kKeyA, "cccccccccccccccc-3"});
  CHECK(s.service->Changes("dev-b", 0, 10).value().expired.empty());

  // All of it survives a restart; a new job never reuses an expired job's seq.
  s.Reopen();
  CHECK(ApiErrorFromStatus(s.service->Submit("dev-a", Sub(kKeyA), 2000).status()).code ==
        "job_expired");
  CHECK(ApiErrorFromStatus(s.service->Get("dev-a", done).status()).code == "job_expired");
  SubmitOutcome fresh = s.service->Submit("dev-a", Sub("dddddddddddddddd-4"), 2000).value();
  CHECK(fresh.created);
  CHECK(fresh.job.seq > feed.next_since);
}

TEST_CASE("retention: the highest seq expiring is never handed out again") {
  SERVER_ON_EACH_STORE(s);
  const std::string id = s.service->Submit("dev-a", Sub(kKeyA), 0).value().job.id;
  const JobView cancelled = s.service->Cancel("dev-a", id, 1).value();  // the highest seq
  CHECK(s.service->ExpireFinished(100, 10).value() == 1);
  const ChangesPage feed = s.service->Changes("dev-a", cancelled.seq, 10).value();
  REQUIRE(feed.expired.size() == 1);
  // With no job left, a store that numbered from its jobs alone would start again at 1 and a
  // device whose cursor is past it would never see the new job.
  SubmitOutcome next = s.service->Submit("dev-a", Sub(kKeyB), 200).value();
  CHECK(next.job.seq > feed.expired[0].seq);
  CHECK(s.service->Changes("dev-a", feed.next_since, 10).value().jobs.size() == 1);
}

TEST_CASE("retention: the feed pages jobs and expired jobs together by seq") {
  SERVER_ON_EACH_STORE(s);
  // More than one expiry batch (100): the service goes on until none is left.
  constexpr int kJobs = 130;
  for (int i = 0; i < kJobs; ++i) {
    const std::string key = "key-page-" + std::to_string(1000 + i) + "-0123456";
    const std::string id = s.service->Submit("dev-a", Sub(key), 0).value().job.id;
    REQUIRE(s.service->Cancel("dev-a", id, i % 2 == 0 ? 10 : 5000).ok());
  }
  CHECK(s.service->ExpireFinished(1000, 500).value() == kJobs / 2);  // those finished at 10
  CHECK(s.service->ExpireFinished(1000, 500).value() == 0);
  std::set<std::string> jobs, expired;
  int64_t since = 0, last_seq = 0;
  for (int page = 0; page < 100; ++page) {
    ChangesPage p = s.service->Changes("dev-a", since, 7).value();
    CHECK(p.jobs.size() + p.expired.size() <= 7);
    std::vector<int64_t> seqs;
    for (const JobView& v : p.jobs) {
      jobs.insert(v.idempotency_key);
      seqs.push_back(v.seq);
    }
    for (const ExpiredView& e : p.expired) {
      expired.insert(e.idempotency_key);
      seqs.push_back(e.seq);
    }
    std::sort(seqs.begin(), seqs.end());
    if (!seqs.empty()) {
      CHECK(seqs.front() > last_seq);
      CHECK(seqs.back() == p.next_since);
      last_seq = seqs.back();
    }
    since = p.next_since;
    if (!p.more) break;
  }
  CHECK(jobs.size() == kJobs / 2);
  CHECK(expired.size() == kJobs / 2);
  for (const std::string& k : jobs) CHECK_FALSE(expired.contains(k));
}

}  // namespace
}  // namespace cairn::sync
