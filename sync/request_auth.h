// Device authentication for protocol v1 (sync/PROTOCOL.md, "Authentication"): Ed25519 request
// signatures, sans-I/O, so the same code signs on the device (natively, and in the PWA's worker
// as wasm) and checks on the server (sync/device_authenticator.h adds the device store and the
// nonce memory).
//
//   // device: a key pair kept in the vault; its id is derived from the public key
//   RequestSigner signer(crypto::GenerateSigningKeyPair());
//   HttpRequest reg = MakeRegisterRequest(signer.public_key());      // POST /v1/devices
//   Status s = signer.Sign(reg, now_ms, NewNonce());                 // once; then every request:
//   HttpRequest req = MakeGetJobRequest(id);
//   s = signer.Sign(req, now_ms, NewNonce());   // adds Cairn-Device/-Timestamp/-Nonce/-Signature
//
//   // server: headers -> who claims to send it -> is it fresh -> does the signature hold
//   Result<RequestCredentials> c = ParseCredentials(req);              // 401 unauthenticated
//   Status fresh = CheckFreshness(c->timestamp_ms, now_ms, kRequestWindowMs);  // stale_request
//   Status good = VerifyRequestSignature(req, *c, stored_public_key);  // bad_signature
//
// The signature covers CanonicalRequest(): the protocol version, the method, the request target
// (path and query, byte for byte as sent), the device id, the timestamp, the nonce and the
// BLAKE2b-256 of the body. Each field has a strict syntax that excludes the separator, so two
// different requests never have the same canonical string. Errors are wire statuses (protocol.h)
// naming the header or field that is wrong. Nothing here reads a clock or makes randomness
// except NewNonce(), which hosts call; the signer takes both as arguments.
// Threading: free functions are thread-safe; a RequestSigner is used by one thread at a time.
#ifndef CAIRN_SYNC_REQUEST_AUTH_H_
#define CAIRN_SYNC_REQUEST_AUTH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/bytes.h"
#include "core/base/status.h"
#include "core/crypto/sign.h"
#include "sync/http_message.h"

namespace cairn::sync {

inline constexpr char kDeviceHeader[] = "Cairn-Device";
inline constexpr char kTimestampHeader[] = "Cairn-Timestamp";
inline constexpr char kNonceHeader[] = "Cairn-Nonce";
inline constexpr char kSignatureHeader[] = "Cairn-Signature";
// On every 401: the server's clock (unix ms), so a device with a wrong clock can correct it.
inline constexpr char kServerTimeHeader[] = "Cairn-Server-Time";
inline constexpr char kAuthScheme[] = "Cairn-Ed25519";  // the 401's WWW-Authenticate

// A request is accepted while |server now - Cairn-Timestamp| <= the window (edges included).
inline constexpr int64_t kRequestWindowMs = 5 * 60 * 1000;
inline constexpr size_t kMinNonceChars = 16, kMaxNonceChars = 64;
inline constexpr size_t kDeviceIdChars = 32;     // 128 bits of BLAKE2b, lowercase hex
inline constexpr size_t kMaxTargetChars = 2048;  // the request target a signature may cover
inline constexpr size_t kMaxTimestampDigits = 15;

// The device id of an Ed25519 public key: hex(BLAKE2b-128("cairn-device-id-v1" || key)).
std::string DeviceIdOf(ByteView public_key);
// 32 lowercase hex digits.
bool IsDeviceId(std::string_view id);
// 16..64 of A-Z a-z 0-9 - _ (wire bad_value otherwise).
Status CheckNonce(std::string_view nonce);
// A fresh nonce: 32 hex digits from 16 random bytes. For hosts (the one randomness here).
std::string NewNonce();

// The bytes a device signs (lines ending in "\n"):
//   cairn-request / 1 / METHOD / TARGET / DEVICE-ID / TIMESTAMP / NONCE / hex BLAKE2b-256(body)
// kInvalidArgument (wire unauthenticated) if a field breaks its syntax: the method is 1..16 of
// A-Z, the target starts with '/' and is 1..2048 of the printable ASCII 0x21..0x7e, the device
// id and nonce as above, the timestamp 0..10^15-1.
Result<std::string> CanonicalRequest(std::string_view method, std::string_view target,
                                     std::string_view body, std::string_view device_id,
                                     int64_t timestamp_ms, std::string_view nonce);

// What the four headers of a signed request say (syntax checked, nothing verified yet).
struct RequestCredentials {
  std::string device_id;
  int64_t timestamp_ms = 0;
  std::string nonce;
  Bytes signature;  // 64 bytes
};

// The credentials of `request`; wire unauthenticated naming the header that is missing,
// repeated or malformed.
Result<RequestCredentials> ParseCredentials(const HttpRequest& request);
// wire stale_request unless |now_ms - timestamp_ms| <= window_ms; the message says by how much
// and in which direction the device's clock is off.
Status CheckFreshness(int64_t timestamp_ms, int64_t now_ms, int64_t window_ms);
// wire bad_signature unless `credentials.signature` signs `request` (method, target, body and
// the credentials) under `public_key`.
Status VerifyRequestSignature(const HttpRequest& request, const RequestCredentials& credentials,
                              ByteView public_key);

// The device side: signs requests with the device's key, and keeps the offset between the
// device's clock and the server's (learnt from a 401's Cairn-Server-Time) so a device whose
// clock is wrong still sends fresh timestamps.
class RequestSigner {
 public:
  explicit RequestSigner(crypto::SigningKeyPair key);

  const std::string& device_id() const { return device_id_; }
  const Bytes& public_key() const { return key_.public_key; }

  // Sets the four Cairn-* headers of `request` (replacing any there) for the device's clock
  // reading `now_ms` (plus the learnt offset) and `nonce` (NewNonce(): never reuse one).
  // kInvalidArgument if the request cannot be signed (a target with spaces, a bad nonce).
  Status Sign(HttpRequest& request, int64_t now_ms, std::string_view nonce) const;

  // For a 401 that carries Cairn-Server-Time: sets the offset to (server time - now_ms) and
  // returns true if that changed it by more than a second (the refused request is worth
  // resending). Other responses are ignored. The header is as trustworthy as the transport:
  // over plain HTTP a man in the middle could make the device date its requests in the future
  // and hold them back until then, which is one more reason TLS belongs in front of the server.
  bool LearnServerTime(const HttpResponse& response, int64_t now_ms);
  int64_t clock_offset_ms() const { return clock_offset_ms_; }

 private:
  crypto::SigningKeyPair key_;
  std::string device_id_;
  int64_t clock_offset_ms_ = 0;
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_REQUEST_AUTH_H_
