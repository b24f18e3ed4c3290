#include "sync/request_auth.h"

#include <algorithm>
#include <utility>

#include "core/crypto/hash.h"
#include "core/crypto/random.h"
#include "sync/protocol.h"

namespace cairn::sync {
namespace {

constexpr std::string_view kDeviceIdDomain = "cairn-device-id-v1";
constexpr std::string_view kCanonicalTag = "cairn-request";
constexpr size_t kMaxMethodChars = 16;
constexpr size_t kDeviceIdBytes = kDeviceIdChars / 2;

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

Status Unauthenticated(std::string detail) {
  return WireStatus(wire::kUnauthenticated, std::move(detail));
}

// "0" or digits without a leading zero, at most kMaxTimestampDigits: one spelling per value, so
// a signed timestamp cannot be re-spelt.
bool ParseTimestamp(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > kMaxTimestampDigits) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

Status CheckMethod(std::string_view method) {
  if (method.empty() || method.size() > kMaxMethodChars ||
      !std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Unauthenticated("the method '" + std::string(method.substr(0, kMaxMethodChars)) +
                           "' cannot be signed: it must be 1 to 16 of A-Z");
  }
  return Status::Ok();
}

Status CheckTarget(std::string_view target) {
  if (target.empty() || target[0] != '/' || target.size() > kMaxTargetChars) {
    return Unauthenticated("the request target cannot be signed: it must start with '/' and be at "
                           "most " + std::to_string(kMaxTargetChars) + " characters");
  }
  for (size_t i = 0; i < target.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(target[i]);
    if (c < 0x21 || c > 0x7e) {
      return Unauthenticated("the request target cannot be signed: byte " + std::to_string(i) +
                             " is not printable ASCII (percent-encode it)");
    }
  }
  return Status::Ok();
}

// The headers named `name`: exactly one, or an error naming it.
Result<std::string> OneHeader(const HttpHeaders& headers, const char* name) {
  std::optional<std::string> found;
  int count = 0;
  for (const auto& [k, v] : headers) {
    if (SameHeaderName(k, name)) {
      ++count;
      found = v;
    }
  }
  if (count == 0) {
    return Unauthenticated(std::string("the request has no ") + name +
                           " header; every /v1 request must be signed by a registered device");
  }
  if (count > 1) return Unauthenticated(std::string(name) + " is repeated; send it once");
  return *found;
}

}  // namespace

std::string DeviceIdOf(ByteView public_key) {
  Bytes input = ToBytes(kDeviceIdDomain);
  input.insert(input.end(), public_key.begin(), public_key.end());
  // BLAKE2b with a valid digest size and no key cannot fail.
  return ToHex(crypto::Blake2bHash(input, kDeviceIdBytes).value());
}

bool IsDeviceId(std::string_view id) { return id.size() == kDeviceIdChars && IsLowerHex(id); }

Status CheckNonce(std::string_view nonce) {
  if (nonce.size() < kMinNonceChars || nonce.size() > kMaxNonceChars ||
      !std::all_of(nonce.begin(), nonce.end(), IsKeyChar)) {
    return Unauthenticated(std::string(kNonceHeader) + " must be " +
                           std::to_string(kMinNonceChars) + " to " +
                           std::to_string(kMaxNonceChars) + " of A-Z a-z 0-9 - _");
  }
  return Status::Ok();
}

std::string NewNonce() { return ToHex(crypto::RandomBytes(16)); }

Result<std::string> CanonicalRequest(std::string_view method, std::string_view target,
                                     std::string_view body, std::string_view device_id,
                                     int64_t timestamp_ms, std::string_view nonce) {
  CAIRN_RETURN_IF_ERROR(CheckMethod(method));
  CAIRN_RETURN_IF_ERROR(CheckTarget(target));
  if (!IsDeviceId(device_id)) {
    return Unauthenticated(std::string(kDeviceHeader) + " must be " +
                           std::to_string(kDeviceIdChars) + " lowercase hex digits");
  }
  const std::string ts = std::to_string(timestamp_ms);
  if (timestamp_ms < 0 || ts.size() > kMaxTimestampDigits) {
    return Unauthenticated(std::string(kTimestampHeader) + " " + ts +
                           " is not a time in unix milliseconds");
  }
  CAIRN_RETURN_IF_ERROR(CheckNonce(nonce));
  CAIRN_ASSIGN_OR_RETURN(Bytes body_hash, crypto::Blake2bHash(AsBytes(body), 32));
  const std::string body_hex = ToHex(body_hash);
  std::string out;
  out.reserve(kCanonicalTag.size() + target.size() + 256);
  for (std::string_view field :
       {kCanonicalTag, std::string_view("1"), method, target, device_id, std::string_view(ts),
        nonce, std::string_view(body_hex)}) {
    out.append(field);
    out.push_back('\n');
  }
  static_assert(kProtocolVersion == 1, "the canonical string's version line says 1");
  return out;
}

Result<RequestCredentials> ParseCredentials(const HttpRequest& request) {
  RequestCredentials c;
  CAIRN_ASSIGN_OR_RETURN(c.device_id, OneHeader(request.headers, kDeviceHeader));
  if (!IsDeviceId(c.device_id)) {
    return Unauthenticated(std::string(kDeviceHeader) + " must be " +
                           std::to_string(kDeviceIdChars) +
                           " lowercase hex digits (the id POST /v1/devices returned)");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string ts, OneHeader(request.headers, kTimestampHeader));
  if (!ParseTimestamp(ts, &c.timestamp_ms)) {
    return Unauthenticated(std::string(kTimestampHeader) +
                           " must be the time in unix milliseconds, digits only (no leading "
                           "zero), at most " + std::to_string(kMaxTimestampDigits) + " of them");
  }
  CAIRN_ASSIGN_OR_RETURN(c.nonce, OneHeader(request.headers, kNonceHeader));
  CAIRN_RETURN_IF_ERROR(CheckNonce(c.nonce));
  CAIRN_ASSIGN_OR_RETURN(std::string sig, OneHeader(request.headers, kSignatureHeader));
  if (sig.size() != 2 * crypto::kSignatureBytes || !IsLowerHex(sig)) {
    return Unauthenticated(std::string(kSignatureHeader) + " must be " +
                           std::to_string(2 * crypto::kSignatureBytes) +
                           " lowercase hex digits (an Ed25519 signature)");
  }
  CAIRN_ASSIGN_OR_RETURN(c.signature, FromHex(sig));
  return c;
}

Status CheckFreshness(int64_t timestamp_ms, int64_t now_ms, int64_t window_ms) {
  const int64_t skew = timestamp_ms - now_ms;
  if (skew >= -window_ms && skew <= window_ms) return Status::Ok();
  const int64_t off = skew < 0 ? -skew : skew;
  return WireStatus(wire::kStaleRequest,
                    std::string(kTimestampHeader) + " " + std::to_string(timestamp_ms) + " is " +
                        std::to_string(off) + " ms " + (skew < 0 ? "behind" : "ahead of") +
                        " the server's clock (" + std::to_string(now_ms) + "); requests must be "
                        "within " + std::to_string(window_ms) + " ms of it: sign a new request "
                        "(the device's clock may be wrong; " + kServerTimeHeader +
                        " has the server's)");
}

Status VerifyRequestSignature(const HttpRequest& request, const RequestCredentials& c,
                              ByteView public_key) {
  CAIRN_ASSIGN_OR_RETURN(std::string canonical,
                         CanonicalRequest(request.method, request.target, request.body,
                                          c.device_id, c.timestamp_ms, c.nonce));
  if (public_key.size() != crypto::kSignPublicKeyBytes || DeviceIdOf(public_key) != c.device_id) {
    return WireStatus(wire::kBadSignature, std::string(kDeviceHeader) + " " + c.device_id +
                                               " is not the id of the key the signature is "
                                               "checked against");
  }
  if (!crypto::Verify(public_key, AsBytes(canonical), c.signature).ok()) {
    return WireStatus(wire::kBadSignature,
                      "the signature does not verify for device " + c.device_id +
                          ": the method, target, body or a Cairn-* header changed after "
                          "signing, or another key signed it");
  }
  return Status::Ok();
}

RequestSigner::RequestSigner(crypto::SigningKeyPair key)
    : key_(std::move(key)), device_id_(DeviceIdOf(key_.public_key)) {}

Status RequestSigner::Sign(HttpRequest& request, int64_t now_ms, std::string_view nonce) const {
  const int64_t timestamp = now_ms + clock_offset_ms_;
  CAIRN_ASSIGN_OR_RETURN(std::string canonical,
                         CanonicalRequest(request.method, request.target, request.body,
                                          device_id_, timestamp, nonce));
  CAIRN_ASSIGN_OR_RETURN(Bytes sig, crypto::Sign(key_.secret_key.view(), AsBytes(canonical)));
  std::erase_if(request.headers, [](const auto& h) {
    for (const char* name : {kDeviceHeader, kTimestampHeader, kNonceHeader, kSignatureHeader}) {
      if (SameHeaderName(h.first, name)) return true;
    }
    return false;
  });
  request.headers.emplace_back(kDeviceHeader, device_id_);
  request.headers.emplace_back(kTimestampHeader, std::to_string(timestamp));
  request.headers.emplace_back(kNonceHeader, std::string(nonce));
  request.headers.emplace_back(kSignatureHeader, ToHex(sig));
  return Status::Ok();
}

bool RequestSigner::LearnServerTime(const HttpResponse& response, int64_t now_ms) {
  if (response.status != 401) return false;
  std::optional<std::string> text = FindHeader(response.headers, kServerTimeHeader);
  int64_t server_ms = 0;
  if (!text || !ParseTimestamp(*text, &server_ms)) return false;
  const int64_t offset = server_ms - now_ms;
  const int64_t change = offset - clock_offset_ms_;
  clock_offset_ms_ = offset;
  return change > 1000 || change < -1000;
}

}  // namespace cairn::sync
