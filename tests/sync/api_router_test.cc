#include "sync/api_router.h"

#include <catch_amalgamated.hpp>

#include "sync/sqlite_job_store.h"
#include "tests/support/temp_dir.h"

namespace cairn::sync {
namespace {

const std::string kKey = "0123456789abcdef-key";

struct Api {
  testing::TempDir dir;
  std::unique_ptr<SqliteJobStore> store =
      SqliteJobStore::Open({dir / "jobs.db", nullptr, true}).value();
  JobService service{*store, ServiceOptions{}};
  ApiRouter router{service};
  HttpResponse Call(std::string method, std::string target, std::string body = "",
                    std::string device = "dev-a", std::string type = "application/json") {
    HttpHeaders h;
    if (!type.empty()) h.emplace_back("Content-Type", type);
    return router.Handle(device, {std::move(method), std::move(target), h, std::move(body)}, 1);
  }
  int Jobs() { return static_cast<int>(store->ChangesSince("dev-a", 0, 100).value().size()); }
};

std::string Submission() {
  return MakeSubmitRequest({kKey, JobKind::kCaptionHq, Preset::kFinal, R"({"t":1})"}).value().body;
}

std::string CodeOf(const HttpResponse& r) { return ParseError(r).code; }

TEST_CASE("POST creates (201) and repeats (200) the same job; GET and DELETE find it") {
  Api api;
  HttpResponse created = api.Call("POST", "/v1/jobs", Submission());
  CHECK(created.status == 201);
  CHECK(FindHeader(created.headers, "Content-Type") == "application/json");
  JobView job = ParseJob(created.body).value();
  HttpResponse repeat = api.Call("POST", "/v1/jobs", Submission(), "dev-a",
                                 "application/json; charset=utf-8");
  CHECK(repeat.status == 200);
  CHECK(ParseJob(repeat.body).value().id == job.id);
  CHECK(ParseJob(api.Call("GET", "/v1/jobs/" + job.id).body).value().state == JobState::kAccepted);
  ChangesPage feed = ParseChanges(api.Call("GET", "/v1/jobs?since=0").body).value();
  CHECK(feed.jobs.size() == 1);
  CHECK(CodeOf(api.Call("GET", "/v1/jobs/" + job.id + "/result")) == "not_ready");
  HttpResponse del = api.Call("DELETE", "/v1/jobs/" + job.id);
  CHECK(del.status == 200);
  CHECK(ParseJob(del.body).value().state == JobState::kCancelled);
}

TEST_CASE("each bad request gets a clear 4xx with a stable code and stores nothing") {
  Api api;
  std::string body = Submission();
  std::string unknown = body.substr(0, body.size() - 1) + R"(,"x":1})";
  struct Case {
    HttpResponse r;
    int status;
    const char* code;
  } cases[] = {
      {api.Call("POST", "/v1/jobs", "{oops"), 400, "bad_json"},
      {api.Call("POST", "/v1/jobs", unknown), 400, "unknown_field"},
      {api.Call("POST", "/v1/jobs", body, "dev-a", "text/plain"), 415, "unsupported_media_type"},
      {api.Call("POST", "/v1/jobs", body, "dev-a", ""), 415, "unsupported_media_type"},
      {api.Call("POST", "/v1/jobs", std::string(kMaxRequestBodyBytes + 1, ' ')), 413, "too_large"},
      {api.Call("POST", "/v1/jobs?x=1", body), 400, "unknown_field"},
      {api.Call("PUT", "/v1/jobs", body), 405, "method_not_allowed"},
      {api.Call("GET", "/v1/jobs?since=-1"), 400, "bad_value"},
      {api.Call("GET", "/v1/jobs?since=1&since=2"), 400, "unknown_field"},
      {api.Call("GET", "/v1/jobs?limit=0"), 400, "bad_value"},
      {api.Call("GET", "/v1/jobs?cursor=3"), 400, "unknown_field"},
      {api.Call("GET", "/v1/jobs/not-an-id"), 404, "not_found"},
      {api.Call("GET", "/v2/jobs"), 404, "not_found"},
  };
  for (const Case& c : cases) {
    INFO(c.r.body);
    CHECK(c.r.status == c.status);
    CHECK(CodeOf(c.r) == c.code);
  }
  CHECK(api.Jobs() == 0);
}

TEST_CASE("another device's job id is not found, for every verb") {
  Api api;
  std::string id = ParseJob(api.Call("POST", "/v1/jobs", Submission()).body).value().id;
  for (auto [method, target] : {std::pair{"GET", "/v1/jobs/" + id},
                                std::pair{"GET", "/v1/jobs/" + id + "/result"},
                                std::pair{"DELETE", "/v1/jobs/" + id}}) {
    HttpResponse r = api.Call(method, target, "", "dev-b");
    CHECK(r.status == 404);
    CHECK(CodeOf(r) == "not_found");
  }
  CHECK(ParseJob(api.Call("GET", "/v1/jobs/" + id).body).value().state == JobState::kAccepted);
}

}  // namespace
}  // namespace cairn::sync
