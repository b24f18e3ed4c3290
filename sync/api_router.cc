#include "sync/api_router.h"

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace cairn::sync {
namespace {

constexpr std::string_view kJobsPath = "/v1/jobs";

// A job id as the server makes them: 32 lowercase hex digits. Anything else is not found.
bool LooksLikeJobId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<int64_t> ParseCount(std::string_view name, std::string_view value) {
  if (value.empty() || value.size() > 18) {
    return WireStatus(wire::kBadValue, "'" + std::string(name) + "' must be a whole number");
  }
  int64_t v = 0;
  for (char c : value) {
    if (c < '0' || c > '9') {
      return WireStatus(wire::kBadValue, "'" + std::string(name) + "' must be a whole number");
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

struct FeedQuery {
  int64_t since = 0;
  int limit = kDefaultPageSize;
};

Result<FeedQuery> ParseFeedQuery(std::string_view query) {
  FeedQuery q;
  bool seen_since = false, seen_limit = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (name == "since" && !seen_since) {
      seen_since = true;
      CAIRN_ASSIGN_OR_RETURN(q.since, ParseCount(name, value));
    } else if (name == "limit" && !seen_limit) {
      seen_limit = true;
      CAIRN_ASSIGN_OR_RETURN(int64_t limit, ParseCount(name, value));
      if (limit < 1 || limit > kMaxPageSize) {
        return WireStatus(wire::kBadValue, "'limit' must be 1 to " + std::to_string(kMaxPageSize));
      }
      q.limit = static_cast<int>(limit);
    } else {
      return WireStatus(wire::kUnknownField,
                        "'" + std::string(name) + "' is not a query parameter of the feed (or is "
                        "repeated)");
    }
  }
  return q;
}

HttpResponse MethodNotAllowed(const char* allow) {
  HttpResponse r = ErrorResponse({405, wire::kMethodNotAllowed,
                                  std::string("this path allows ") + allow});
  r.headers.emplace_back("Allow", allow);
  return r;
}

template <typename T, typename F>
HttpResponse Reply(Result<T> result, int status, F serialize) {
  if (!result.ok()) return ErrorResponse(ApiErrorFromStatus(result.status()));
  return JsonResponse(status, serialize(*result));
}

}  // namespace

HttpResponse JsonResponse(int status, std::string body) {
  return HttpResponse{status,
                      {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
                      std::move(body)};
}

HttpResponse ErrorResponse(const ApiError& error) {
  return JsonResponse(error.http_status, SerializeError(error));
}

HttpResponse ApiRouter::Handle(std::string_view device_id, const HttpRequest& req,
                               int64_t now_ms) {
  std::string_view target = req.target;
  const size_t qmark = target.find('?');
  std::string_view path = target.substr(0, qmark);
  std::string_view query = qmark == std::string_view::npos ? "" : target.substr(qmark + 1);
  if (req.body.size() > kMaxRequestBodyBytes) {
    return ErrorResponse({413, wire::kTooLarge,
                          "the request body is " + std::to_string(req.body.size()) +
                              " bytes; the limit is " + std::to_string(kMaxRequestBodyBytes)});
  }

  if (path == kJobsPath) {
    if (req.method == "POST") {
      if (!query.empty()) {
        return ErrorResponse({400, wire::kUnknownField, "POST /v1/jobs takes no query"});
      }
      if (!HasJsonContentType(req)) {
        return ErrorResponse({415, wire::kUnsupportedMediaType,
                              "send the job as Content-Type: application/json"});
      }
      Result<JobSubmission> sub = ParseJobSubmission(req.body);
      if (!sub.ok()) return ErrorResponse(ApiErrorFromStatus(sub.status()));
      Result<SubmitOutcome> out = service_.Submit(device_id, *sub, now_ms);
      if (!out.ok()) return ErrorResponse(ApiErrorFromStatus(out.status()));
      return JsonResponse(out->created ? 201 : 200, SerializeJob(out->job));
    }
    if (req.method == "GET") {
      Result<FeedQuery> q = ParseFeedQuery(query);
      if (!q.ok()) return ErrorResponse(ApiErrorFromStatus(q.status()));
      return Reply(service_.Changes(device_id, q->since, q->limit), 200,
                   [](const ChangesPage& p) { return SerializeChanges(p); });
    }
    return MethodNotAllowed("GET, POST");
  }

  const std::string prefix = std::string(kJobsPath) + "/";
  if (path.substr(0, prefix.size()) != prefix) {
    return ErrorResponse({404, wire::kNotFound, "no such path: " + std::string(path)});
  }
  std::string_view rest = path.substr(prefix.size());
  if (const size_t r = rest.find("/result/"); r != std::string_view::npos) {
    const std::string_view id = rest.substr(0, r), name = rest.substr(r + 8);
    if (blobs_ == nullptr || !LooksLikeJobId(id)) {
      return ErrorResponse({404, wire::kNotFound, "no such path: " + std::string(path)});
    }
    if (!query.empty()) {
      return ErrorResponse({400, wire::kUnknownField, "this path takes no query"});
    }
    if (req.method != "GET") return MethodNotAllowed("GET");
    return Rendition(device_id, id, name);
  }
  const bool wants_result = rest.size() > 7 && rest.substr(rest.size() - 7) == "/result";
  std::string_view id = wants_result ? rest.substr(0, rest.size() - 7) : rest;
  if (!LooksLikeJobId(id)) {
    return ErrorResponse({404, wire::kNotFound, "no job " + std::string(id.substr(0, 64))});
  }
  if (!query.empty()) {
    return ErrorResponse({400, wire::kUnknownField, "this path takes no query"});
  }
  if (wants_result) {
    if (req.method != "GET") return MethodNotAllowed("GET");
    Result<JobResult> r = service_.GetResult(device_id, id);
    if (!r.ok()) return ErrorResponse(ApiErrorFromStatus(r.status()));
    Result<std::string> body = SerializeResult(*r);
    if (!body.ok()) return ErrorResponse(ApiErrorFromStatus(body.status()));
    return JsonResponse(200, std::move(*body));
  }
  if (req.method == "GET") {
    return Reply(service_.Get(device_id, id), 200, [](const JobView& v) { return SerializeJob(v); });
  }
  if (req.method == "DELETE") {
    return Reply(service_.Cancel(device_id, id, now_ms), 200,
                 [](const JobView& v) { return SerializeJob(v); });
  }
  return MethodNotAllowed("GET, DELETE");
}

HttpResponse ApiRouter::Rendition(std::string_view device_id, std::string_view job_id,
                                  std::string_view name) {
  Result<JobResult> r = service_.GetResult(device_id, job_id);
  if (!r.ok()) return ErrorResponse(ApiErrorFromStatus(r.status()));
  const nlohmann::json result = nlohmann::json::parse(r->result_json, nullptr, false);
  const std::string missing = "job " + std::string(job_id) + " has no rendition '" +
                              std::string(name.substr(0, 64)) + "'";
  if (!result.is_object() || !result.contains("renditions") ||
      !result["renditions"].is_array()) {
    return ErrorResponse({404, wire::kNotFound, missing});
  }
  for (const nlohmann::json& rendition : result["renditions"]) {
    if (!rendition.is_object() || rendition.value("name", "") != name) continue;
    const std::string hash = rendition.value("blake2b", "");
    const std::string type = rendition.value("content_type", "application/octet-stream");
    Result<std::optional<std::string>> bytes = blobs_->Get(device_id, hash);
    if (!bytes.ok()) return ErrorResponse(ApiErrorFromStatus(bytes.status()));
    if (!bytes->has_value()) {  // the server lost it: say so, never answer with nothing
      return ErrorResponse({500, wire::kInternal, "the rendition's bytes are missing"});
    }
    return HttpResponse{200,
                        {{"Content-Type", type},
                         {"Cache-Control", "no-store"},
                         {"ETag", "\"" + hash + "\""},
                         {"X-Content-Type-Options", "nosniff"}},
                        std::move(**bytes)};
  }
  return ErrorResponse({404, wire::kNotFound, missing});
}

}  // namespace cairn::sync
