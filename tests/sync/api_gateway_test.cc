#include "sync/api_gateway.h"

#include <catch_amalgamated.hpp>

#include <memory>

#include "sync/sqlite_device_store.h"
#include "sync/sqlite_job_store.h"
#include "tests/support/temp_dir.h"

namespace cairn::sync {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

struct Api {
  testing::TempDir dir;
  std::unique_ptr<SqliteJobStore> jobs =
      SqliteJobStore::Open({dir / "jobs.db", nullptr, true}).value();
  std::unique_ptr<SqliteDeviceStore> devices =
      SqliteDeviceStore::Open({dir / "devices.db", nullptr, true}).value();
  JobService service{*jobs, ServiceOptions{}};
  ApiRouter router{service};
  DeviceAuthenticator auth{*devices, AuthOptions{}};
  ApiGateway gateway{auth, router};

  int Jobs(const std::string& device) {
    return static_cast<int>(jobs->ChangesSince(device, 0, 100).value().size());
  }
};

struct Device {
  RequestSigner signer{crypto::GenerateSigningKeyPair()};
  HttpRequest Sign(HttpRequest r, int64_t now = kNow) {
    REQUIRE(signer.Sign(r, now, NewNonce()).ok());
    return r;
  }
  const std::string& id() const { return signer.device_id(); }
};

HttpRequest Submit(const std::string& key = "0123456789abcdef-key") {
  return MakeSubmitRequest({key, JobKind::kCaptionHq, Preset::kFinal, R"({"t":1})"}).value();
}

std::string CodeOf(const HttpResponse& r) { return ParseError(r).code; }

TEST_CASE("gateway: register, then signed submit/get/feed/cancel; a retry is a new request") {
  Api api;
  Device dev;
  HttpResponse reg =
      api.gateway.Handle(dev.Sign(MakeRegisterRequest(dev.signer.public_key())), kNow);
  CHECK(reg.status == 201);
  CHECK(ParseDevice(reg.body).value().id == dev.id());
  CHECK(api.gateway.Handle(dev.Sign(MakeRegisterRequest(dev.signer.public_key())), kNow).status ==
        200);

  HttpResponse created = api.gateway.Handle(dev.Sign(Submit()), kNow);
  REQUIRE(created.status == 201);
  const std::string id = ParseJob(created.body).value().id;
  // The client retries the submission (same idempotency key): a new signature and nonce.
  HttpResponse retry = api.gateway.Handle(dev.Sign(Submit()), kNow + 1000);
  CHECK(retry.status == 200);
  CHECK(ParseJob(retry.body).value().id == id);
  CHECK(api.gateway.Handle(dev.Sign(MakeGetJobRequest(id)), kNow).status == 200);
  CHECK(ParseChanges(api.gateway.Handle(dev.Sign(MakeChangesRequest(0)), kNow).body)
            .value()
            .jobs.size() == 1);
  HttpResponse cancelled = api.gateway.Handle(dev.Sign(MakeCancelRequest(id)), kNow);
  CHECK(ParseJob(cancelled.body).value().state == JobState::kCancelled);
}

TEST_CASE("gateway: a byte-identical replay is 401 replayed_request and stores nothing") {
  Api api;
  Device dev;
  REQUIRE(api.gateway.Handle(dev.Sign(MakeRegisterRequest(dev.signer.public_key())), kNow).status ==
          201);
  const HttpRequest captured = dev.Sign(Submit());
  REQUIRE(api.gateway.Handle(captured, kNow).status == 201);
  HttpResponse replay = api.gateway.Handle(captured, kNow + 50);
  CHECK(replay.status == 401);
  CHECK(CodeOf(replay) == "replayed_request");
  // Even a replay the idempotency key would make harmless (it would get the same job back) is
  // refused, and nothing new is stored.
  const HttpRequest second = dev.Sign(Submit("another-key-0123456789"));
  REQUIRE(api.gateway.Handle(second, kNow).status == 201);
  CHECK(api.Jobs(dev.id()) == 2);
  CHECK(CodeOf(api.gateway.Handle(second, kNow + 1)) == "replayed_request");
  CHECK(api.Jobs(dev.id()) == 2);
}

TEST_CASE("gateway: every refusal is a 401 with WWW-Authenticate and the server's time") {
  Api api;
  Device dev, stranger;
  REQUIRE(api.gateway.Handle(dev.Sign(MakeRegisterRequest(dev.signer.public_key())), kNow).status ==
          201);
  HttpRequest tampered = dev.Sign(Submit());
  tampered.body[tampered.body.size() - 3] = '2';
  struct Case {
    const char* what;
    HttpRequest request;
    const char* code;
  } cases[] = {
      {"unsigned", Submit(), "unauthenticated"},
      {"unsigned, unknown path", HttpRequest{"GET", "/v2/jobs", {}, ""}, "unauthenticated"},
      {"unsigned, another /v1 path", HttpRequest{"GET", "/v1/admin", {}, ""}, "unauthenticated"},
      {"unknown device", stranger.Sign(Submit()), "unknown_device"},
      {"tampered body", tampered, "bad_signature"},
      {"stale", dev.Sign(Submit(), kNow - kRequestWindowMs - 1), "stale_request"},
      {"from the future", dev.Sign(Submit(), kNow + kRequestWindowMs + 1), "stale_request"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    HttpResponse r = api.gateway.Handle(c.request, kNow);
    CHECK(r.status == 401);
    CHECK(CodeOf(r) == c.code);
    CHECK(FindHeader(r.headers, "WWW-Authenticate") == kAuthScheme);
    CHECK(FindHeader(r.headers, kServerTimeHeader) == std::to_string(kNow));
  }
  CHECK(api.Jobs(dev.id()) == 0);
  CHECK(api.devices->CountNonces().value() == 1);  // the registration's
  // A signed request for a path that does not exist gets past authentication only to be 404.
  CHECK(CodeOf(api.gateway.Handle(dev.Sign(HttpRequest{"GET", "/v1/admin", {}, ""}), kNow)) ==
        "not_found");
  // Registration takes POST only, and no query.
  CHECK(api.gateway.Handle(dev.Sign(HttpRequest{"GET", "/v1/devices", {}, ""}), kNow).status ==
        405);
}

TEST_CASE("gateway: another device's job is 404 not_found, exactly like an unknown id") {
  Api api;
  Device a, b;
  for (Device* d : {&a, &b}) {
    REQUIRE(api.gateway.Handle(d->Sign(MakeRegisterRequest(d->signer.public_key())), kNow).status ==
            201);
  }
  const std::string id = ParseJob(api.gateway.Handle(a.Sign(Submit()), kNow).body).value().id;
  const std::string unknown = "0123456789abcdef0123456789abcdef";
  for (auto make : {+[](const std::string& i) { return MakeGetJobRequest(i); },
                    +[](const std::string& i) { return MakeResultRequest(i); },
                    +[](const std::string& i) { return MakeCancelRequest(i); }}) {
    HttpResponse theirs = api.gateway.Handle(b.Sign(make(id)), kNow);
    HttpResponse none = api.gateway.Handle(b.Sign(make(unknown)), kNow);
    CHECK(theirs.status == 404);
    CHECK(CodeOf(theirs) == "not_found");
    CHECK(ParseError(theirs).message.find(id) != std::string::npos);
    CHECK(ParseError(none).message.find(unknown) != std::string::npos);
  }
  // b's feed is empty; a's job is untouched.
  CHECK(ParseChanges(api.gateway.Handle(b.Sign(MakeChangesRequest(0)), kNow).body)
            .value()
            .jobs.empty());
  CHECK(ParseJob(api.gateway.Handle(a.Sign(MakeGetJobRequest(id)), kNow).body).value().state ==
        JobState::kAccepted);
}

}  // namespace
}  // namespace cairn::sync
