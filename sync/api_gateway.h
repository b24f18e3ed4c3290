// ApiGateway: the whole of protocol v1 as one function from a request to a response: device
// registration (POST /v1/devices) and device authentication (sync/device_authenticator.h) in
// front of the ApiRouter's jobs API. No sockets: cairn-server's HTTP layer hands requests here;
// the simulation calls it directly.
//
//   ApiGateway api(authenticator, router);
//   HttpResponse r = api.Handle(signed_request, now_ms);
//   // unsigned, unknown device, stale, forged or replayed: 401 with the error's code, a
//   // WWW-Authenticate header and Cairn-Server-Time (the server's clock, for skewed devices)
//
// Every path under /v1/ other than POST /v1/devices needs a signed request from a registered
// device, so an unauthenticated client learns nothing else (not even which paths exist); the
// router then sees only that device's jobs. Nothing is stored for a refused request.
// Threading: as the authenticator and router it wraps.
#ifndef CAIRN_SYNC_API_GATEWAY_H_
#define CAIRN_SYNC_API_GATEWAY_H_

#include <cstdint>

#include "sync/api_router.h"
#include "sync/device_authenticator.h"
#include "sync/http_message.h"

namespace cairn::sync {

inline constexpr char kDevicesPath[] = "/v1/devices";

class ApiGateway {
 public:
  ApiGateway(DeviceAuthenticator& auth, ApiRouter& router) : auth_(auth), router_(router) {}
  HttpResponse Handle(const HttpRequest& request, int64_t now_ms);

 private:
  HttpResponse Register(const HttpRequest& request, int64_t now_ms);

  DeviceAuthenticator& auth_;
  ApiRouter& router_;
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_API_GATEWAY_H_
