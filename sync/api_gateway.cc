#include "sync/api_gateway.h"

#include <string>
#include <string_view>

namespace cairn::sync {
namespace {

HttpResponse Refused(const Status& status, int64_t now_ms) {
  HttpResponse r = ErrorResponse(ApiErrorFromStatus(status));
  if (r.status == 401) {
    r.headers.emplace_back("WWW-Authenticate", kAuthScheme);
    r.headers.emplace_back(kServerTimeHeader, std::to_string(now_ms));
  }
  if (r.status == 429) r.headers.emplace_back("Retry-After", "60");
  return r;
}

}  // namespace

bool LooksLikeImage(std::string_view b) {
  auto starts = [&](std::string_view magic, size_t at = 0) {
    return b.size() >= at + magic.size() && b.substr(at, magic.size()) == magic;
  };
  using namespace std::string_view_literals;
  return starts("\xff\xd8\xff"sv) ||                          // JPEG
         starts("\x89PNG\r\n\x1a\n"sv) ||                     // PNG
         (starts("RIFF"sv) && starts("WEBP"sv, 8)) ||          // WebP
         starts("II*\0"sv) || starts("MM\0*"sv);                // TIFF
}

size_t ApiGateway::BodyLimit(std::string_view method, std::string_view path) const {
  const bool upload = options_.blobs != nullptr && method == "PUT" && path.starts_with(kBlobsPrefix);
  return upload ? kMaxBlobBytes : kMaxRequestBodyBytes;
}

HttpResponse ApiGateway::Handle(const HttpRequest& request, int64_t now_ms) {
  std::string_view target = request.target;
  const size_t qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query = qmark == std::string_view::npos ? "" : target.substr(qmark + 1);
  const size_t limit = BodyLimit(request.method, path);
  if (request.body.size() > limit) {
    return ErrorResponse({413, wire::kTooLarge,
                          "the request body is " + std::to_string(request.body.size()) +
                              " bytes; the limit is " + std::to_string(limit)});
  }
  if (path == kDevicesPath) return Locked([&] { return Register(request, now_ms); });
  Result<std::string> device = Locked([&] { return auth_.Authenticate(request, now_ms); });
  if (!device.ok()) return Refused(device.status(), now_ms);
  if (options_.blobs != nullptr && path.starts_with(kBlobsPrefix)) {
    return PutBlob(*device, request, path, query);
  }
  return Locked([&] { return router_.Handle(*device, request, now_ms); });
}

HttpResponse ApiGateway::PutBlob(std::string_view device_id, const HttpRequest& request,
                                 std::string_view path, std::string_view query) {
  const std::string_view hash = path.substr(std::string_view(kBlobsPrefix).size());
  if (!IsBlobHash(hash)) {
    return ErrorResponse({404, wire::kNotFound,
                          "no such path: a blob is /v1/blobs/ and the 64 lowercase hex digits of "
                          "its BLAKE2b-256"});
  }
  if (!query.empty()) return ErrorResponse({400, wire::kUnknownField, "this path takes no query"});
  if (request.method != "PUT") {
    HttpResponse r = ErrorResponse({405, wire::kMethodNotAllowed, "this path allows PUT"});
    r.headers.emplace_back("Allow", "PUT");
    return r;
  }
  const std::string type = FindHeader(request.headers, "Content-Type").value_or("");
  const std::string_view media = std::string_view(type).substr(0, type.find(';'));
  if (media != "application/octet-stream" && !media.starts_with("image/")) {
    return ErrorResponse({415, wire::kUnsupportedMediaType,
                          "send a blob as Content-Type: application/octet-stream or image/*"});
  }
  if (request.body.empty()) {
    return ErrorResponse({400, wire::kBadValue, "a blob cannot be empty"});
  }
  if (!LooksLikeImage(request.body)) {
    return ErrorResponse({400, wire::kBadImage,
                          "the blob is not a JPEG, PNG, WebP or TIFF file (its first bytes say "
                          "otherwise); only those are rendered"});
  }
  Result<bool> created = options_.blobs->Upload(device_id, hash, request.body);
  if (!created.ok()) return ErrorResponse(ApiErrorFromStatus(created.status()));
  return JsonResponse(*created ? 201 : 200,
                      "{\"v\":1,\"blob\":{\"hash\":\"" + std::string(hash) +
                          "\",\"bytes\":" + std::to_string(request.body.size()) + "}}");
}

HttpResponse ApiGateway::Register(const HttpRequest& request, int64_t now_ms) {
  if (request.method != "POST") {
    HttpResponse r = ErrorResponse({405, wire::kMethodNotAllowed, "this path allows POST"});
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  if (request.target != kDevicesPath) {
    return ErrorResponse({400, wire::kUnknownField, "POST /v1/devices takes no query"});
  }
  Result<RegisterOutcome> out = auth_.Register(request, now_ms);
  if (!out.ok()) return Refused(out.status(), now_ms);
  return JsonResponse(out->created ? 201 : 200, SerializeDevice(out->device));
}

}  // namespace cairn::sync
