#include "sync/protocol.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <initializer_list>

#include "sync/blob_store.h"

namespace cairn::sync {
namespace {

using Json = nlohmann::json;

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Deepest nesting of arrays and objects, without parsing (so a hostile body cannot make the
// parser or the destructor recurse deeply).
int NestingDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') deepest = std::max(deepest, ++depth);
    else if (c == '}' || c == ']') --depth;
  }
  return deepest;
}

Result<Json> ParseObject(std::string_view body, const char* what, size_t max_bytes) {
  if (body.size() > max_bytes) {
    return WireStatus(wire::kTooLarge, std::string(what) + " is " + std::to_string(body.size()) +
                                           " bytes; the limit is " + std::to_string(max_bytes));
  }
  if (NestingDepth(body) > kMaxJsonDepth) {
    return WireStatus(wire::kBadJson, std::string(what) + " nests deeper than " +
                                          std::to_string(kMaxJsonDepth) + " levels");
  }
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return WireStatus(wire::kBadJson, std::string(what) + " is not valid JSON");
  if (!j.is_object()) return WireStatus(wire::kBadJson, std::string(what) + " is not a JSON object");
  return j;
}

Status CheckFields(const Json& j, const char* what, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : j.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) {
      return WireStatus(wire::kUnknownField,
                        "'" + key + "' is not a field of " + what);
    }
  }
  return Status::Ok();
}

Result<const Json*> Field(const Json& j, const char* what, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) {
    return WireStatus(wire::kMissingField, std::string(what) + " has no '" + name + "'");
  }
  return &*it;
}

Result<std::string> StringField(const Json& j, const char* what, const char* name) {
  CAIRN_ASSIGN_OR_RETURN(const Json* v, Field(j, what, name));
  if (!v->is_string()) {
    return WireStatus(wire::kWrongType, std::string("'") + name + "' must be a string");
  }
  return v->get<std::string>();
}

Result<int64_t> IntField(const Json& j, const char* what, const char* name) {
  CAIRN_ASSIGN_OR_RETURN(const Json* v, Field(j, what, name));
  if (!v->is_number_integer()) {
    return WireStatus(wire::kWrongType, std::string("'") + name + "' must be an integer");
  }
  return v->get<int64_t>();
}

Status CheckVersion(const Json& j, const char* what) {
  CAIRN_ASSIGN_OR_RETURN(int64_t v, IntField(j, what, "v"));
  if (v != kProtocolVersion) {
    return WireStatus(wire::kUnsupportedVersion,
                      std::string(what) + " is version " + std::to_string(v) +
                          "; this side speaks version " + std::to_string(kProtocolVersion));
  }
  return Status::Ok();
}

template <typename T>
Result<T> Named(const Json& j, const char* what, const char* name,
                std::optional<T> (*parse)(std::string_view), const char* allowed) {
  CAIRN_ASSIGN_OR_RETURN(std::string s, StringField(j, what, name));
  std::optional<T> v = parse(s);
  if (!v) {
    return WireStatus(wire::kBadValue,
                      std::string("'") + name + "' is '" + s + "'; it must be " + allowed);
  }
  return *v;
}

Json JobJson(const JobView& v) {
  Json j = {{"id", v.id},
            {"idempotency_key", v.idempotency_key},
            {"kind", JobKindName(v.kind)},
            {"preset", PresetName(v.preset)},
            {"state", JobStateName(v.state)},
            {"seq", v.seq},
            {"created_at", v.created_at_ms},
            {"updated_at", v.updated_at_ms}};
  if (!v.error_code.empty()) {
    j["error"] = {{"code", v.error_code}, {"message", v.error_message}};
  }
  return j;
}

Result<JobView> JobFromJson(const Json& j) {
  const char* what = "a job";
  if (!j.is_object()) return WireStatus(wire::kWrongType, "'job' must be an object");
  JobView v;
  CAIRN_ASSIGN_OR_RETURN(v.id, StringField(j, what, "id"));
  CAIRN_ASSIGN_OR_RETURN(v.idempotency_key, StringField(j, what, "idempotency_key"));
  CAIRN_ASSIGN_OR_RETURN(v.kind, Named<JobKind>(j, what, "kind", ParseJobKind,
                                                "caption-hq or image-export"));
  CAIRN_ASSIGN_OR_RETURN(v.preset,
                         Named<Preset>(j, what, "preset", ParsePreset, "low, preview or final"));
  CAIRN_ASSIGN_OR_RETURN(v.state, Named<JobState>(j, what, "state", ParseJobState, "a job state"));
  if (Progress(v.state) < Progress(JobState::kAccepted)) {
    return WireStatus(wire::kBadValue, std::string("a server job cannot be ") +
                                           JobStateName(v.state));
  }
  CAIRN_ASSIGN_OR_RETURN(v.seq, IntField(j, what, "seq"));
  CAIRN_ASSIGN_OR_RETURN(v.created_at_ms, IntField(j, what, "created_at"));
  CAIRN_ASSIGN_OR_RETURN(v.updated_at_ms, IntField(j, what, "updated_at"));
  if (auto e = j.find("error"); e != j.end()) {
    if (!e->is_object()) return WireStatus(wire::kWrongType, "'error' must be an object");
    CAIRN_ASSIGN_OR_RETURN(v.error_code, StringField(*e, "a job error", "code"));
    CAIRN_ASSIGN_OR_RETURN(v.error_message, StringField(*e, "a job error", "message"));
  }
  return v;
}

struct CodeInfo {
  const char* code;
  int http_status;
  StatusCode status_code;
};

constexpr CodeInfo kCodes[] = {
    {wire::kBadJson, 400, StatusCode::kInvalidArgument},
    {wire::kUnknownField, 400, StatusCode::kInvalidArgument},
    {wire::kMissingField, 400, StatusCode::kInvalidArgument},
    {wire::kWrongType, 400, StatusCode::kInvalidArgument},
    {wire::kBadValue, 400, StatusCode::kInvalidArgument},
    {wire::kUnsupportedVersion, 400, StatusCode::kUnsupported},
    {wire::kUnauthenticated, 401, StatusCode::kAuthFailed},
    {wire::kUnknownDevice, 401, StatusCode::kAuthFailed},
    {wire::kBadSignature, 401, StatusCode::kAuthFailed},
    {wire::kStaleRequest, 401, StatusCode::kAuthFailed},
    {wire::kReplayedRequest, 401, StatusCode::kAuthFailed},
    {wire::kNotFound, 404, StatusCode::kNotFound},
    {wire::kMethodNotAllowed, 405, StatusCode::kInvalidArgument},
    {wire::kKeyReused, 409, StatusCode::kAlreadyExists},
    {wire::kNotReady, 409, StatusCode::kFailedPrecondition},
    {wire::kJobExpired, 410, StatusCode::kNotFound},
    {wire::kHashMismatch, 400, StatusCode::kInvalidArgument},
    {wire::kBadImage, 400, StatusCode::kInvalidArgument},
    {wire::kTooLarge, 413, StatusCode::kOutOfRange},
    {wire::kQuotaExceeded, 413, StatusCode::kResourceExhausted},
    {wire::kUnsupportedMediaType, 415, StatusCode::kInvalidArgument},
    {wire::kRateLimited, 429, StatusCode::kResourceExhausted},
    {wire::kInternal, 500, StatusCode::kInternal},
    {wire::kUnavailable, 503, StatusCode::kUnavailable},
};

}  // namespace

Status WireStatus(const char* code, std::string detail) {
  for (const CodeInfo& c : kCodes) {
    if (std::string_view(code) == c.code) return Status(c.status_code, code + (": " + detail));
  }
  return Internal(std::string("unknown wire code ") + code + ": " + detail);
}

ApiError ApiErrorFromStatus(const Status& status) {
  const std::string& m = status.message();
  for (const CodeInfo& c : kCodes) {
    const size_t n = std::string_view(c.code).size();
    if (m.size() > n + 1 && m.compare(0, n, c.code) == 0 && m[n] == ':' && m[n + 1] == ' ') {
      return {c.http_status, c.code, m.substr(n + 2)};
    }
  }
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return {400, wire::kBadValue, m};
    case StatusCode::kNotFound:
    case StatusCode::kPermissionDenied: return {404, wire::kNotFound, m};
    case StatusCode::kAlreadyExists: return {409, wire::kKeyReused, m};
    case StatusCode::kFailedPrecondition: return {409, wire::kNotReady, m};
    case StatusCode::kOutOfRange: return {413, wire::kTooLarge, m};
    case StatusCode::kResourceExhausted: return {429, wire::kRateLimited, m};
    case StatusCode::kUnavailable:
    case StatusCode::kIoError: return {503, wire::kUnavailable, "the server is busy; try again"};
    default: return {500, wire::kInternal, "internal error"};  // never leak internals
  }
}

Status CheckIdempotencyKey(std::string_view key) {
  if (key.size() < kMinKeyChars || key.size() > kMaxKeyChars) {
    return WireStatus(wire::kBadValue, "'idempotency_key' must be " + std::to_string(kMinKeyChars) +
                                           " to " + std::to_string(kMaxKeyChars) + " characters");
  }
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) {
      return WireStatus(wire::kBadValue, "'idempotency_key' may hold only A-Z, a-z, 0-9, - and _");
    }
  }
  return Status::Ok();
}

Result<HttpRequest> MakeSubmitRequest(const JobSubmission& s) {
  Json payload = Json::parse(s.payload_json, nullptr, false);
  if (payload.is_discarded() || !payload.is_object()) {
    return InvalidArgument("job " + s.idempotency_key + ": payload is not a JSON object");
  }
  Json j = {{"v", kProtocolVersion},
            {"idempotency_key", s.idempotency_key},
            {"kind", JobKindName(s.kind)},
            {"preset", PresetName(s.preset)},
            {"payload", std::move(payload)}};
  return HttpRequest{"POST", "/v1/jobs", {{"Content-Type", "application/json"}}, Dump(j)};
}

HttpRequest MakeRegisterRequest(ByteView public_key) {
  Json j = {{"v", kProtocolVersion}, {"public_key", ToHex(public_key)}};
  return HttpRequest{"POST", "/v1/devices", {{"Content-Type", "application/json"}}, Dump(j)};
}

HttpRequest MakeGetJobRequest(std::string_view id) {
  return {"GET", "/v1/jobs/" + std::string(id), {}, ""};
}

HttpRequest MakeChangesRequest(int64_t since, int limit) {
  return {"GET", "/v1/jobs?since=" + std::to_string(since) + "&limit=" + std::to_string(limit),
          {}, ""};
}

HttpRequest MakeResultRequest(std::string_view id) {
  return {"GET", "/v1/jobs/" + std::string(id) + "/result", {}, ""};
}

HttpRequest MakeCancelRequest(std::string_view id) {
  return {"DELETE", "/v1/jobs/" + std::string(id), {}, ""};
}

HttpRequest MakeBlobUploadRequest(std::string_view bytes) {
  return {"PUT", std::string(kBlobsPrefix) + BlobHashOf(bytes),
          {{"Content-Type", "application/octet-stream"}}, std::string(bytes)};
}

HttpRequest MakeRenditionRequest(std::string_view id, std::string_view name) {
  return {"GET", "/v1/jobs/" + std::string(id) + "/result/" + std::string(name), {}, ""};
}

Result<JobSubmission> ParseJobSubmission(std::string_view body) {
  const char* what = "a job submission";
  CAIRN_ASSIGN_OR_RETURN(Json j, ParseObject(body, "the request body", kMaxRequestBodyBytes));
  CAIRN_RETURN_IF_ERROR(CheckFields(j, what, {"v", "idempotency_key", "kind", "preset", "payload"}));
  CAIRN_RETURN_IF_ERROR(CheckVersion(j, what));
  JobSubmission s;
  CAIRN_ASSIGN_OR_RETURN(s.idempotency_key, StringField(j, what, "idempotency_key"));
  CAIRN_RETURN_IF_ERROR(CheckIdempotencyKey(s.idempotency_key));
  CAIRN_ASSIGN_OR_RETURN(s.kind, Named<JobKind>(j, what, "kind", ParseJobKind,
                                                "caption-hq or image-export"));
  CAIRN_ASSIGN_OR_RETURN(s.preset,
                         Named<Preset>(j, what, "preset", ParsePreset, "low, preview or final"));
  CAIRN_ASSIGN_OR_RETURN(const Json* payload, Field(j, what, "payload"));
  if (!payload->is_object()) return WireStatus(wire::kWrongType, "'payload' must be an object");
  s.payload_json = Dump(*payload);
  if (s.payload_json.size() > kMaxPayloadBytes) {
    return WireStatus(wire::kTooLarge, "'payload' is " + std::to_string(s.payload_json.size()) +
                                           " bytes; the limit is " +
                                           std::to_string(kMaxPayloadBytes));
  }
  return s;
}

Result<Bytes> ParseDeviceRegistration(std::string_view body) {
  const char* what = "a device registration";
  CAIRN_ASSIGN_OR_RETURN(Json j, ParseObject(body, "the request body", kMaxRequestBodyBytes));
  CAIRN_RETURN_IF_ERROR(CheckFields(j, what, {"v", "public_key"}));
  CAIRN_RETURN_IF_ERROR(CheckVersion(j, what));
  CAIRN_ASSIGN_OR_RETURN(std::string hex, StringField(j, what, "public_key"));
  Result<Bytes> key = FromHex(hex);
  if (!key.ok() || key->size() != 32 || ToHex(*key) != hex) {
    return WireStatus(wire::kBadValue,
                      "'public_key' must be an Ed25519 public key: 64 lowercase hex digits");
  }
  return std::move(*key);
}

std::string SerializeDevice(const DeviceView& device) {
  return Dump(Json{{"v", kProtocolVersion},
                   {"device",
                    {{"id", device.id},
                     {"public_key", ToHex(device.public_key)},
                     {"registered_at", device.registered_at_ms}}}});
}

Result<DeviceView> ParseDevice(std::string_view body) {
  const char* what = "a device response";
  CAIRN_ASSIGN_OR_RETURN(Json j, ParseObject(body, what, kMaxResultBytes));
  CAIRN_RETURN_IF_ERROR(CheckVersion(j, what));
  CAIRN_ASSIGN_OR_RETURN(const Json* d, Field(j, what, "device"));
  if (!d->is_object()) return WireStatus(wire::kWrongType, "'device' must be an object");
  DeviceView v;
  CAIRN_ASSIGN_OR_RETURN(v.id, StringField(*d, "a device", "id"));
  CAIRN_ASSIGN_OR_RETURN(std::string key, StringField(*d, "a device", "public_key"));
  Result<Bytes> bytes = FromHex(key);
  if (!bytes.ok()) return WireStatus(wire::kBadValue, "'public_key' is not hex");
  v.public_key = std::move(*bytes);
  CAIRN_ASSIGN_OR_RETURN(v.registered_at_ms, IntField(*d, "a device", "registered_at"));
  return v;
}

std::string SerializeJob(const JobView& job) {
  return Dump(Json{{"v", kProtocolVersion}, {"job", JobJson(job)}});
}

Result<JobView> ParseJob(std::string_view body) {
  CAIRN_ASSIGN_OR_RETURN(Json j, ParseObject(body, "a job response", kMaxResultBytes));
  CAIRN_RETURN_IF_ERROR(CheckVersion(j, "a job response"));
  CAIRN_ASSIGN_OR_RETURN(const Json* job, Field(j, "a job response", "job"));
  return JobFromJson(*job);
}

std::string SerializeChanges(const ChangesPage& page) {
  Json jobs = Json::array();
  for (const JobView& v : page.jobs) jobs.push_back(JobJson(v));
  Json expired = Json::array();
  for (const ExpiredView& e : page.expired) {
    expired.push_back({{"id", e.id},
                       {"idempotency_key", e.idempotency_key},
                       {"seq", e.seq},
                       {"expired_at", e.expired_at_ms}});
  }
  return Dump(Json{{"v", kProtocolVersion},
                   {"jobs", std::move(jobs)},
                   {"expired", std::move(expired)},
                   {"next_since", page.next_since},
                   {"more", page.more}});
}

Result<ChangesPage> ParseChanges(std::string_view body) {
  const char* what = "a changes page";
  CAIRN_ASSIGN_OR_RETURN(Json j, ParseObject(body, what, kMaxResultBytes));
  CAIRN_RETURN_IF_ERROR(CheckVersion(j, what));
  ChangesPage page;
  CAIRN_ASSIGN_OR_RETURN(const Json* jobs, Field(j, what, "jobs"));
  if (!jobs->is_array()) return WireStatus(wire::kWrongType, "'jobs' must be an array");
  for (const Json& item : *jobs) {
    CAIRN_ASSIGN_OR_RETURN(JobView v, JobFromJson(item));
    page.jobs.push_back(std::move(v));
  }
  // Optional: a server before retention never sends it.
  if (auto e = j.find("expired"); e != j.end()) {
    if (!e->is_array()) return WireStatus(wire::kWrongType, "'expired' must be an array");
    for (const Json& item : *e) {
      const char* of = "an expired job";
      if (!item.is_object()) return WireStatus(wire::kWrongType, "'expired' holds a non-object");
      ExpiredView v;
      CAIRN_ASSIGN_OR_RETURN(v.id, StringField(item, of, "id"));
      CAIRN_ASSIGN_OR_RETURN(v.idempotency_key, StringField(item, of, "idempotency_key"));
      CAIRN_ASSIGN_OR_RETURN(v.seq, IntField(item, of, "seq"));
      CAIRN_ASSIGN_OR_RETURN(v.expired_at_ms, IntField(item, of, "expired_at"));
      page.expired.push_back(std::move(v));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(page.next_since, IntField(j, what, "next_since"));
  CAIRN_ASSIGN_OR_RETURN(const Json* more, Field(j, what, "more"));
  if (!more->is_boolean()) return WireStatus(wire::kWrongType, "'more' must be a boolean");
  page.more = more->get<bool>();
  return page;
}

Result<std::string> SerializeResult(const JobResult& result) {
  Json r = Json::parse(result.result_json, nullptr, false);
  if (r.is_discarded() || !r.is_object()) {
    return Internal("job " + result.id + ": the stored result is not a JSON object");
  }
  return Dump(Json{{"v", kProtocolVersion}, {"id", result.id}, {"result", std::move(r)}});
}

Result<JobResult> ParseResult(std::string_view body) {
  const char* what = "a job result";
  CAIRN_ASSIGN_OR_RETURN(Json j, ParseObject(body, what, kMaxResultBytes));
  CAIRN_RETURN_IF_ERROR(CheckVersion(j, what));
  JobResult r;
  CAIRN_ASSIGN_OR_RETURN(r.id, StringField(j, what, "id"));
  CAIRN_ASSIGN_OR_RETURN(const Json* result, Field(j, what, "result"));
  if (!result->is_object()) return WireStatus(wire::kWrongType, "'result' must be an object");
  r.result_json = Dump(*result);
  return r;
}

std::string SerializeError(const ApiError& error) {
  return Dump(Json{{"error", {{"code", error.code}, {"message", error.message}}}});
}

ApiError ParseError(const HttpResponse& response) {
  ApiError e{response.status, "http_" + std::to_string(response.status),
             "the server answered HTTP " + std::to_string(response.status)};
  if (response.body.size() > kMaxRequestBodyBytes || NestingDepth(response.body) > kMaxJsonDepth) {
    return e;
  }
  Json j = Json::parse(response.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return e;
  auto err = j.find("error");
  if (err == j.end() || !err->is_object()) return e;
  auto code = err->find("code");
  auto message = err->find("message");
  // The code decides what the device does and the message is shown to the user: a code that is
  // not a wire code's shape (empty, long, other characters) or an oversize message from a
  // hostile server or proxy is ignored, keeping the http_<status> fallback.
  if (code != err->end() && code->is_string()) {
    const std::string& c = code->get_ref<const std::string&>();
    const bool wire_shaped = !c.empty() && c.size() <= 64 &&
                             std::all_of(c.begin(), c.end(), [](char ch) {
                               return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                                      ch == '_';
                             });
    if (wire_shaped) e.code = c;
  }
  if (message != err->end() && message->is_string() &&
      message->get_ref<const std::string&>().size() <= kMaxErrorMessageBytes) {
    e.message = message->get<std::string>();
  }
  return e;
}

}  // namespace cairn::sync
