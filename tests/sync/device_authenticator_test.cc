#include "sync/device_authenticator.h"

#include <catch_amalgamated.hpp>

#include <memory>

#include "tests/sync/job_store_kinds.h"

namespace cairn::sync {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kWindow = kRequestWindowMs;

std::string Code(const Status& s) { return s.ok() ? "" : ApiErrorFromStatus(s).code; }

// One server's authenticator over a device store of `kind` (SQLite, or natively PostgreSQL
// too: tests/sync/job_store_kinds.h), restartable.
struct Server {
  explicit Server(const std::string& kind) : where(MakeStoreUnderTest(kind)) {}
  std::unique_ptr<StoreUnderTest> where;
  std::unique_ptr<DeviceStore> store = Open();
  AuthOptions options;
  std::unique_ptr<DeviceAuthenticator> auth =
      std::make_unique<DeviceAuthenticator>(*store, options);

  std::unique_ptr<DeviceStore> Open() { return where->OpenDevices().value(); }
  void Restart() {
    auth.reset();
    store.reset();  // closes the connection (and SQLite's exclusive lock) first
    store = Open();
    auth = std::make_unique<DeviceAuthenticator>(*store, options);
  }
  int64_t Nonces() { return store->CountNonces().value(); }
};

struct Device {
  RequestSigner signer{crypto::GenerateSigningKeyPair()};
  int n = 0;

  HttpRequest Sign(HttpRequest r, int64_t now) {
    REQUIRE(signer.Sign(r, now, "nonce-" + std::to_string(++n) + "-0123456789ab").ok());
    return r;
  }
  HttpRequest Registration(int64_t now) {
    return Sign(MakeRegisterRequest(signer.public_key()), now);
  }
  HttpRequest Get(int64_t now) { return Sign(MakeChangesRequest(0), now); }
};

TEST_CASE("registration: self-signed, idempotent per key, proof of possession required") {
  const std::string kind = GENERATE(from_range(JobStoreKinds()));
  Server server(kind);
  Device dev;
  Result<RegisterOutcome> first = server.auth->Register(dev.Registration(kNow), kNow);
  REQUIRE(first.ok());
  CHECK(first->created);
  CHECK(first->device.id == dev.signer.device_id());
  CHECK(first->device.public_key == dev.signer.public_key());
  CHECK(first->device.registered_at_ms == kNow);
  // Again, later, with a fresh signature: the same device, not created again.
  Result<RegisterOutcome> again = server.auth->Register(dev.Registration(kNow + 5), kNow + 5);
  REQUIRE(again.ok());
  CHECK(!again->created);
  CHECK(again->device.registered_at_ms == kNow);

  // Someone else's public key, signed with their own key: no proof of possession.
  Server other_server(kind);
  Device attacker;
  HttpRequest claim = MakeRegisterRequest(dev.signer.public_key());
  REQUIRE(attacker.signer.Sign(claim, kNow, "nonce-claim-0123456789").ok());
  Status s = other_server.auth->Register(claim, kNow).status();
  CHECK(Code(s) == "unauthenticated");
  CHECK(s.message().find("is not the id of the key being registered") != std::string::npos);
  // ... and with the victim's id in the header, the signature does not hold.
  for (auto& [k, v] : claim.headers) {
    if (SameHeaderName(k, kDeviceHeader)) v = dev.signer.device_id();
  }
  CHECK(Code(other_server.auth->Register(claim, kNow).status()) == "bad_signature");
  CHECK(!other_server.store->Get(dev.signer.device_id()).value().has_value());
  CHECK(other_server.Nonces() == 0);

  // Unsigned, or not JSON.
  CHECK(Code(other_server.auth->Register(MakeRegisterRequest(dev.signer.public_key()), kNow)
                 .status()) == "unauthenticated");
  HttpRequest text = MakeRegisterRequest(dev.signer.public_key());
  text.headers = {{"Content-Type", "text/plain"}};
  CHECK(Code(other_server.auth->Register(dev.Sign(text, kNow), kNow).status()) ==
        "unsupported_media_type");
}

TEST_CASE("authentication: who signed, or why not; refused requests store nothing") {
  const std::string kind = GENERATE(from_range(JobStoreKinds()));
  Server server(kind);
  Device dev, stranger;
  REQUIRE(server.auth->Register(dev.Registration(kNow), kNow).ok());
  CHECK(server.auth->Authenticate(dev.Get(kNow), kNow).value() == dev.signer.device_id());
  const int64_t stored = server.Nonces();
  CHECK(stored == 2);

  Status unknown = server.auth->Authenticate(stranger.Get(kNow), kNow).status();
  CHECK(Code(unknown) == "unknown_device");
  CHECK(unknown.message().find(stranger.signer.device_id()) != std::string::npos);
  CHECK(unknown.message().find("POST /v1/devices") != std::string::npos);

  HttpRequest tampered = dev.Get(kNow);
  tampered.target = "/v1/jobs?since=1";
  CHECK(Code(server.auth->Authenticate(tampered, kNow).status()) == "bad_signature");

  CHECK(Code(server.auth->Authenticate(dev.Get(kNow - kWindow - 1), kNow).status()) ==
        "stale_request");
  CHECK(Code(server.auth->Authenticate(dev.Get(kNow + kWindow + 1), kNow).status()) ==
        "stale_request");
  CHECK(server.auth->Authenticate(dev.Get(kNow - kWindow), kNow).ok());
  CHECK(server.auth->Authenticate(dev.Get(kNow + kWindow), kNow).ok());
  CHECK(server.Nonces() == stored + 2);  // only the two accepted ones
}

TEST_CASE("replays: refused while the timestamp is fresh, stale after; a retry is not a replay") {
  const std::string kind = GENERATE(from_range(JobStoreKinds()));
  Server server(kind);
  Device dev;
  REQUIRE(server.auth->Register(dev.Registration(kNow), kNow).ok());
  const HttpRequest captured = dev.Get(kNow);
  REQUIRE(server.auth->Authenticate(captured, kNow).ok());

  Status replay = server.auth->Authenticate(captured, kNow + 1).status();
  CHECK(Code(replay) == "replayed_request");
  CHECK(replay.message().find(*FindHeader(captured.headers, kNonceHeader)) != std::string::npos);
  // The same request signed again (a retry: fresh nonce) goes through.
  CHECK(server.auth->Authenticate(dev.Get(kNow + 1), kNow + 1).ok());
  // The last millisecond of the window still remembers the nonce; one later, the timestamp is
  // stale, so forgetting the nonce then opens nothing.
  CHECK(Code(server.auth->Authenticate(captured, kNow + kWindow).status()) == "replayed_request");
  CHECK(Code(server.auth->Authenticate(captured, kNow + kWindow + 1).status()) == "stale_request");

  // A replay after a restart: the nonces are on disk.
  const HttpRequest before = dev.Get(kNow + 10);
  REQUIRE(server.auth->Authenticate(before, kNow + 10).ok());
  server.Restart();
  CHECK(Code(server.auth->Authenticate(before, kNow + 20).status()) == "replayed_request");
  CHECK(server.auth->Authenticate(dev.Get(kNow + 20), kNow + 20).ok());
}

TEST_CASE("nonce memory is bounded: pruned after the window, capped per device") {
  const std::string kind = GENERATE(from_range(JobStoreKinds()));
  Server server(kind);
  server.options.max_nonces_per_device = 5;
  server.Restart();
  Device dev, other;
  REQUIRE(server.auth->Register(dev.Registration(kNow), kNow).ok());
  REQUIRE(server.auth->Register(other.Registration(kNow), kNow).ok());
  for (int i = 0; i < 4; ++i) REQUIRE(server.auth->Authenticate(dev.Get(kNow), kNow).ok());
  CHECK(server.Nonces() == 6);
  Status capped = server.auth->Authenticate(dev.Get(kNow), kNow).status();
  CHECK(Code(capped) == "rate_limited");
  CHECK(ApiErrorFromStatus(capped).http_status == 429);
  CHECK(server.Nonces() == 6);
  CHECK(server.auth->Authenticate(other.Get(kNow), kNow).ok());  // another device is not capped
  // Once the window has passed, every old nonce is forgotten and the device may go on.
  const int64_t later = kNow + kWindow + 1;
  CHECK(server.auth->Authenticate(dev.Get(later), later).ok());
  CHECK(server.Nonces() == 1);
}

}  // namespace
}  // namespace cairn::sync
