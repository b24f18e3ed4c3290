// The wire protocol between devices and cairn-server, version 1 (sync/PROTOCOL.md is the
// reference): the message types, their JSON, and the stable error codes.
//
//   JobSubmission s{"4f1c...", JobKind::kCaptionHq, Preset::kFinal, R"({"task":"..."})"};
//   HttpRequest req = MakeSubmitRequest(s).value();    // POST /v1/jobs
//   ...
//   Result<JobSubmission> back = ParseJobSubmission(req.body);
//   // unknown field: kInvalidArgument, "unknown_field: 'colour' is not a field of a job ..."
//   ApiError e = ApiErrorFromStatus(back.status());    // {400, "unknown_field", "'colour' ..."}
//
// Strictness: what the server parses (requests) is strict: unknown fields, missing fields, wrong
// types, bad values, oversize bodies, nesting deeper than kMaxJsonDepth and any other version
// are refused, each with its own code. What the device parses (responses) is strict about the
// fields it needs but ignores fields it does not know, so a v1 server may add fields without
// breaking older apps. A parse error's Status message is "<code>: <detail>", where <code> is one
// of the wire codes below; ApiErrorFromStatus turns any Status into the error a server sends.
#ifndef CAIRN_SYNC_PROTOCOL_H_
#define CAIRN_SYNC_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/status.h"
#include "sync/http_message.h"
#include "sync/job.h"

namespace cairn::sync {

inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kMaxRequestBodyBytes = 64 * 1024;
inline constexpr size_t kMaxPayloadBytes = 32 * 1024;
inline constexpr size_t kMaxResultBytes = 1024 * 1024;
inline constexpr int kMaxJsonDepth = 32;
inline constexpr size_t kMaxErrorMessageBytes = 2000;  // longer messages in an error are ignored
inline constexpr size_t kMinKeyChars = 16, kMaxKeyChars = 64;
inline constexpr int kDefaultPageSize = 100, kMaxPageSize = 500;
inline constexpr char kBlobsPrefix[] = "/v1/blobs/";  // PUT /v1/blobs/<hash>

// Stable wire error codes (PROTOCOL.md lists their HTTP statuses). Never rename one.
namespace wire {
inline constexpr char kBadJson[] = "bad_json";
inline constexpr char kUnknownField[] = "unknown_field";
inline constexpr char kMissingField[] = "missing_field";
inline constexpr char kWrongType[] = "wrong_type";
inline constexpr char kBadValue[] = "bad_value";
inline constexpr char kTooLarge[] = "too_large";
inline constexpr char kUnsupportedVersion[] = "unsupported_version";
inline constexpr char kUnsupportedMediaType[] = "unsupported_media_type";
// 401s, from device authentication (sync/request_auth.h, sync/device_authenticator.h).
inline constexpr char kUnauthenticated[] = "unauthenticated";  // credentials missing or malformed
inline constexpr char kUnknownDevice[] = "unknown_device";
inline constexpr char kBadSignature[] = "bad_signature";
inline constexpr char kStaleRequest[] = "stale_request";
inline constexpr char kReplayedRequest[] = "replayed_request";
inline constexpr char kNotFound[] = "not_found";
inline constexpr char kMethodNotAllowed[] = "method_not_allowed";
inline constexpr char kKeyReused[] = "key_reused";
inline constexpr char kNotReady[] = "not_ready";
// 410: the job finished and retention removed it; it never runs again (PROTOCOL.md, Retention).
inline constexpr char kJobExpired[] = "job_expired";
inline constexpr char kHashMismatch[] = "hash_mismatch";  // a blob's bytes are not its hash's
inline constexpr char kBadImage[] = "bad_image";          // a blob is not an image Cairn decodes
inline constexpr char kQuotaExceeded[] = "quota_exceeded";  // a device's blobs would pass its quota
inline constexpr char kRateLimited[] = "rate_limited";
inline constexpr char kUnavailable[] = "unavailable";
inline constexpr char kInternal[] = "internal";
}  // namespace wire

struct ApiError {
  int http_status = 500;
  std::string code;  // a wire code
  std::string message;
};

// A Status carrying wire code `code` (a wire:: constant) in its message.
Status WireStatus(const char* code, std::string detail);
// The error a server sends for `status`: its wire code if it has one, else one mapped from its
// StatusCode (kNotFound -> 404 not_found, kResourceExhausted -> 429, kUnavailable -> 503, ...).
ApiError ApiErrorFromStatus(const Status& status);

struct JobSubmission {
  std::string idempotency_key;  // 16..64 of [A-Za-z0-9_-], made by the device at creation
  JobKind kind = JobKind::kCaptionHq;
  Preset preset = Preset::kFinal;
  std::string payload_json;  // a JSON object, at most kMaxPayloadBytes
};

struct JobView {
  std::string id;  // the server's id
  std::string idempotency_key;
  JobKind kind = JobKind::kCaptionHq;
  Preset preset = Preset::kFinal;
  JobState state = JobState::kAccepted;  // accepted | running | done | failed | cancelled
  int64_t seq = 0;                       // the change sequence: the feed's cursor
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::string error_code;  // set when failed: why, for the user
  std::string error_message;
};

// A registered device as the server returns it (POST /v1/devices).
struct DeviceView {
  std::string id;       // DeviceIdOf(public_key), sync/request_auth.h
  Bytes public_key;     // Ed25519, 32 bytes
  int64_t registered_at_ms = 0;
};

// A job of the device that finished and was removed by the server's retention (the feed's
// "expired"): the device stops waiting for it.
struct ExpiredView {
  std::string id;
  std::string idempotency_key;
  int64_t seq = 0;  // the change sequence of its removal
  int64_t expired_at_ms = 0;
};

struct ChangesPage {
  std::vector<JobView> jobs;  // ordered by seq
  int64_t next_since = 0;     // pass as `since` for the next page
  bool more = false;          // another page is ready now
  std::vector<ExpiredView> expired;  // ordered by seq; seqs never repeat those of `jobs`
};

struct JobResult {
  std::string id;
  std::string result_json;  // a JSON object made by the render worker
};

// Requests (the device builds them; the server parses the bodies strictly).
Result<HttpRequest> MakeSubmitRequest(const JobSubmission& s);
HttpRequest MakeGetJobRequest(std::string_view id);
HttpRequest MakeChangesRequest(int64_t since, int limit = kDefaultPageSize);
HttpRequest MakeResultRequest(std::string_view id);
HttpRequest MakeCancelRequest(std::string_view id);
// PUT /v1/blobs/<BLAKE2b-256 of bytes> (application/octet-stream): the source of an image export.
HttpRequest MakeBlobUploadRequest(std::string_view bytes);
// GET /v1/jobs/<id>/result/<name>: one rendition's bytes.
HttpRequest MakeRenditionRequest(std::string_view id, std::string_view name);
// POST /v1/devices with {"v":1,"public_key":"<64 hex>"}; sign it with that key before sending.
HttpRequest MakeRegisterRequest(ByteView public_key);
Result<JobSubmission> ParseJobSubmission(std::string_view body);
// The public key of a registration body (32 bytes; bad_value otherwise).
Result<Bytes> ParseDeviceRegistration(std::string_view body);
Status CheckIdempotencyKey(std::string_view key);

// Response bodies (the server writes them; the device parses them).
std::string SerializeJob(const JobView& job);  // {"v":1,"job":{...}}
Result<JobView> ParseJob(std::string_view body);
std::string SerializeDevice(const DeviceView& device);  // {"v":1,"device":{...}}
Result<DeviceView> ParseDevice(std::string_view body);
std::string SerializeChanges(const ChangesPage& page);
Result<ChangesPage> ParseChanges(std::string_view body);
Result<std::string> SerializeResult(const JobResult& result);
Result<JobResult> ParseResult(std::string_view body);
std::string SerializeError(const ApiError& error);  // {"error":{"code":..,"message":..}}
// The error in a non-2xx response. A body that is not Cairn's error JSON (a proxy's page), or
// whose code is not a wire code's shape (1..64 of a-z 0-9 _), gives code "http_<status>" and a
// message naming the status, never a parse failure; a message over kMaxErrorMessageBytes is
// replaced by that one too.
ApiError ParseError(const HttpResponse& response);

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_PROTOCOL_H_
