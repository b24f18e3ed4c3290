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
//
// Blobs (GatewayOptions::blobs): PUT /v1/blobs/{hash} stores a source image for the signed
// device (sync/blob_store.h, BlobStore::Upload: within the store's per-device quota, else 413
// quota_exceeded); that route alone takes bodies up to kMaxBlobBytes (BodyLimit).
// Without a BlobStore the path does not exist (404).
//
// Threading: without GatewayOptions::state_mu, as the authenticator and router it wraps. With
// it, Handle may be called from any number of threads: it holds the mutex around every call
// into the authenticator and the router (their stores have one connection each), never around
// a blob upload's hashing and writing (the BlobStore is thread-safe), so a 24 MiB upload does
// not stall every other request.
#ifndef CAIRN_SYNC_API_GATEWAY_H_
#define CAIRN_SYNC_API_GATEWAY_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "sync/api_router.h"
#include "sync/blob_store.h"
#include "sync/device_authenticator.h"
#include "sync/http_message.h"

namespace cairn::sync {

inline constexpr char kDevicesPath[] = "/v1/devices";

struct GatewayOptions {
  BlobStore* blobs = nullptr;       // not owned; nullptr: no blob uploads
  std::mutex* state_mu = nullptr;   // not owned; see Threading above
};

class ApiGateway {
 public:
  ApiGateway(DeviceAuthenticator& auth, ApiRouter& router, GatewayOptions options = {})
      : auth_(auth), router_(router), options_(options) {}
  HttpResponse Handle(const HttpRequest& request, int64_t now_ms);

  // The largest body a request for `method` and `path` (no query) may have: kMaxBlobBytes for a
  // blob upload, else kMaxRequestBodyBytes. An HTTP host refuses bigger bodies before reading
  // them; Handle refuses them too.
  size_t BodyLimit(std::string_view method, std::string_view path) const;

 private:
  HttpResponse Register(const HttpRequest& request, int64_t now_ms);
  HttpResponse PutBlob(std::string_view device_id, const HttpRequest& request,
                       std::string_view path, std::string_view query);
  template <typename F>
  auto Locked(F f) {
    if (options_.state_mu == nullptr) return f();
    std::lock_guard<std::mutex> lock(*options_.state_mu);
    return f();
  }

  DeviceAuthenticator& auth_;
  ApiRouter& router_;
  GatewayOptions options_;
};

// Whether `bytes` start like a JPEG, PNG, WebP or TIFF file: the only images Cairn decodes.
bool LooksLikeImage(std::string_view bytes);

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_API_GATEWAY_H_
