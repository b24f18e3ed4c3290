#include "sync/request_auth.h"

#include <catch_amalgamated.hpp>

#include "sync/protocol.h"
#include "tests/support/test_util.h"

namespace cairn::sync {
namespace {

using testing::Hex;

// RFC 8032 section 7.1, test 1: the seed and its public key.
const char kSeed[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const char kPublic[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
// Computed independently of Cairn's code (Python's hashlib and the `cryptography` package):
// blake2b(b"cairn-device-id-v1" + key, digest_size=16).
const char kDeviceId[] = "1b064c6276dab872af490195798fcc0a";
const char kBody[] =
    R"({"v":1,"idempotency_key":"key-0123456789abcdef","kind":"caption-hq",)"
    R"("preset":"final","payload":{}})";
const char kCanonical[] =
    "cairn-request\n1\nPOST\n/v1/jobs\n1b064c6276dab872af490195798fcc0a\n1700000000000\n"
    "nonce-0123456789abcdef\na232140c2a62109ecfec4bf1199b4f1ca1645ca758cc42dea206e4039dbbfdaa\n";
const char kSignature[] =
    "76c0e57d30a7087ef03ee327382fbba60a98ab43a0c97cedd5d540fd5fcc9d76"
    "87a6e85cc94e5f78803bc118c2165fc349d3728f0b1c08ceac53fbbcfa75d506";
constexpr int64_t kTs = 1'700'000'000'000;
const char kNonce[] = "nonce-0123456789abcdef";

RequestSigner Signer() { return RequestSigner(crypto::SigningKeyPairFromSeed(Hex(kSeed)).value()); }

HttpRequest Post() {
  return HttpRequest{"POST", "/v1/jobs", {{"Content-Type", "application/json"}}, kBody};
}

HttpRequest Signed(HttpRequest r = Post(), int64_t ts = kTs, std::string nonce = kNonce) {
  REQUIRE(Signer().Sign(r, ts, nonce).ok());
  return r;
}

// The wire code of a failed status ("" when OK).
std::string Code(const Status& s) { return s.ok() ? "" : ApiErrorFromStatus(s).code; }

Status Verify(const HttpRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(RequestCredentials c, ParseCredentials(r));
  return VerifyRequestSignature(r, c, Hex(kPublic));
}

void SetHeader(HttpRequest& r, const std::string& name, const std::string& value) {
  for (auto& [k, v] : r.headers) {
    if (SameHeaderName(k, name)) v = value;
  }
}

TEST_CASE("known answers: device id, canonical string and signature") {
  CHECK(DeviceIdOf(Hex(kPublic)) == kDeviceId);
  CHECK(Signer().device_id() == kDeviceId);
  CHECK(CanonicalRequest("POST", "/v1/jobs", kBody, kDeviceId, kTs, kNonce).value() == kCanonical);
  HttpRequest r = Signed();
  CHECK(FindHeader(r.headers, "cairn-device") == kDeviceId);
  CHECK(FindHeader(r.headers, kTimestampHeader) == "1700000000000");
  CHECK(FindHeader(r.headers, kNonceHeader) == kNonce);
  CHECK(FindHeader(r.headers, kSignatureHeader) == kSignature);
  CHECK(Verify(r).ok());
  // Signing again replaces the headers rather than adding a second set.
  REQUIRE(Signer().Sign(r, kTs + 1, "another-nonce-0123456").ok());
  CHECK(r.headers.size() == 5);
  CHECK(Verify(r).ok());
}

TEST_CASE("changing anything the signature covers makes it fail with bad_signature") {
  struct Case {
    const char* what;
    void (*tamper)(HttpRequest&);
  } cases[] = {
      {"method", [](HttpRequest& r) { r.method = "PUT"; }},
      {"path", [](HttpRequest& r) { r.target = "/v1/jobz"; }},
      {"query", [](HttpRequest& r) { r.target = "/v1/jobs?since=0"; }},
      {"body", [](HttpRequest& r) { r.body[r.body.size() - 2] = ' '; }},
      {"empty body", [](HttpRequest& r) { r.body.clear(); }},
      {"timestamp", [](HttpRequest& r) { SetHeader(r, kTimestampHeader, "1700000000001"); }},
      {"nonce", [](HttpRequest& r) { SetHeader(r, kNonceHeader, "nonce-0123456789abcdeF"); }},
      {"signature", [](HttpRequest& r) {
         SetHeader(r, kSignatureHeader, std::string(kSignature).replace(0, 1, "8"));
       }},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    HttpRequest r = Signed();
    REQUIRE(Verify(r).ok());
    c.tamper(r);
    Status s = Verify(r);
    CHECK(Code(s) == "bad_signature");
    CHECK(s.message().find(kDeviceId) != std::string::npos);
  }
  // Another device's id in the header: the key does not belong to it.
  HttpRequest r = Signed();
  SetHeader(r, kDeviceHeader, "00000000000000000000000000000000");
  CHECK(Code(Verify(r)) == "bad_signature");
  // Another key signing as this device.
  RequestSigner other(crypto::GenerateSigningKeyPair());
  HttpRequest forged = Post();
  REQUIRE(other.Sign(forged, kTs, kNonce).ok());
  SetHeader(forged, kDeviceHeader, kDeviceId);
  CHECK(Code(Verify(forged)) == "bad_signature");
}

TEST_CASE("credentials: each header missing, repeated or malformed is unauthenticated, by name") {
  for (const char* name : {kDeviceHeader, kTimestampHeader, kNonceHeader, kSignatureHeader}) {
    INFO(name);
    HttpRequest r = Signed();
    std::erase_if(r.headers, [&](const auto& h) { return SameHeaderName(h.first, name); });
    Status missing = ParseCredentials(r).status();
    CHECK(Code(missing) == "unauthenticated");
    CHECK(missing.message().find(std::string("no ") + name) != std::string::npos);
    HttpRequest twice = Signed();
    twice.headers.emplace_back(name, *FindHeader(twice.headers, name));
    Status repeated = ParseCredentials(twice).status();
    CHECK(Code(repeated) == "unauthenticated");
    CHECK(repeated.message().find("repeated") != std::string::npos);
  }
  struct Bad {
    const char* header;
    std::string value;
  } bad[] = {
      {kDeviceHeader, "1B064C6276DAB872AF490195798FCC0A"},  // one spelling only: lowercase
      {kDeviceHeader, "dev-a"},
      {kTimestampHeader, "01700000000000"},  // a leading zero would re-spell a signed value
      {kTimestampHeader, "-1"},
      {kTimestampHeader, "1700000000000.5"},
      {kTimestampHeader, "1000000000000000"},  // 16 digits
      {kNonceHeader, "short"},
      {kNonceHeader, std::string(65, 'n')},
      {kNonceHeader, "nonce with spaces 0123"},
      {kSignatureHeader, std::string(kSignature).substr(2)},
      {kSignatureHeader, "76C0" + std::string(kSignature).substr(4)},
  };
  for (const Bad& b : bad) {
    INFO(b.header << ": " << b.value);
    HttpRequest r = Signed();
    SetHeader(r, b.header, b.value);
    Status s = ParseCredentials(r).status();
    CHECK(Code(s) == "unauthenticated");
    CHECK(s.message().find(b.header) != std::string::npos);
  }
  CHECK(ParseCredentials(Signed()).ok());
}

TEST_CASE("the canonical string refuses fields that could blur its lines") {
  CHECK(Code(CanonicalRequest("post", "/v1/jobs", "", kDeviceId, kTs, kNonce).status()) ==
        "unauthenticated");
  CHECK(Code(CanonicalRequest("POST", "/v1/jobs\n1", "", kDeviceId, kTs, kNonce).status()) ==
        "unauthenticated");
  CHECK(Code(CanonicalRequest("POST", "/v1/a b", "", kDeviceId, kTs, kNonce).status()) ==
        "unauthenticated");
  CHECK(Code(CanonicalRequest("POST", "v1/jobs", "", kDeviceId, kTs, kNonce).status()) ==
        "unauthenticated");
  CHECK(Code(CanonicalRequest("POST", "/" + std::string(kMaxTargetChars, 'a'), "", kDeviceId, kTs,
                              kNonce).status()) == "unauthenticated");
  CHECK(Code(CanonicalRequest("POST", "/v1/jobs", "", kDeviceId, -1, kNonce).status()) ==
        "unauthenticated");
  CHECK(Code(CanonicalRequest("POST", "/v1/jobs", "", kDeviceId, kTs, "a\nb-0123456789abcdef")
                 .status()) == "unauthenticated");
  HttpRequest spaced{"GET", "/v1/jobs?x=a b", {}, ""};
  CHECK(!Signer().Sign(spaced, kTs, kNonce).ok());
  CHECK(spaced.headers.empty());
}

TEST_CASE("freshness: the window's edges are inside, one millisecond past them is stale") {
  const int64_t w = kRequestWindowMs;
  CHECK(CheckFreshness(kTs, kTs, w).ok());
  CHECK(CheckFreshness(kTs - w, kTs, w).ok());
  CHECK(CheckFreshness(kTs + w, kTs, w).ok());
  Status behind = CheckFreshness(kTs - w - 1, kTs, w);
  CHECK(Code(behind) == "stale_request");
  CHECK(behind.message().find("300001 ms behind") != std::string::npos);
  Status ahead = CheckFreshness(kTs + w + 1, kTs, w);
  CHECK(Code(ahead) == "stale_request");
  CHECK(ahead.message().find("300001 ms ahead of") != std::string::npos);
}

TEST_CASE("the signer learns the server's clock from a 401 and signs with it") {
  RequestSigner signer = Signer();
  HttpResponse refused{401, {{kServerTimeHeader, std::to_string(kTs + 600'000)}}, ""};
  CHECK(!signer.LearnServerTime(HttpResponse{200, refused.headers, ""}, kTs));
  CHECK(signer.LearnServerTime(refused, kTs));
  CHECK(signer.clock_offset_ms() == 600'000);
  CHECK(!signer.LearnServerTime(refused, kTs));  // the same offset again: nothing new
  HttpResponse junk{401, {{kServerTimeHeader, "soon"}}, ""};
  CHECK(!signer.LearnServerTime(junk, kTs));
  CHECK(signer.clock_offset_ms() == 600'000);
  HttpRequest r = Post();
  REQUIRE(signer.Sign(r, kTs, kNonce).ok());
  CHECK(FindHeader(r.headers, kTimestampHeader) == std::to_string(kTs + 600'000));
}

TEST_CASE("nonces: fresh ones differ and pass the syntax check") {
  const std::string a = NewNonce(), b = NewNonce();
  CHECK(a.size() == 32);
  CHECK(a != b);
  CHECK(CheckNonce(a).ok());
}

TEST_CASE("registration messages round-trip and are parsed strictly") {
  HttpRequest reg = MakeRegisterRequest(Hex(kPublic));
  CHECK(reg.method == "POST");
  CHECK(reg.target == "/v1/devices");
  CHECK(ParseDeviceRegistration(reg.body).value() == Hex(kPublic));
  CHECK(Code(ParseDeviceRegistration(R"({"v":1})").status()) == "missing_field");
  CHECK(Code(ParseDeviceRegistration(R"({"v":1,"public_key":"abcd"})").status()) == "bad_value");
  CHECK(Code(ParseDeviceRegistration(R"({"v":1,"public_key":")" +
                                     std::string(kPublic).replace(0, 1, "D") + "\"}")
                 .status()) == "bad_value");
  CHECK(Code(ParseDeviceRegistration(R"({"v":1,"public_key":")" + std::string(kPublic) +
                                     R"(","name":"x"})")
                 .status()) == "unknown_field");
  CHECK(Code(ParseDeviceRegistration(R"({"v":2,"public_key":")" + std::string(kPublic) + "\"}")
                 .status()) == "unsupported_version");
  DeviceView v{kDeviceId, Hex(kPublic), kTs};
  DeviceView back = ParseDevice(SerializeDevice(v)).value();
  CHECK(back.id == v.id);
  CHECK(back.public_key == v.public_key);
  CHECK(back.registered_at_ms == kTs);
}

}  // namespace
}  // namespace cairn::sync
