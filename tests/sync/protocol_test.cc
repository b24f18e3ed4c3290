#include "sync/protocol.h"

#include <catch_amalgamated.hpp>

namespace cairn::sync {
namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";

std::string Body(const std::string& fields) {
  return R"({"v":1,"idempotency_key":")" + kKey + R"(","kind":"caption-hq","preset":"final",)" +
         fields + "}";
}

std::string CodeOf(const Status& s) { return ApiErrorFromStatus(s).code; }

TEST_CASE("a job submission round-trips through the request") {
  JobSubmission s{kKey, JobKind::kImageExport, Preset::kPreview, R"({"size":[1080,1350]})"};
  HttpRequest req = MakeSubmitRequest(s).value();
  CHECK(req.method == "POST");
  CHECK(req.target == "/v1/jobs");
  CHECK(FindHeader(req.headers, "content-type") == "application/json");
  JobSubmission back = ParseJobSubmission(req.body).value();
  CHECK(back.idempotency_key == kKey);
  CHECK(back.kind == JobKind::kImageExport);
  CHECK(back.preset == Preset::kPreview);
  CHECK(back.payload_json == R"({"size":[1080,1350]})");
  CHECK(MakeSubmitRequest({kKey, JobKind::kCaptionHq, Preset::kLow, "[1]"}).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("a submission is refused with a stable code for each kind of mistake") {
  CHECK(ParseJobSubmission(Body(R"("payload":{})")).ok());
  CHECK(CodeOf(ParseJobSubmission("{not json").status()) == "bad_json");
  CHECK(CodeOf(ParseJobSubmission("[1,2]").status()) == "bad_json");
  Status unknown = ParseJobSubmission(Body(R"("payload":{},"colour":"red")")).status();
  CHECK(CodeOf(unknown) == "unknown_field");
  CHECK(ApiErrorFromStatus(unknown).message == "'colour' is not a field of a job submission");
  CHECK(ApiErrorFromStatus(unknown).http_status == 400);
  CHECK(CodeOf(ParseJobSubmission(Body(R"("extra":1)")).status()) == "unknown_field");
  CHECK(CodeOf(ParseJobSubmission(R"({"v":1,"kind":"caption-hq"})").status()) == "missing_field");
  CHECK(CodeOf(ParseJobSubmission(Body(R"("payload":"text")")).status()) == "wrong_type");
  CHECK(CodeOf(ParseJobSubmission(R"({"v":"1"})").status()) == "wrong_type");
  CHECK(CodeOf(ParseJobSubmission(R"({"v":2,"idempotency_key":"x"})").status()) ==
        "unsupported_version");
  std::string bad_kind = Body(R"("payload":{})");
  bad_kind.replace(bad_kind.find("caption-hq"), 10, "print");
  Status s = ParseJobSubmission(bad_kind).status();
  CHECK(CodeOf(s) == "bad_value");
  CHECK(ApiErrorFromStatus(s).message == "'kind' is 'print'; it must be caption-hq or image-export");
  std::string short_key = R"({"v":1,"idempotency_key":"abc","kind":"caption-hq","preset":"final","payload":{}})";
  CHECK(CodeOf(ParseJobSubmission(short_key).status()) == "bad_value");
  std::string bad_chars = short_key;
  bad_chars.replace(bad_chars.find("abc"), 3, "abc/def ghi-jklmnop");
  CHECK(CodeOf(ParseJobSubmission(bad_chars).status()) == "bad_value");
}

TEST_CASE("size and nesting limits hold before anything is parsed") {
  std::string big(kMaxRequestBodyBytes + 1, ' ');
  Status s = ParseJobSubmission(big).status();
  CHECK(CodeOf(s) == "too_large");
  CHECK(ApiErrorFromStatus(s).http_status == 413);
  std::string payload = R"("payload":{"text":")" + std::string(kMaxPayloadBytes, 'x') + R"("})";
  CHECK(CodeOf(ParseJobSubmission(Body(payload)).status()) == "too_large");
  std::string deep = Body(R"("payload":{"a":)" + std::string(40, '[') + std::string(40, ']') + "}");
  CHECK(CodeOf(ParseJobSubmission(deep).status()) == "bad_json");
  // Brackets inside strings are not nesting.
  std::string text = Body(R"("payload":{"a":")" + std::string(40, '[') + R"("})");
  CHECK(ParseJobSubmission(text).ok());
  // Invalid UTF-8 is not JSON.
  CHECK(CodeOf(ParseJobSubmission(Body("\"payload\":{\"a\":\"\xff\"}")).status()) == "bad_json");
}

TEST_CASE("responses round-trip; the device ignores fields it does not know") {
  JobView v;
  v.id = "0123456789abcdef0123456789abcdef";
  v.idempotency_key = kKey;
  v.kind = JobKind::kImageExport;
  v.preset = Preset::kFinal;
  v.state = JobState::kFailed;
  v.seq = 17;
  v.created_at_ms = 1000;
  v.updated_at_ms = 2000;
  v.error_code = "worker_lost";
  v.error_message = "try again later";
  JobView back = ParseJob(SerializeJob(v)).value();
  CHECK(back.id == v.id);
  CHECK(back.state == JobState::kFailed);
  CHECK(back.seq == 17);
  CHECK(back.error_message == "try again later");

  std::string newer = SerializeJob(v);
  newer.replace(newer.find(R"("seq")"), 5, R"("eta_ms":5000,"seq")");
  newer.replace(newer.find(R"("v":1)"), 5, R"("v":1,"server":"cairn/2")");
  CHECK(ParseJob(newer).ok());
  CHECK(CodeOf(ParseJob(R"({"v":1,"job":{"id":"x"}})").status()) == "missing_field");
  std::string queued = SerializeJob(v);
  queued.replace(queued.find("\"failed\""), 8, "\"queued\"");
  CHECK(CodeOf(ParseJob(queued).status()) == "bad_value");  // servers never hold queued jobs

  ChangesPage page{{v, v}, 17, true, {{"0123456789abcdef0123456789abcdef", "key-gone-0123456789",
                                        16, 1700000000000}}};
  ChangesPage pb = ParseChanges(SerializeChanges(page)).value();
  CHECK(pb.jobs.size() == 2);
  CHECK(pb.next_since == 17);
  CHECK(pb.more);
  REQUIRE(pb.expired.size() == 1);
  CHECK(pb.expired[0].id == "0123456789abcdef0123456789abcdef");
  CHECK(pb.expired[0].idempotency_key == "key-gone-0123456789");
  CHECK(pb.expired[0].seq == 16);
  CHECK(pb.expired[0].expired_at_ms == 1700000000000);
  // A server before retention sends no "expired"; a malformed one is refused.
  CHECK(ParseChanges(R"({"v":1,"jobs":[],"next_since":0,"more":false})").value().expired.empty());
  CHECK(CodeOf(ParseChanges(R"({"v":1,"jobs":[],"expired":{},"next_since":0,"more":false})")
                   .status()) == "wrong_type");
  const char* no_key = R"({"v":1,"jobs":[],"expired":[{"id":"x","seq":1}],"next_since":0,)"
                       R"("more":false})";
  CHECK(CodeOf(ParseChanges(no_key).status()) == "missing_field");
  // job_expired: 410, a stable code.
  const ApiError gone = ApiErrorFromStatus(WireStatus(wire::kJobExpired, "job x was removed"));
  CHECK(gone.http_status == 410);
  CHECK(gone.code == "job_expired");
  CHECK(gone.message == "job x was removed");

  JobResult r{v.id, R"({"captions":["a","b"]})"};
  JobResult rb = ParseResult(SerializeResult(r).value()).value();
  CHECK(rb.result_json == r.result_json);
}

TEST_CASE("errors are JSON with a code; a foreign error page still reads") {
  ApiError e{409, "key_reused", "make a new key"};
  HttpResponse r{409, {}, SerializeError(e)};
  CHECK(r.body == R"({"error":{"code":"key_reused","message":"make a new key"}})");
  ApiError back = ParseError(r);
  CHECK(back.code == "key_reused");
  CHECK(back.message == "make a new key");
  ApiError proxy = ParseError(HttpResponse{502, {}, "<html>Bad Gateway</html>"});
  CHECK(proxy.code == "http_502");
  CHECK(proxy.message == "the server answered HTTP 502");
  // Found by the protocol fuzzer: an empty code (or one that is no wire code, or an oversize
  // message) from a hostile server falls back like a foreign page.
  CHECK(ParseError(HttpResponse{400, {}, R"({"error":{"code":""}})"}).code == "http_400");
  CHECK(ParseError(HttpResponse{400, {}, R"({"error":{"code":"<b>x</b>"}})"}).code == "http_400");
  ApiError huge = ParseError(HttpResponse{
      400, {}, R"({"error":{"code":"bad_value","message":")" + std::string(3000, 'm') + R"("}})"});
  CHECK(huge.code == "bad_value");
  CHECK(huge.message == "the server answered HTTP 400");

  CHECK(ApiErrorFromStatus(NotFound("no job x")).http_status == 404);
  CHECK(ApiErrorFromStatus(ResourceExhausted("slow down")).http_status == 429);
  CHECK(ApiErrorFromStatus(Unavailable("busy")).http_status == 503);
  ApiError internal = ApiErrorFromStatus(Internal("secret detail /var/lib"));
  CHECK(internal.http_status == 500);
  CHECK(internal.message == "internal error");
}

}  // namespace
}  // namespace cairn::sync
