#include "sync/engine.h"

#include <catch_amalgamated.hpp>

#include "tests/sync/instructions.h"

namespace cairn::sync {
namespace {

const std::string kServerId = "0123456789abcdef0123456789abcdef";

OutboxRecord NewJob(int64_t id) {
  OutboxRecord r;
  r.id = id;
  r.idempotency_key = "key-" + std::to_string(id) + "-0123456789abcdef";
  r.kind = JobKind::kImageExport;
  r.preset = Preset::kFinal;
  r.payload_json = R"({"w":1080})";
  return r;
}

JobView View(const OutboxRecord& r, JobState state, int64_t seq = 1) {
  JobView v;
  v.id = kServerId;
  v.idempotency_key = r.idempotency_key;
  v.kind = r.kind;
  v.preset = r.preset;
  v.state = state;
  v.seq = seq;
  return v;
}

HttpResponse Ok(std::string body, int status = 200) { return {status, {}, std::move(body)}; }

EngineOptions Seeded(uint64_t seed) {
  EngineOptions o;
  o.seed = seed;
  return o;
}

struct Harness {
  SyncEngine engine{Seeded(9)};
  int64_t now = 1'000'000;
  std::vector<Instruction> Do(const Event& e) { return engine.Handle(now, e).value(); }
};

TEST_CASE("a job goes queued -> sending -> accepted -> done, its result fetched and stored") {
  Harness h;
  h.Do(AppStart{{}, true});
  OutboxRecord job = NewJob(1);
  auto out = h.Do(JobCreated{job});
  // Durable before sent: the Store of the attempt comes before the Send.
  REQUIRE(out.size() >= 2);
  Store st = std::get<Store>(out[0]);
  CHECK(st.job.state == JobState::kSending);
  CHECK(st.job.attempts == 1);
  Send post = std::get<Send>(out[1]);
  CHECK(post.request.method == "POST");
  CHECK(post.request.body.find(job.idempotency_key) != std::string::npos);

  out = h.Do(Response{post.request_id, Ok(SerializeJob(View(job, JobState::kAccepted)), 201)});
  CHECK(One<Store>(out).job.state == JobState::kAccepted);
  CHECK(One<Store>(out).job.server_job_id == kServerId);
  Send feed = One<Send>(out);
  CHECK(feed.request.target == "/v1/jobs?since=0&limit=100");

  ChangesPage page{{View(job, JobState::kDone, 3)}, 3, false, {}};
  out = h.Do(Response{feed.request_id, Ok(SerializeChanges(page))});
  CHECK(One<Store>(out).job.state == JobState::kRunning);  // done only once the result is in
  Send get = One<Send>(out);
  CHECK(get.request.target == "/v1/jobs/" + kServerId + "/result");

  out = h.Do(Response{get.request_id, Ok(SerializeResult({kServerId, R"({"renditions":[]})"}).value())});
  Store done = One<Store>(out);
  CHECK(done.job.state == JobState::kDone);
  CHECK(done.job.result_json == R"({"renditions":[]})");
  Notify n = One<Notify>(out);
  CHECK(n.kind == NoticeKind::kDone);
  CHECK(n.message == "Your HQ export is ready");
  CHECK(All<Send>(out).empty());
  CHECK(h.engine.Find(1) == nullptr);
}

TEST_CASE("5xx and network errors back off with full jitter; the attempt count grows") {
  Harness h;
  h.Do(AppStart{{}, true});
  auto out = h.Do(JobCreated{NewJob(1)});
  for (int attempt = 1; attempt <= 4; ++attempt) {
    Send post = One<Send>(out);
    out = attempt % 2 ? h.Do(Response{post.request_id, Ok("oops", 500)})
                      : h.Do(NetworkError{post.request_id, "connection reset"});
    Store st = One<Store>(out);
    CHECK(st.job.state == JobState::kQueued);
    CHECK(st.job.attempts == attempt);
    const int64_t delay = st.job.next_attempt_at_ms - h.now;
    CHECK(delay >= 0);
    CHECK(delay <= EngineOptions{}.backoff.CeilingMs(attempt));
    CHECK(One<WakeAt>(out).at_ms <= st.job.next_attempt_at_ms);
    CHECK(All<Send>(out).empty() == (delay > 0));
    h.now = st.job.next_attempt_at_ms;
    if (delay > 0) out = h.Do(Tick{});
  }
  CHECK(h.engine.counters().retries == 4);
}

TEST_CASE("429 and 503 honour Retry-After exactly") {
  for (int status : {429, 503}) {
    Harness h;
    h.Do(AppStart{{}, true});
    Send post = One<Send>(h.Do(JobCreated{NewJob(1)}));
    auto out = h.Do(Response{post.request_id, {status, {{"retry-after", "42"}}, ""}});
    CHECK(One<Store>(out).job.next_attempt_at_ms == h.now + 42'000);
    CHECK(One<WakeAt>(out).at_ms == h.now + 42'000);
    h.now += 41'999;
    CHECK(All<Send>(h.Do(Tick{})).empty());
    h.now += 1;
    CHECK(One<Send>(h.Do(Tick{})).request.method == "POST");
  }
}

TEST_CASE("another 4xx fails the job with the server's reason for the user") {
  Harness h;
  h.Do(AppStart{{}, true});
  Send post = One<Send>(h.Do(JobCreated{NewJob(1)}));
  ApiError e{400, "too_large", "'payload' is 40000 bytes; the limit is 32768"};
  auto out = h.Do(Response{post.request_id, Ok(SerializeError(e), 413)});
  Store st = One<Store>(out);
  CHECK(st.job.state == JobState::kFailed);
  CHECK(st.job.last_error == "too_large: 'payload' is 40000 bytes; the limit is 32768");
  Notify n = One<Notify>(out);
  CHECK(n.kind == NoticeKind::kFailed);
  CHECK(n.message == "The server refused this HQ export: 'payload' is 40000 bytes; the limit is 32768");
  CHECK(All<Send>(out).empty());
}

TEST_CASE("a 401 is the device's problem, not the job's: the submission waits and is retried") {
  for (const char* code :
       {"unknown_device", "stale_request", "replayed_request", "bad_signature"}) {
    INFO(code);
    Harness h;
    h.Do(AppStart{{}, true});
    Send post = One<Send>(h.Do(JobCreated{NewJob(1)}));
    auto out = h.Do(Response{post.request_id, Ok(SerializeError({401, code, "sign again"}), 401)});
    Store st = One<Store>(out);
    CHECK(st.job.state == JobState::kQueued);
    CHECK(st.job.last_error == std::string("HTTP 401 ") + code + ": sign again");
    CHECK(All<Notify>(out).empty());
    h.now = st.job.next_attempt_at_ms;
    if (All<Send>(out).empty()) out = h.Do(Tick{});
    CHECK(One<Send>(out).request.method == "POST");
  }
}

TEST_CASE("a lost request times out and is retried; its late reply is ignored") {
  Harness h;
  h.Do(AppStart{{}, true});
  Send post = One<Send>(h.Do(JobCreated{NewJob(1)}));
  h.now += EngineOptions{}.request_timeout_ms;
  auto out = h.Do(Tick{});
  CHECK(h.engine.counters().timeouts == 1);
  CHECK(One<Store>(out).job.state == JobState::kQueued);
  out = h.Do(Response{post.request_id, Ok(SerializeJob(View(NewJob(1), JobState::kAccepted)))});
  CHECK(out.size() <= 1);  // at most a WakeAt
  CHECK(h.engine.counters().ignored_replies == 1);
}

TEST_CASE("offline holds requests; online sends at once, ahead of the backoff") {
  Harness h;
  h.Do(AppStart{{}, false});
  auto out = h.Do(JobCreated{NewJob(1)});
  CHECK(All<Send>(out).empty());
  CHECK(All<WakeAt>(out).empty());
  out = h.Do(Online{});
  Send post = One<Send>(out);
  out = h.Do(NetworkError{post.request_id, "offline"});
  CHECK(All<Send>(out).empty());
  h.Do(Offline{});
  h.now += 1;
  CHECK(One<Send>(h.Do(Online{})).request.method == "POST");
}

TEST_CASE("cancelling a job never sent is immediate and sends nothing") {
  Harness h;
  h.Do(AppStart{{}, false});
  h.Do(JobCreated{NewJob(1)});
  auto out = h.Do(CancelRequested{1});
  CHECK(One<Store>(out).job.state == JobState::kCancelled);
  CHECK(One<Notify>(out).kind == NoticeKind::kCancelled);
  CHECK(All<Send>(h.Do(Online{})).empty());
}

TEST_CASE("cancelling a sent job stores the intent, learns the id, then sends DELETE") {
  Harness h;
  h.Do(AppStart{{}, true});
  OutboxRecord job = NewJob(1);
  Send post = One<Send>(h.Do(JobCreated{job}));
  auto out = h.Do(CancelRequested{1});
  CHECK(One<Store>(out).job.cancel_requested);
  CHECK(All<Send>(out).empty());  // the POST is still out
  out = h.Do(Response{post.request_id, Ok(SerializeJob(View(job, JobState::kAccepted)), 201)});
  Send del;
  for (const Send& s : All<Send>(out)) {
    if (s.request.method == "DELETE") del = s;
  }
  REQUIRE(del.request.method == "DELETE");
  CHECK(del.request.target == "/v1/jobs/" + kServerId);
  out = h.Do(Response{del.request_id, Ok(SerializeJob(View(job, JobState::kCancelled, 5)))});
  CHECK(One<Store>(out).job.state == JobState::kCancelled);
  CHECK(One<Notify>(out).kind == NoticeKind::kCancelled);
}

TEST_CASE("a cancel that arrives after the job finished keeps the result") {
  Harness h;
  OutboxRecord job = NewJob(1);
  job.state = JobState::kRunning;
  job.attempts = 1;
  job.server_job_id = kServerId;
  job.cancel_requested = true;
  auto out = h.Do(AppStart{{job}, true});
  Send del = All<Send>(out).at(0);
  REQUIRE(del.request.method == "DELETE");
  out = h.Do(Response{del.request_id, Ok(SerializeJob(View(job, JobState::kDone, 9)))});
  CHECK(One<Notify>(out).kind == NoticeKind::kCancelRefused);
  CHECK_FALSE(All<Store>(out).at(0).job.cancel_requested);
  Send get = One<Send>(out);
  CHECK(get.request.target == "/v1/jobs/" + kServerId + "/result");
}

// Retention (issue 7): the server removed a job it had finished before this device fetched
// the result. However the device learns it (the feed, or 410 job_expired to any request about
// the job), the job fails for good with the same reason, and nothing is retried or resubmitted.
void CheckExpired(const SyncEngine& engine, const std::vector<Instruction>& out,
                  const char* what) {
  Store st = One<Store>(out);
  CHECK(st.job.state == JobState::kFailed);
  CHECK(st.job.last_error ==
        "job_expired: expired on the server before this device fetched its result");
  Notify n = One<Notify>(out);
  CHECK(n.kind == NoticeKind::kFailed);
  CHECK(n.message == std::string("Your ") + what +
                         " expired on the server before this device fetched its result. Create "
                         "it again to get a new one.");
  CHECK(All<Send>(out).empty());
  CHECK(engine.Find(st.job.id) == nullptr);  // nothing left to retry
}

HttpResponse Gone(const std::string& id) {
  return Ok(SerializeError({410, "job_expired", "job " + id + " finished and was removed"}), 410);
}

OutboxRecord OnServer(int64_t id, JobState state) {
  OutboxRecord job = NewJob(id);
  job.state = state;
  job.attempts = 1;
  job.server_job_id = kServerId;
  return job;
}

TEST_CASE("retention: the feed says a job it waits on expired; the job fails, no retry") {
  Harness h;
  OutboxRecord job = OnServer(1, JobState::kAccepted);  // e.g. offline for a month
  Send feed = One<Send>(h.Do(AppStart{{job}, true}));
  REQUIRE(feed.request.target == "/v1/jobs?since=0&limit=100");
  ChangesPage page;
  page.expired.push_back({kServerId, job.idempotency_key, 40, h.now - 1000});
  page.next_since = 40;
  auto out = h.Do(Response{feed.request_id, Ok(SerializeChanges(page))});
  CheckExpired(h.engine, out, "HQ export");
  // Another device's or another key's removal changes nothing.
  OutboxRecord other = OnServer(2, JobState::kRunning);
  feed = One<Send>(h.Do(AppStart{{other}, true}));
  page.expired[0].idempotency_key = "key-of-another-job-0123";
  out = h.Do(Response{feed.request_id, Ok(SerializeChanges(page))});
  CHECK(All<Store>(out).empty());
  CHECK(h.engine.Find(2)->state == JobState::kRunning);
}

TEST_CASE("retention: 410 job_expired to a result, a cancel or a resent submission ends the job") {
  SECTION("the result") {
    Harness h;
    Send feed = One<Send>(h.Do(AppStart{{OnServer(1, JobState::kRunning)}, true}));
    ChangesPage page{{View(OnServer(1, JobState::kRunning), JobState::kDone, 3)}, 3, false, {}};
    Send get = One<Send>(h.Do(Response{feed.request_id, Ok(SerializeChanges(page))}));
    REQUIRE(get.request.target == "/v1/jobs/" + kServerId + "/result");
    CheckExpired(h.engine, h.Do(Response{get.request_id, Gone(kServerId)}), "HQ export");
  }
  SECTION("a cancel") {
    Harness h;
    OutboxRecord job = OnServer(1, JobState::kRunning);
    job.cancel_requested = true;
    Send del = All<Send>(h.Do(AppStart{{job}, true})).at(0);
    REQUIRE(del.request.method == "DELETE");
    CheckExpired(h.engine, h.Do(Response{del.request_id, Gone(kServerId)}), "HQ export");
  }
  SECTION("a resent submission (its earlier reply was lost)") {
    Harness h;
    OutboxRecord job = NewJob(1);
    job.kind = JobKind::kCaptionHq;
    job.state = JobState::kSending;
    job.attempts = 3;
    Send post = One<Send>(h.Do(AppStart{{job}, true}));
    REQUIRE(post.request.method == "POST");
    CheckExpired(h.engine, h.Do(Response{post.request_id, Gone(kServerId)}), "HQ caption");
  }
  SECTION("another 410 is an ordinary refusal") {
    Harness h;
    h.Do(AppStart{{}, true});
    Send post = One<Send>(h.Do(JobCreated{NewJob(1)}));
    auto out = h.Do(Response{post.request_id,
                             Ok(SerializeError({410, "gone_elsewhere", "moved"}), 410)});
    CHECK(One<Store>(out).job.last_error == "gone_elsewhere: moved");
  }
}

TEST_CASE("after a restart a job caught in sending is resent with the same key") {
  Harness h;
  OutboxRecord job = NewJob(7);
  job.state = JobState::kSending;
  job.attempts = 1;
  auto out = h.Do(AppStart{{job}, true});
  Store st = std::get<Store>(out.at(0));
  CHECK(st.job.attempts == 2);
  Send post = std::get<Send>(out.at(1));
  CHECK(post.request.body.find(job.idempotency_key) != std::string::npos);
}

TEST_CASE("a stale view never moves a job backwards; a bad body is retried") {
  Harness h;
  OutboxRecord job = NewJob(1);
  job.state = JobState::kRunning;
  job.attempts = 1;
  job.server_job_id = kServerId;
  auto out = h.Do(AppStart{{job}, true});
  Send feed = One<Send>(out);
  ChangesPage page{{View(job, JobState::kAccepted, 2)}, 2, false, {}};
  out = h.Do(Response{feed.request_id, Ok(SerializeChanges(page))});
  CHECK(All<Store>(out).empty());
  CHECK(h.engine.Find(1)->state == JobState::kRunning);
  h.now += EngineOptions{}.poll_interval_ms;
  feed = One<Send>(h.Do(Tick{}));
  CHECK(feed.request.target == "/v1/jobs?since=2&limit=100");
  out = h.Do(Response{feed.request_id, Ok(R"({"v":1,"jobs":"nope"})")});
  CHECK(h.engine.counters().bad_responses == 1);
  CHECK(All<Send>(out).empty());
}

TEST_CASE("the host's misuse is an error, not a silent no-op") {
  Harness h;
  CHECK(h.engine.Handle(0, Tick{}).status().code() == StatusCode::kFailedPrecondition);
  h.Do(AppStart{{}, true});
  h.Do(JobCreated{NewJob(1)});
  CHECK(h.engine.Handle(0, JobCreated{NewJob(1)}).status().code() == StatusCode::kAlreadyExists);
  OutboxRecord sent = NewJob(2);
  sent.attempts = 3;
  CHECK(h.engine.Handle(0, JobCreated{sent}).status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::sync
