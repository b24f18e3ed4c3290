#include "sync/device_authenticator.h"

#include <utility>

namespace cairn::sync {

DeviceAuthenticator::DeviceAuthenticator(DeviceStore& store, AuthOptions options)
    : store_(store), options_(options) {}

Status DeviceAuthenticator::Check(const HttpRequest& request, const RequestCredentials& c,
                                  ByteView public_key, int64_t now_ms) {
  CAIRN_RETURN_IF_ERROR(CheckFreshness(c.timestamp_ms, now_ms, options_.window_ms));
  CAIRN_RETURN_IF_ERROR(VerifyRequestSignature(request, c, public_key));
  CAIRN_ASSIGN_OR_RETURN(NonceOutcome nonce,
                         store_.RecordNonce(c.device_id, c.nonce,
                                            c.timestamp_ms + options_.window_ms, now_ms,
                                            options_.max_nonces_per_device));
  switch (nonce) {
    case NonceOutcome::kRecorded: return Status::Ok();
    case NonceOutcome::kSeen:
      return WireStatus(wire::kReplayedRequest,
                        "device " + c.device_id + " already sent a request with " + kNonceHeader +
                            " " + c.nonce + " in the last " +
                            std::to_string(options_.window_ms) +
                            " ms: a replayed request is refused; sign every request, retries "
                            "included, with a fresh nonce");
    case NonceOutcome::kTooMany:
      return WireStatus(wire::kRateLimited,
                        "device " + c.device_id + " made " +
                            std::to_string(options_.max_nonces_per_device) +
                            " requests in the last " + std::to_string(options_.window_ms) +
                            " ms; slow down");
  }
  return Internal("unknown nonce outcome");
}

Result<RegisterOutcome> DeviceAuthenticator::Register(const HttpRequest& request, int64_t now_ms) {
  CAIRN_ASSIGN_OR_RETURN(RequestCredentials c, ParseCredentials(request));
  if (!HasJsonContentType(request)) {
    return WireStatus(wire::kUnsupportedMediaType,
                      "send the registration as Content-Type: application/json");
  }
  CAIRN_ASSIGN_OR_RETURN(Bytes public_key, ParseDeviceRegistration(request.body));
  const std::string id = DeviceIdOf(public_key);
  if (c.device_id != id) {
    return WireStatus(wire::kUnauthenticated,
                      std::string(kDeviceHeader) + " " + c.device_id + " is not the id of the key "
                      "being registered (" + id + "): sign the registration with that key");
  }
  CAIRN_RETURN_IF_ERROR(Check(request, c, public_key, now_ms));
  CAIRN_ASSIGN_OR_RETURN(DeviceInsertOutcome out,
                         store_.InsertOrGet(StoredDevice{id, public_key, now_ms}));
  if (out.device.public_key != public_key) {
    // Two keys with one 128-bit id: never by chance; refuse rather than let one act as the other.
    return WireStatus(wire::kKeyReused, "device id " + id + " is registered to another public key; "
                                        "make a new key pair");
  }
  return RegisterOutcome{DeviceView{out.device.id, std::move(out.device.public_key),
                                    out.device.registered_at_ms},
                         out.inserted};
}

Result<std::string> DeviceAuthenticator::Authenticate(const HttpRequest& request,
                                                      int64_t now_ms) {
  CAIRN_ASSIGN_OR_RETURN(RequestCredentials c, ParseCredentials(request));
  CAIRN_ASSIGN_OR_RETURN(std::optional<StoredDevice> device, store_.Get(c.device_id));
  if (!device) {
    return WireStatus(wire::kUnknownDevice,
                      "device " + c.device_id + " is not registered on this server: register its "
                      "public key with POST /v1/devices, then sign again");
  }
  CAIRN_RETURN_IF_ERROR(Check(request, c, device->public_key, now_ms));
  return std::move(c.device_id);
}

}  // namespace cairn::sync
