// HTTP requests and responses as plain values: what the sans-I/O sync engine asks a host to send
// and what the host hands back, and what the server's router takes and returns. No sockets here;
// the host (fetch() in the PWA's worker, cpp-httplib in cairn-server, the simulation in tests)
// moves the bytes.
#ifndef CAIRN_SYNC_HTTP_MESSAGE_H_
#define CAIRN_SYNC_HTTP_MESSAGE_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::sync {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Whether two header names are the same (HTTP header names are case-insensitive).
bool SameHeaderName(std::string_view a, std::string_view b);
// The value of header `name` (matched case-insensitively, as HTTP requires); the first if repeated.
std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method;  // GET, POST, DELETE
  std::string target;  // path and query, e.g. "/v1/jobs?since=12"
  HttpHeaders headers;
  std::string body;
};

// Whether the request's Content-Type is application/json (parameters such as charset aside).
bool HasJsonContentType(const HttpRequest& request);

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_HTTP_MESSAGE_H_
