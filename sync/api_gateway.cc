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

HttpResponse ApiGateway::Handle(const HttpRequest& request, int64_t now_ms) {
  if (request.body.size() > kMaxRequestBodyBytes) {
    return ErrorResponse({413, wire::kTooLarge,
                          "the request body is " + std::to_string(request.body.size()) +
                              " bytes; the limit is " + std::to_string(kMaxRequestBodyBytes)});
  }
  std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == kDevicesPath) return Register(request, now_ms);
  Result<std::string> device = auth_.Authenticate(request, now_ms);
  if (!device.ok()) return Refused(device.status(), now_ms);
  return router_.Handle(*device, request, now_ms);
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
