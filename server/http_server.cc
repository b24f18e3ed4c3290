#include "server/http_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <utility>

#include "core/base/bytes.h"
#include "core/base/clock.h"
#include "core/crypto/random.h"
#include "server/blob_gc.h"
#include "server/file_blob_store.h"
#include "server/render_workers.h"
#include "server/serialized_stores.h"
#include "server/static_files.h"
#include "server/wal_group_sync.h"
#include "sync/api_gateway.h"
#include "sync/api_router.h"
#include "sync/device_authenticator.h"
#include "sync/job_service.h"
#include "sync/protocol.h"
#include "sync/pg_device_store.h"
#include "sync/pg_job_store.h"
#include "sync/sqlite_device_store.h"
#include "sync/sqlite_job_store.h"

namespace cairn::server {
static_assert(CPPHTTPLIB_REQUEST_URI_MAX_LENGTH == kMaxRequestLineBytes &&
                  CPPHTTPLIB_HEADER_MAX_LENGTH == kMaxHeaderLineBytes &&
                  CPPHTTPLIB_HEADER_MAX_COUNT == kMaxHeaderCount,
              "cpp-httplib's limits changed: update http_server.h and SECURITY.md");

namespace {

constexpr size_t kIdKeyBytes = 32;

// The job-id key: made once per data directory, so ids stay the same across restarts.
Result<Bytes> LoadOrCreateIdKey(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const std::string hex = ToHex(crypto::RandomBytes(kIdKeyBytes));
    const bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return IoError("cannot write the id key " + path + ": " + std::strerror(errno));
  } else if (errno != EEXIST) {
    return IoError("cannot create the id key " + path + ": " + std::strerror(errno));
  }
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot read the id key " + path + ": " + std::strerror(errno));
  char buf[2 * kIdKeyBytes + 1];
  const ssize_t n = ::read(fd, buf, sizeof(buf));
  ::close(fd);
  if (n != static_cast<ssize_t>(2 * kIdKeyBytes)) {
    return Corruption("the id key " + path + " is not " + std::to_string(2 * kIdKeyBytes) +
                      " hex digits; restore it from a backup (job ids depend on it)");
  }
  return FromHex(std::string_view(buf, static_cast<size_t>(n)));
}

bool IsPostgresUrl(std::string_view store) {
  return store.starts_with("postgresql://") || store.starts_with("postgres://");
}

// The SQLite stores defer their syncs to `group_sync` (null with PostgreSQL, whose commits are
// durable when they return). SQLite: one connection (EXCLUSIVE locking mode); PostgreSQL:
// options.store_connections, a pool.
Result<std::vector<std::unique_ptr<sync::JobStore>>> OpenJobStore(const ServerOptions& options,
                                                                  WalGroupSync* group_sync) {
  std::vector<std::unique_ptr<sync::JobStore>> stores;
  if (group_sync != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(auto store, sync::SqliteJobStore::Open({.path = options.data_dir +
                                                                           "/jobs.db",
                                                                   .exclusive = true,
                                                                   .deferred_sync = true}));
    stores.push_back(std::move(store));
    return stores;
  }
  for (int i = 0; i < options.store_connections; ++i) {
    CAIRN_ASSIGN_OR_RETURN(auto store, sync::PgJobStore::Open({.url = options.store}));
    stores.push_back(std::move(store));
  }
  return stores;
}

// Devices and request nonces live beside the jobs: devices.db with SQLite; the same PostgreSQL
// database otherwise, so every server sharing it knows every device and refuses a request
// another server accepted (PROTOCOL.md, "Several servers on one PostgreSQL store").
Result<std::vector<std::unique_ptr<sync::DeviceStore>>> OpenDeviceStore(
    const ServerOptions& options, WalGroupSync* group_sync) {
  std::vector<std::unique_ptr<sync::DeviceStore>> stores;
  if (group_sync != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(auto store,
                           sync::SqliteDeviceStore::Open({.path = options.data_dir + "/devices.db",
                                                          .exclusive = true,
                                                          .deferred_sync = true}));
    stores.push_back(std::move(store));
    return stores;
  }
  for (int i = 0; i < options.store_connections; ++i) {
    CAIRN_ASSIGN_OR_RETURN(auto store, sync::PgDeviceStore::Open({.url = options.store}));
    stores.push_back(std::move(store));
  }
  return stores;
}

void Write(const sync::HttpResponse& from, httplib::Response& to) {
  to.status = from.status;
  std::string content_type = "application/json";
  for (const auto& [name, value] : from.headers) {
    if (name == "Content-Type") {
      content_type = value;
    } else {
      to.set_header(name, value);
    }
  }
  to.set_content(from.body, content_type);
}

sync::HttpResponse TooLarge(size_t limit) {
  return sync::ErrorResponse({413, sync::wire::kTooLarge,
                              "the request body is over this path's limit of " +
                                  std::to_string(limit) + " bytes"});
}

// Request counts by status class, jobs created, and authentication refusals by code, for
// /metrics.
class Metrics {
 public:
  void CountResponse(int status) {
    const int cls = status / 100;
    if (cls >= 1 && cls <= 5) by_class_[cls].fetch_add(1, std::memory_order_relaxed);
  }
  void CountJobCreated() { jobs_created_.fetch_add(1, std::memory_order_relaxed); }
  void CountAuthRefusal(const std::string& code) {
    std::lock_guard<std::mutex> lock(mu_);
    ++auth_refused_[code];
  }

  std::string Render() const {
    std::string out =
        "# HELP cairn_http_requests_total HTTP responses sent, by status class.\n"
        "# TYPE cairn_http_requests_total counter\n";
    for (int cls = 1; cls <= 5; ++cls) {
      out += "cairn_http_requests_total{class=\"" + std::to_string(cls) + "xx\"} " +
             std::to_string(by_class_[cls].load(std::memory_order_relaxed)) + "\n";
    }
    out +=
        "# HELP cairn_jobs_created_total Jobs accepted as new (201) since the server started.\n"
        "# TYPE cairn_jobs_created_total counter\n"
        "cairn_jobs_created_total " +
        std::to_string(jobs_created_.load(std::memory_order_relaxed)) + "\n";
    out +=
        "# HELP cairn_auth_refused_total Requests refused by device authentication (401), by "
        "code.\n"
        "# TYPE cairn_auth_refused_total counter\n";
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [code, n] : auth_refused_) {
      out += "cairn_auth_refused_total{code=\"" + code + "\"} " + std::to_string(n) + "\n";
    }
    return out;
  }

 private:
  std::array<std::atomic<uint64_t>, 6> by_class_{};
  std::atomic<uint64_t> jobs_created_{0};
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> auth_refused_;  // codes are the protocol's: a bounded set
};

std::string GroupSyncMetricsText(const WalGroupSync::Stats& s) {
  return "# HELP cairn_group_syncs_total Group commits: fdatasyncs of the SQLite WALs, each making "
         "every request committed before it durable.\n"
         "# TYPE cairn_group_syncs_total counter\n"
         "cairn_group_syncs_total " + std::to_string(s.syncs) + "\n"
         "# HELP cairn_group_sync_waits_total Requests that waited for a group commit.\n"
         "# TYPE cairn_group_sync_waits_total counter\n"
         "cairn_group_sync_waits_total " + std::to_string(s.waiters) + "\n"
         "# HELP cairn_group_sync_seconds_total Time spent in group commits.\n"
         "# TYPE cairn_group_sync_seconds_total counter\n"
         "cairn_group_sync_seconds_total " + std::to_string(s.sync_seconds) + "\n";
}

}  // namespace

struct HttpServer::Impl {
  std::unique_ptr<WalGroupSync> group_sync;  // SQLite only
  // Each store is used one call at a time (server/serialized_stores.h); the service,
  // authenticator, router and gateway over them keep no state, so requests run in parallel.
  std::unique_ptr<sync::JobStore> store;
  std::unique_ptr<sync::JobService> service;
  std::unique_ptr<sync::ApiRouter> router;
  std::unique_ptr<sync::DeviceStore> devices;
  std::unique_ptr<sync::DeviceAuthenticator> auth;
  std::unique_ptr<sync::ApiGateway> gateway;
  std::mutex mu;  // the render workers' lease calls, one at a time
  const Clock* clock = nullptr;
  Metrics metrics;
  httplib::Server http;
  int port = 0;
  std::atomic<bool> stopping{false};
  std::unique_ptr<LockedJobLeases> leases;
  std::unique_ptr<Collector> gc;  // stopped and destroyed before the service and store
  std::unique_ptr<WorkerPool> pool;  // last: stopped and destroyed before the service

  void HandleApi(const httplib::Request& req, std::string body, httplib::Response& res) {
    // req.target is the request target as sent (not percent-decoded): what the device signed.
    sync::HttpRequest in{req.method, req.target, {}, std::move(body)};
    for (const auto& [name, value] : req.headers) in.headers.emplace_back(name, value);
    sync::HttpResponse out = gateway->Handle(in, clock->NowUnixMillis());
    if (group_sync) {
      // Durable before acknowledged: what this request wrote, and every commit it may have
      // read, is on stable storage before it is answered (one sync for many requests).
      Status durable = group_sync->WaitDurable(group_sync->Written());
      if (!durable.ok()) {
        out = sync::ErrorResponse({503, sync::wire::kUnavailable,
                                   "the server could not store the request safely; try again"});
        out.headers.emplace_back("Retry-After", "1");
      }
    }
    if (out.status == 201 && req.path == "/v1/jobs") {  // not a device, not a blob
      metrics.CountJobCreated();
      if (pool) pool->Wake();
    }
    if (out.status == 401) metrics.CountAuthRefusal(sync::ParseError(out).code);
    Write(out, res);
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Open(const ServerOptions& options) {
  if (options.data_dir.empty()) return InvalidArgument("the server needs a data directory");
  if (options.workers < 0) return InvalidArgument("the number of workers must be 0 or more");
  if (options.workers > 0 && options.renderer == nullptr) {
    return InvalidArgument("render workers need a renderer");
  }
  if (options.lease_ms < 1000 || options.drain_ms < 0) {
    return InvalidArgument("the lease must be at least 1 s and the drain time 0 or more");
  }
  if (options.store_connections < 1 || options.store_connections > 256) {
    return InvalidArgument("the store connections must be 1 to 256");
  }
  if (options.read_timeout_ms < 100 || options.write_timeout_ms < 100 ||
      options.requests_per_window < 1) {
    return InvalidArgument("timeouts must be at least 100 ms and the request rate at least 1");
  }
  if (options.job_retention_ms < 1) {
    return InvalidArgument("the job retention must be at least 1 ms (jobs are always expired)");
  }
  if (options.port < 0 || options.port > 65535) {
    return InvalidArgument("port " + std::to_string(options.port) + " is not 0 to 65535");
  }
  if (!options.store.empty() && options.store != "sqlite" && !IsPostgresUrl(options.store)) {
    // Not echoed: it may be a URL with a password in it.
    return InvalidArgument("the job store must be sqlite or a postgresql:// URL");
  }
  if (::mkdir(options.data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return IoError("cannot create the data directory " + options.data_dir + ": " +
                   std::strerror(errno));
  }
  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock::Default();
  CAIRN_ASSIGN_OR_RETURN(Bytes id_key, LoadOrCreateIdKey(options.data_dir + "/server.key"));
  if (!IsPostgresUrl(options.store)) {
    impl->group_sync = std::make_unique<WalGroupSync>(
        std::vector<std::string>{options.data_dir + "/jobs.db", options.data_dir + "/devices.db"});
  }
  CAIRN_ASSIGN_OR_RETURN(auto jobs, OpenJobStore(options, impl->group_sync.get()));
  impl->store = std::make_unique<SerializedJobStore>(std::move(jobs), impl->group_sync.get());
  impl->service = std::make_unique<sync::JobService>(
      *impl->store,
      sync::ServiceOptions{.lease_ms = options.lease_ms, .id_key = std::move(id_key)});
  impl->router = std::make_unique<sync::ApiRouter>(*impl->service, options.blobs);
  CAIRN_ASSIGN_OR_RETURN(auto devices, OpenDeviceStore(options, impl->group_sync.get()));
  impl->devices =
      std::make_unique<SerializedDeviceStore>(std::move(devices), impl->group_sync.get());
  impl->auth = std::make_unique<sync::DeviceAuthenticator>(
      *impl->devices, sync::AuthOptions{.max_nonces_per_device = options.requests_per_window});
  impl->gateway = std::make_unique<sync::ApiGateway>(
      *impl->auth, *impl->router,
      // No gateway-wide lock: each store serializes its own connection (serialized_stores.h).
      sync::GatewayOptions{.blobs = options.blobs});
  // Retention always runs; blob collection with blobs and a maximum age.
  impl->gc = std::make_unique<Collector>(
      options.blobs, *impl->store, impl->service.get(),
      CollectorOptions{.max_age_ms = options.blob_max_age_ms,
                       .interval_ms = std::max<int64_t>(1000, options.blob_gc_interval_ms),
                       .job_retention_ms = options.job_retention_ms},
      impl->clock);
  if (options.workers > 0) {
    impl->leases = std::make_unique<LockedJobLeases>(*impl->service, impl->mu);
    impl->pool = std::make_unique<WorkerPool>(
        *impl->leases, *options.renderer,
        WorkerOptions{.workers = options.workers,
                      .lease_ms = options.lease_ms,
                      .drain_ms = options.drain_ms,
                      .name = "w" + ToHex(crypto::RandomBytes(4)),
                      .clock = impl->clock});
  }

  Impl* self = impl.get();
  httplib::Server& http = impl->http;
  const int threads = options.threads > 0 ? options.threads : 1;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // cpp-httplib writes a response's head and body with separate send()s; with Nagle's algorithm
  // on, the body then waits for the client's delayed ACK (40 ms on Linux): every response
  // would take 40 ms more than it needs.
  http.set_tcp_nodelay(true);
  // cpp-httplib's limit is the largest route's (a blob upload); every route's own limit
  // (ApiGateway::BodyLimit) is applied before reading a declared body and while reading a
  // chunked one, so a job submission still stops at 64 KiB.
  http.set_payload_max_length(options.blobs != nullptr ? sync::kMaxBlobBytes
                                                       : sync::kMaxRequestBodyBytes);
  http.set_pre_routing_handler([self](const httplib::Request& req, httplib::Response& res) {
    if (!req.path.starts_with("/v1/") || !req.has_header("Content-Length")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    const size_t limit = self->gateway->BodyLimit(req.method, req.path);
    const std::string declared = req.get_header_value("Content-Length");
    const bool over = declared.size() > 12 ||
                      (declared.find_first_not_of("0123456789") == std::string::npos &&
                       std::stoull("0" + declared) > limit);
    if (!over) return httplib::Server::HandlerResponse::Unhandled;
    Write(TooLarge(limit), res);
    res.set_header("Connection", "close");  // the unread body must not be taken as a request
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_read_timeout(options.read_timeout_ms / 1000, (options.read_timeout_ms % 1000) * 1000);
  http.set_write_timeout(options.write_timeout_ms / 1000, (options.write_timeout_ms % 1000) * 1000);
  http.set_keep_alive_timeout(std::max(1, options.read_timeout_ms / 1000));
  auto api = [self](const httplib::Request& req, httplib::Response& res) {
    self->HandleApi(req, req.body, res);
  };
  // Requests with bodies: read here, at most the route's limit (a chunked body has no declared
  // size to refuse up front).
  auto api_body = [self](const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader& read) {
    const size_t limit = self->gateway->BodyLimit(req.method, req.path);
    std::string body;
    bool over = false;
    const bool complete = read([&](const char* data, size_t n) {
      if (body.size() + n > limit) {
        over = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    if (over || res.status == 413) {
      Write(TooLarge(limit), res);
      res.set_header("Connection", "close");
      return;
    }
    if (!complete) {
      Write(sync::ErrorResponse({400, sync::wire::kBadValue, "the request body is malformed"}),
            res);
      res.set_header("Connection", "close");
      return;
    }
    self->HandleApi(req, std::move(body), res);
  };
  // Everything under /v1/ goes to the gateway, so an unsigned request learns nothing (not even
  // which paths exist) beyond a 401.
  const char* kApiPattern = R"(/v1/.*)";
  http.Get(kApiPattern, api);
  http.Post(kApiPattern, api_body);
  http.Delete(kApiPattern, api_body);
  http.Put(kApiPattern, api_body);
  http.Patch(kApiPattern, api_body);
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  http.Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
    std::string text = self->metrics.Render();
    if (self->pool) text += WorkerMetricsText(self->pool->Stats());
    if (self->group_sync) text += GroupSyncMetricsText(self->group_sync->stats());
    text += BlobGcMetricsText(self->gc->Totals());
    res.set_content(text, "text/plain; version=0.0.4");
  });
  MountStaticFiles(http, {.app_dir = options.app_dir, .models_dir = options.models_dir});
  SetIsolationHeaders(http);
  // Responses cpp-httplib makes itself (413 for an oversize body, 404 for other paths, 400 for
  // a malformed request) get the protocol's JSON error; the router's already have a body.
  http.set_error_handler([self](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    sync::ApiError e{res.status, sync::wire::kInternal, "the server could not answer"};
    if (res.status == 413) {
      e = {413, sync::wire::kTooLarge,
           "the request body is over the limit of " +
               std::to_string(self->gateway->BodyLimit(req.method, req.path)) + " bytes"};
    } else if (res.status == 404) {
      e = {404, sync::wire::kNotFound, "no such path: " + req.path};
    } else if (res.status == 405) {
      e = {405, sync::wire::kMethodNotAllowed, "this path does not allow " + req.method};
    } else if (res.status < 500) {
      e = {res.status, sync::wire::kBadValue, "the HTTP request is malformed"};
    }
    Write(sync::ErrorResponse(e), res);
  });
  // Exceptions from cpp-httplib or the standard library (bad_alloc) end here, never in a thread.
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        Write(sync::ErrorResponse({500, sync::wire::kInternal, "internal error"}), res);
      });
  http.set_logger([self](const httplib::Request&, const httplib::Response& res) {
    self->metrics.CountResponse(res.status);
  });

  if (options.port == 0) {
    impl->port = http.bind_to_any_port(options.bind);
    if (impl->port < 0) impl->port = 0;
  } else if (http.bind_to_port(options.bind, options.port)) {
    impl->port = options.port;
  }
  if (impl->port == 0) {
    return Unavailable("cannot listen on " + options.bind + ":" + std::to_string(options.port) +
                       " (in use, or not an address of this machine); pick another --port");
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port; }

Status HttpServer::Serve() {
  if (impl_->pool) impl_->pool->Start();
  if (impl_->gc) impl_->gc->Start();
  if (!impl_->http.listen_after_bind()) return Unavailable("the listening socket failed");
  return Status::Ok();
}

void HttpServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->http.wait_until_ready();  // a Stop racing the start of Serve must not be lost
  if (impl_->pool) impl_->pool->Stop();  // drains while devices can still read their jobs
  if (impl_->gc) impl_->gc->Stop();
  impl_->http.stop();
}

}  // namespace cairn::server
