// ApiRouter: the jobs API of protocol v1 (sync/PROTOCOL.md) over a JobService, as a function from
// an authenticated device's request to a response. No sockets, no authentication: the ApiGateway
// (sync/api_gateway.h) authenticates the device and hands the request here.
//
//   ApiRouter router(service);
//   HttpResponse r = router.Handle("device-a", HttpRequest{"POST", "/v1/jobs",
//                                  {{"Content-Type", "application/json"}}, body}, now_ms);
//   // r.status 201 (created) or 200 (a repeat), body {"v":1,"job":{...}}
//   // a bad body: 400 {"error":{"code":"unknown_field","message":"'colour' is not a field ..."}}
//
// Every error is a JSON body with a stable code; nothing is stored for a refused request.
// With a BlobStore, GET /v1/jobs/{id}/result/{name} serves the bytes of a rendition the job's
// result lists (image-export: {"renditions":[{"name","content_type","blake2b",...}]}), read
// from the job's device's blobs; without one that path is 404.
// Threading: as the JobService it wraps.
#ifndef CAIRN_SYNC_API_ROUTER_H_
#define CAIRN_SYNC_API_ROUTER_H_

#include <string_view>

#include "sync/blob_store.h"
#include "sync/http_message.h"
#include "sync/job_service.h"

namespace cairn::sync {

class ApiRouter {
 public:
  // blobs: not owned, may be null (no renditions served).
  explicit ApiRouter(JobService& service, BlobStore* blobs = nullptr)
      : service_(service), blobs_(blobs) {}
  HttpResponse Handle(std::string_view device_id, const HttpRequest& request, int64_t now_ms);

 private:
  HttpResponse Rendition(std::string_view device_id, std::string_view job_id,
                         std::string_view name);

  JobService& service_;
  BlobStore* blobs_;
};

// A JSON response with `status` and `body` (Content-Type and Cache-Control set).
HttpResponse JsonResponse(int status, std::string body);
HttpResponse ErrorResponse(const ApiError& error);

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_API_ROUTER_H_
