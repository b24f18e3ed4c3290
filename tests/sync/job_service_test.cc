#include "sync/job_service.h"

#include <catch_amalgamated.hpp>

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

}  // namespace
}  // namespace cairn::sync
