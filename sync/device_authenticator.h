// DeviceAuthenticator: cairn-server's side of device authentication (sync/PROTOCOL.md), over a
// DeviceStore, sans-I/O (time comes in as `now_ms`). It registers devices and decides which
// device sent a signed request; sync/api_gateway.h puts it in front of the ApiRouter.
//
//   DeviceAuthenticator auth(device_store, AuthOptions{});
//   Result<RegisterOutcome> reg = auth.Register(post_v1_devices, now);  // idempotent per key
//   Result<std::string> device = auth.Authenticate(request, now);
//   if (!device.ok()) return ErrorResponse(ApiErrorFromStatus(device.status()));   // 401, 429
//
// Rules, in the order they are checked (the first that fails answers, nothing is stored):
//   1. credentials: the four Cairn-* headers, once each, well-formed     401 unauthenticated
//   2. the device is registered (Register: the body's key has that id)   401 unknown_device
//   3. the timestamp is within the window of now_ms                      401 stale_request
//   4. the signature verifies under the device's stored key              401 bad_signature
//   5. (device, nonce) was not used within the window                    401 replayed_request
//      and the device has fewer than max_nonces_per_device live nonces   429 rate_limited
// Only a request that passed 1-4 gets its nonce recorded (so forged requests cannot fill the
// store or burn a device's nonces); the nonce is remembered until timestamp + window, after which
// a replay fails rule 3 instead. Replays are detected by nonce, never by signature bytes, so a
// re-encoded signature is still a replay.
// Threading: as the DeviceStore (one thread at a time for SqliteDeviceStore).
#ifndef CAIRN_SYNC_DEVICE_AUTHENTICATOR_H_
#define CAIRN_SYNC_DEVICE_AUTHENTICATOR_H_

#include <cstdint>
#include <string>

#include "core/base/status.h"
#include "sync/device_store.h"
#include "sync/http_message.h"
#include "sync/protocol.h"
#include "sync/request_auth.h"

namespace cairn::sync {

struct AuthOptions {
  int64_t window_ms = kRequestWindowMs;
  // Live nonces a device may have: its accepted requests of about the last window (a nonce
  // lives until its timestamp + window). 10,000 per 5 minutes is ~33 requests a second.
  int64_t max_nonces_per_device = 10'000;
};

struct RegisterOutcome {
  DeviceView device;
  bool created = false;  // false: this key was registered before (the same id, 200)
};

class DeviceAuthenticator {
 public:
  DeviceAuthenticator(DeviceStore& store, AuthOptions options);

  // POST /v1/devices: the body's public key, signed by that key (proof of possession) with
  // Cairn-Device set to its id. Errors as Authenticate, plus 400s for the body and 415.
  Result<RegisterOutcome> Register(const HttpRequest& request, int64_t now_ms);
  // The id of the registered device that signed `request`, or a wire error (rules above).
  Result<std::string> Authenticate(const HttpRequest& request, int64_t now_ms);

  const AuthOptions& options() const { return options_; }

 private:
  // Rules 3-5 for credentials whose device has `public_key`.
  Status Check(const HttpRequest& request, const RequestCredentials& c, ByteView public_key,
               int64_t now_ms);

  DeviceStore& store_;
  AuthOptions options_;
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_DEVICE_AUTHENTICATOR_H_
