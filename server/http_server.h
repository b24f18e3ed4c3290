// HttpServer: cairn-server's HTTP front. It serves sync/'s ApiGateway (protocol v1, PROTOCOL.md:
// device registration, signed requests, the jobs API) over cpp-httplib on one address, plus
// GET /healthz and GET /metrics, with the jobs in a SqliteJobStore (jobs.db) or a PgJobStore
// (ServerOptions::store), and the devices and recent request nonces beside them: a
// SqliteDeviceStore (devices.db) under the data directory, or a PgDeviceStore in the same
// PostgreSQL database (shared by every server on it).
//
//   auto server = HttpServer::Open({.bind = "127.0.0.1", .port = 0, .data_dir = "/var/lib/cairn"});
//   if (!server.ok()) return server.status();       // bad data dir, port taken, ...
//   std::printf("listening on %d\n", (*server)->port());  // bound: connections queue from here
//   Status s = (*server)->Serve();                  // blocks until Stop()
//   // from another thread (the signal watcher): (*server)->Stop();
//   // Serve returns once in-flight requests are answered; destroying the server closes the store.
//
// Device authentication (sync/request_auth.h, sync/device_authenticator.h): a device registers
// its Ed25519 public key with POST /v1/devices (signed by that key); every other /v1/ request
// must carry Cairn-Device, Cairn-Timestamp, Cairn-Nonce and Cairn-Signature, checked against the
// stored key, the server's clock (ServerOptions::clock, +-5 minutes) and the nonces of the last
// window (kept in the device store, so a replay is refused across a restart too, and by every
// server sharing a PostgreSQL store). A refusal is 401
// with its code (unauthenticated, unknown_device, bad_signature, stale_request,
// replayed_request), WWW-Authenticate and Cairn-Server-Time; nothing is stored for it. No
// request acts for a device without its key, so the server may listen beyond loopback; it
// speaks plain HTTP, though, so put TLS in front of it (a reverse proxy) for anything but
// loopback: signatures stop forgery and replay, not eavesdropping on jobs and results.
//
// Blobs: with ServerOptions::blobs, uploads within the store's per-device quota, and a garbage
// collector thread (server/blob_gc.h) removing old blobs that no job refers to. The same thread
// applies job retention first in each pass (ServerOptions::job_retention_ms).
// Render workers: with options.workers > 0, a WorkerPool (server/render_workers.h) claims jobs
// from the same JobService through the same mutex, held only around each Claim, Renew, Complete
// and Fail (never while a job renders), and renders them with options.renderer. A new job wakes
// an idle worker at once. /metrics adds the workers' counters.
//
// Limits: request bodies over kMaxRequestBodyBytes (64 KiB; blob uploads sync::kMaxBlobBytes,
// 24 MiB) are 413 `too_large` before they are read in full (chunked bodies too); request lines, headers and their count are capped by
// cpp-httplib's build-time limits (kMaxRequestLineBytes, kMaxHeaderLineBytes,
// kMaxHeaderCount below: over them is a 400/414/431); timeouts and the per-device request rate
// are ServerOptions. Every error is the protocol's JSON error.
// Durability: a request is answered only once what it wrote (and anything it read) is on
// stable storage. PostgreSQL's commits are; the SQLite stores run with synchronous=NORMAL and
// the server syncs their WALs for groups of requests (server/wal_group_sync.h): the same
// guarantee as synchronous=FULL, one fdatasync for many requests.
// Threading: requests are handled on cpp-httplib's thread pool in parallel; each store
// connection is used one call at a time, from a pool (PostgreSQL: store_connections per store;
// SQLite: one; server/serialized_stores.h), and blob uploads hash and
// write outside any lock (the BlobStore is thread-safe). The clock
// in ServerOptions must outlive the server and be thread-safe (every Clock is). Stop() may
// be called from any thread, once; it waits for Serve() to start, so call it only when Serve()
// has been or will be called.
#ifndef CAIRN_SERVER_HTTP_SERVER_H_
#define CAIRN_SERVER_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "core/base/clock.h"
#include "core/base/status.h"

namespace cairn::server {

class FileBlobStore;
class JobRenderer;

inline constexpr int kDefaultPort = 8787;
// cpp-httplib's compile-time limits, as Debian's build has them (checked at compile time in
// http_server.cc, so a different build of the library cannot change them silently).
inline constexpr size_t kMaxRequestLineBytes = 8192;  // CPPHTTPLIB_REQUEST_URI_MAX_LENGTH
inline constexpr size_t kMaxHeaderLineBytes = 8192;   // CPPHTTPLIB_HEADER_MAX_LENGTH
inline constexpr size_t kMaxHeaderCount = 100;        // CPPHTTPLIB_HEADER_MAX_COUNT
inline constexpr char kDefaultBind[] = "127.0.0.1";

struct ServerOptions {
  std::string app_dir;     // the PWA's build, served at / (server/static_files.h); empty: none
  std::string models_dir;  // model packs at /models/<id>/<file> and /models/index.json
  std::string bind = kDefaultBind;
  int port = kDefaultPort;  // 0: the system picks a free port; port() tells which
  // Created (0700) if missing; holds jobs.db, devices.db, server.key. With SQLite the server
  // holds the databases in EXCLUSIVE locking mode: one server process per data directory.
  std::string data_dir;
  // Where the jobs are: "" or "sqlite" for jobs.db in data_dir, or a PostgreSQL URL
  // (postgresql://... or postgres://...) that several servers may share (sync/pg_job_store.h).
  std::string store;
  // PostgreSQL: connections per store (jobs; devices and nonces), used as a pool by the HTTP
  // threads and the workers (server/serialized_stores.h). SQLite always has one per database.
  int store_connections = 4;
  // cpp-httplib's worker threads: each serves one keep-alive connection at a time, and a request
  // holds its thread while it waits for its group commit (server/wal_group_sync.h).
  int threads = 32;
  const Clock* clock = nullptr;  // for request timestamps and job times; nullptr: the system's
  // Render workers (server/render_workers.h) claiming from this server's queue; 0: none.
  int workers = 0;
  JobRenderer* renderer = nullptr;  // required with workers; not owned, outlives the server
  int64_t lease_ms = 60'000;        // a worker's lease on a job, renewed while it runs
  int64_t drain_ms = 30'000;        // how long Stop lets running jobs finish
  // Blobs (server/file_blob_store.h): with one, devices upload image-export sources
  // (PUT /v1/blobs/{hash}, up to sync::kMaxBlobBytes) and fetch renditions
  // (GET /v1/jobs/{id}/result/{name}); without, those paths are 404. Not owned, outlives the
  // server, thread-safe. Its quota (FileBlobStoreOptions) answers uploads 413 quota_exceeded.
  FileBlobStore* blobs = nullptr;
  // Blob garbage collection (server/blob_gc.h): blobs no job refers to are removed once they
  // are this old, by a pass at start and then every blob_gc_interval_ms; 0: never.
  int64_t blob_max_age_ms = int64_t{168} * 3'600'000;
  int64_t blob_gc_interval_ms = 3'600'000;
  // Job retention (sync/job_service.h, ExpireFinished): a job that finished (done, failed,
  // cancelled) this long ago is removed, leaving its ExpiredJob (a replay or a request for it
  // answers 410 job_expired), on the blob collection's schedule, before it. At least 1 ms.
  int64_t job_retention_ms = int64_t{720} * 3'600'000;
  // Limits (SECURITY.md, "Limits"). A client that sends nothing for read_timeout_ms while a
  // request is due, or reads nothing for write_timeout_ms, is disconnected: a slow client holds
  // one thread for that long at most. requests_per_window: how many signed requests a device
  // may make per authentication window (5 minutes); more are 429 `rate_limited` with
  // Retry-After.
  int read_timeout_ms = 10'000;
  int write_timeout_ms = 10'000;
  int64_t requests_per_window = 10'000;
};

class HttpServer {
 public:
  // Opens (or creates) the data directory, its job store and id key, and binds the socket.
  static Result<std::unique_ptr<HttpServer>> Open(const ServerOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Starts the render workers, then accepts and answers requests until Stop(); kUnavailable if
  // listening fails.
  Status Serve();
  // Stops the workers claiming and waits for their running jobs (at most drain_ms; the rest are
  // left for their leases to lapse), then stops accepting; Serve() returns after the requests
  // in flight are answered. Calls after the first do nothing.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_HTTP_SERVER_H_
