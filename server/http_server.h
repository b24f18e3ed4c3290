// HttpServer: cairn-server's HTTP front. It serves sync/'s ApiRouter (protocol v1, PROTOCOL.md)
// over cpp-httplib on one address, plus GET /healthz and GET /metrics, with the jobs in a
// SqliteJobStore under the data directory.
//
//   auto server = HttpServer::Open({.bind = "127.0.0.1", .port = 0, .data_dir = "/var/lib/cairn"});
//   if (!server.ok()) return server.status();       // bad data dir, port taken, ...
//   std::printf("listening on %d\n", (*server)->port());  // bound: connections queue from here
//   Status s = (*server)->Serve();                  // blocks until Stop()
//   // from another thread (the signal watcher): (*server)->Stop();
//   // Serve returns once in-flight requests are answered; destroying the server closes the store.
//
// Device identity (PLACEHOLDER until Ed25519 device authentication, issue 7 item 4): every /v1/
// request names its device in `X-Cairn-Device: <id>` (1..64 of [A-Za-z0-9_-]); a missing or bad
// header is 401 `unauthenticated`. The header is trusted as sent, so any client that can reach
// the server can act as any device: that is why the server binds to loopback by default, and
// why it must not be exposed beyond it until real authentication lands.
//
// Limits: request bodies over kMaxRequestBodyBytes (64 KiB) are 413 `too_large` before they are
// read in full; every error is the protocol's JSON error.
// Threading: requests are handled on cpp-httplib's thread pool; the job service and its one
// SQLite connection are used under a mutex (one request at a time reaches the store). Stop() may
// be called from any thread, once; it waits for Serve() to start, so call it only when Serve()
// has been or will be called.
#ifndef CAIRN_SERVER_HTTP_SERVER_H_
#define CAIRN_SERVER_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace cairn::server {

inline constexpr int kDefaultPort = 8787;
inline constexpr char kDefaultBind[] = "127.0.0.1";
inline constexpr char kDeviceHeader[] = "X-Cairn-Device";
inline constexpr size_t kMaxDeviceIdChars = 64;

struct ServerOptions {
  std::string app_dir;     // the PWA's build, served at / (server/static_files.h); empty: none
  std::string models_dir;  // model packs at /models/<id>/<file> and /models/index.json
  std::string bind = kDefaultBind;
  int port = kDefaultPort;  // 0: the system picks a free port; port() tells which
  std::string data_dir;     // created (0700) if missing; holds jobs.db and server.key
  int threads = 8;          // cpp-httplib's worker threads
};

// True for a device id the placeholder header accepts: 1..64 of [A-Za-z0-9_-].
bool IsValidDeviceId(std::string_view id);

class HttpServer {
 public:
  // Opens (or creates) the data directory, its job store and id key, and binds the socket.
  static Result<std::unique_ptr<HttpServer>> Open(const ServerOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Accepts and answers requests until Stop(); kUnavailable if listening fails.
  Status Serve();
  // Stops accepting; Serve() returns after the requests in flight are answered. Calls after the
  // first do nothing.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_HTTP_SERVER_H_
