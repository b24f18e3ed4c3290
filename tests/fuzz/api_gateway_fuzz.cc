// The whole server-side protocol, request to response (sync/api_gateway.h), on real SQLite
// stores: what cairn-server hands the core for every HTTP request. The input picks a method, a
// target (one of the API's shapes with fuzzed parts, or raw bytes), headers and a body. Each
// request is handled twice: as sent (unsigned, or with fuzzed Cairn-* headers), then signed by
// a registered device, so the router behind authentication sees every input too.
//
// Oracles: nothing unsigned or forged is ever accepted (never 2xx); no request gets a 500 from
// healthy stores; every error is Cairn's JSON error with a code; whatever device A sends, device
// B's jobs stay untouched.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "sync/api_gateway.h"
#include "sync/request_auth.h"
#include "sync/sqlite_device_store.h"
#include "sync/sqlite_job_store.h"
#include "tests/fuzz/fuzz_util.h"

namespace cairn::sync {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

struct Server {
  std::string dir = [] {
    char tmpl[] = "/tmp/cairn-fuzz-api-XXXXXX";
    const char* d = mkdtemp(tmpl);
    if (d == nullptr) std::abort();
    return std::string(d);
  }();
  std::unique_ptr<SqliteJobStore> jobs = SqliteJobStore::Open({dir + "/jobs.db"}).value();
  std::unique_ptr<SqliteDeviceStore> devices =
      SqliteDeviceStore::Open({dir + "/devices.db"}).value();
  JobService service{*jobs, ServiceOptions{}};
  ApiRouter router{service};
  DeviceAuthenticator auth{*devices, AuthOptions{}};
  ApiGateway gateway{auth, router};
  RequestSigner a{crypto::SigningKeyPairFromSeed(Bytes(32, 1)).value()};
  RequestSigner b{crypto::SigningKeyPairFromSeed(Bytes(32, 2)).value()};
  int64_t now = kStart;
  uint64_t nonces = 0;

  std::string Nonce() {
    char n[32];
    std::snprintf(n, sizeof n, "fuzz-%016llx", static_cast<unsigned long long>(++nonces));
    return n;
  }
  void Register(RequestSigner& s) {
    HttpRequest r = MakeRegisterRequest(s.public_key());
    if (!s.Sign(r, now, Nonce()).ok()) std::abort();
    const int status = gateway.Handle(r, now).status;
    if (status != 201 && status != 200) std::abort();
  }
  Server() {
    Register(a);
    Register(b);
    // B owns one job, which nothing A sends may touch.
    HttpRequest r = MakeSubmitRequest({"device-b-job-0000001", JobKind::kCaptionHq,
                                       Preset::kFinal, R"({"t":1})"})
                        .value();
    if (!b.Sign(r, now, Nonce()).ok() || gateway.Handle(r, now).status != 201) std::abort();
    b_view = ChangesOf(b);
  }
  HttpRequest Signed(RequestSigner& s, HttpRequest r) {
    if (!s.Sign(r, now, Nonce()).ok()) std::abort();
    return r;
  }
  std::string ChangesOf(RequestSigner& s) {
    HttpResponse r = gateway.Handle(Signed(s, MakeChangesRequest(0)), now);
    if (r.status != 200) std::abort();
    return r.body;
  }
  std::string b_view;  // B's changes feed, which must never change

  ~Server() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

std::string Target(FuzzedDataProvider& in) {
  const std::string part = in.ConsumeRandomLengthString(80);
  switch (in.ConsumeIntegralInRange(0, 6)) {
    case 0: return "/v1/jobs";
    case 1: return "/v1/jobs/" + part;
    case 2: return "/v1/jobs/" + part + "/result";
    case 3: return "/v1/jobs?" + part;
    case 4: return "/v1/devices" + part;
    case 5: return "/" + part;
    default: return part;
  }
}

void CheckResponse(const HttpResponse& r, const std::string& what) {
  CAIRN_FUZZ_CHECK(r.status >= 200 && r.status < 600, what + std::to_string(r.status));
  CAIRN_FUZZ_CHECK(r.status != 500, what + " 500: " + r.body);
  if (r.status >= 400) {
    const ApiError e = ParseError(r);
    CAIRN_FUZZ_CHECK(e.code.rfind("http_", 0) != 0, what + " error body: " + r.body);
  }
}

}  // namespace
}  // namespace cairn::sync

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::sync;
  static Server server;
  // 100 ms per input: nonces expire after the five-minute window, so memory stays bounded.
  server.now += 100;
  FuzzedDataProvider in(data, size);
  HttpRequest req;
  static const char* kMethods[] = {"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "get"};
  req.method = in.ConsumeBool() ? kMethods[in.ConsumeIntegralInRange<size_t>(0, 6)]
                                : in.ConsumeRandomLengthString(12);
  req.target = Target(in);
  const int headers = in.ConsumeIntegralInRange(0, 6);
  static const char* kNames[] = {"Content-Type", "Cairn-Device", "Cairn-Timestamp",
                                 "Cairn-Nonce",  "Cairn-Signature", "Content-Length"};
  for (int i = 0; i < headers; ++i) {
    std::string name = in.ConsumeBool() ? kNames[in.ConsumeIntegralInRange<size_t>(0, 5)]
                                        : in.ConsumeRandomLengthString(20);
    req.headers.emplace_back(std::move(name), in.ConsumeRandomLengthString(90));
  }
  if (in.ConsumeBool()) req.headers.emplace_back("Content-Type", "application/json");
  req.body = in.ConsumeRemainingBytesAsString();

  const HttpResponse raw = server.gateway.Handle(req, server.now);
  CheckResponse(raw, "unsigned " + req.method + " " + req.target + ": ");
  CAIRN_FUZZ_CHECK(raw.status >= 300, "an unsigned request was accepted: " + req.target);

  HttpRequest signed_req = req;
  if (server.a.Sign(signed_req, server.now, server.Nonce()).ok()) {
    const HttpResponse r = server.gateway.Handle(signed_req, server.now);
    CheckResponse(r, "signed " + req.method + " " + req.target + ": ");
  }
  CAIRN_FUZZ_CHECK(server.ChangesOf(server.b) == server.b_view, "device B's jobs changed");
  return 0;
}
