// cairn-server: the HQ job queue over HTTP (sync/PROTOCOL.md). See --help, and
// server/http_server.h for the contract (devices sign every request with their Ed25519 key).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <memory>
#include <thread>
#include <vector>

#include "core/runtime/trusted_keys.h"
#include "server/caption_hq_model.h"
#include "server/caption_hq_renderer.h"
#include "server/file_blob_store.h"
#include "server/http_server.h"
#include "server/image_export_renderer.h"

namespace {

constexpr char kUsage[] =
    "usage: cairn-server --data DIR [--store sqlite|URL] [--blobs DIR] [--port N] [--bind ADDR]\n"
    "                    [--blob-quota SIZE] [--blob-max-age-hours N] [--store-connections N]\n"
    "                    [--job-retention-hours N]\n"
    "                    [--app DIR] [--models DIR] [--workers N] [--caption-model ID]\n"
    "                    [--trust HEX]... [--trust-file PATH]...\n"
    "                    [--lease-seconds N] [--drain-seconds N]\n"
    "                    [--timeout-seconds N] [--device-requests N] [--threads N]\n"
    "\n"
    "Serves the Cairn sync protocol v1 (POST /v1/devices, /v1/jobs), GET /healthz and\n"
    "GET /metrics. Devices register an Ed25519 public key and sign every request with it\n"
    "(Cairn-Device, Cairn-Timestamp, Cairn-Nonce, Cairn-Signature; sync/PROTOCOL.md):\n"
    "unsigned, forged, stale (over 5 minutes off this machine's clock) and replayed requests\n"
    "are refused with 401.\n"
    "\n"
    "  --data DIR   where the job store (jobs.db), the devices and recent request nonces\n"
    "               (devices.db) and the job-id key live; created if missing. One server\n"
    "               per directory: it holds the databases' locks while it runs\n"
    "               (env CAIRN_SERVER_DATA)\n"
    "  --store sqlite|URL  where the jobs are: sqlite (default) keeps them in jobs.db in\n"
    "               --data; a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT/DB, any\n"
    "               libpq URL) keeps them in that database, where several cairn-server\n"
    "               instances and their workers share one queue (each job claimed by one\n"
    "               worker: FOR UPDATE SKIP LOCKED), and the registered devices and recent\n"
    "               request nonces too: a device registers once for all of them, and a\n"
    "               request one accepted is refused as a replay by every other. Its tables\n"
    "               are made if missing. The job-id key stays in --data: give every\n"
    "               instance a copy of the same server.key (env CAIRN_SERVER_STORE)\n"
    "  --store-connections N  with a PostgreSQL store, connections per store (the jobs; the\n"
    "               devices and nonces), shared by the requests and workers, default 4\n"
    "               (env CAIRN_SERVER_STORE_CONNECTIONS). SQLite always uses one\n"
    "  --blobs DIR  where uploaded images (PUT /v1/blobs/HASH, up to 24 MiB) and image-export\n"
    "               renditions are kept, default DATA/blobs. Servers sharing a PostgreSQL\n"
    "               store must share this directory too (a network file system): any\n"
    "               server's worker may render a job, and any server may serve its result\n"
    "               (env CAIRN_SERVER_BLOBS)\n"
    "  --blob-quota SIZE  the most a device's blobs (its uploads and their renditions) may take,\n"
    "               default 512M: bytes, or with K, M or G (KiB, MiB, GiB); 0: no quota. An\n"
    "               upload past it is refused with 413 quota_exceeded, nothing stored\n"
    "               (env CAIRN_SERVER_BLOB_QUOTA)\n"
    "  --blob-max-age-hours N  blobs no job refers to are removed once they were last\n"
    "               uploaded this long ago, default 168 (a week); checked at start and then\n"
    "               hourly; 0: never (env CAIRN_SERVER_BLOB_MAX_AGE_HOURS)\n"
    "  --job-retention-hours N  a job that finished (done, failed, cancelled) this long ago\n"
    "               is removed, and with it its result and its hold on blobs, default 720\n"
    "               (30 days), 1 to 87600; checked at start and then hourly, before the blobs.\n"
    "               A small record stays for good: a device that asks for the job, or sends\n"
    "               its submission again, gets 410 job_expired and the job never runs again\n"
    "               (env CAIRN_SERVER_JOB_RETENTION_HOURS)\n"
    "  --app DIR    serve the PWA's build (build/pwa) at /\n"
    "  --models DIR serve model packs at /models/<id>/<file> and their list at\n"
    "               /models/index.json\n"
    "  --port N     TCP port, default 8787; 0 picks a free one (env CAIRN_SERVER_PORT)\n"
    "  --bind ADDR  address to listen on, default 127.0.0.1. Another address (0.0.0.0 for\n"
    "               all) is safe from forged requests, but the server speaks plain HTTP: put\n"
    "               a TLS reverse proxy in front so jobs and results are not readable on the\n"
    "               way, and keep this machine's clock synchronized (NTP).\n"
    "  --workers N  render workers claiming jobs from the queue, default 1; 0: none (another\n"
    "               server's workers render them)\n"
    "  --caption-model ID  the caption-lm pack (manifest id) in --models that renders\n"
    "               caption-hq jobs, fp32 on native ONNX Runtime. Given and not loadable: the\n"
    "               server refuses to start. Default: the first caption-lm pack (by directory\n"
    "               name) that verifies; if none does, the server says why at start and fails\n"
    "               caption-hq jobs with no_model\n"
    "  --trust HEX, --trust-file PATH  Ed25519 keys trusted to sign model packs (repeatable;\n"
    "               also env CAIRN_TRUSTED_KEYS, comma-separated); a pack is never loaded\n"
    "               unverified\n"
    "  --lease-seconds N  a worker's lease on a job, default 60: renewed while it runs; a\n"
    "               worker that dies leaves the job to be claimed again once it lapses\n"
    "  --drain-seconds N  on SIGINT/SIGTERM, how long running jobs may finish, default 30;\n"
    "               the rest are left for their leases to lapse (never lost)\n"
    "  --timeout-seconds N  a client that sends (or reads) nothing for N seconds while a\n"
    "               request is due is disconnected, default 10\n"
    "  --device-requests N  signed requests a device may make per 5 minutes, default 10000;\n"
    "               more are answered 429 rate_limited with Retry-After\n"
    "  --threads N  HTTP threads, default 32: each serves one connection at a time, so this\n"
    "               caps the connections served at once (a request waits for its group\n"
    "               commit, so more threads also mean bigger groups)\n"
    "  --help       this text\n"
    "\n"
    "SIGINT or SIGTERM stops the workers claiming, lets running jobs finish (--drain-seconds),\n"
    "stops accepting, answers the requests in flight and exits 0. image-export jobs render\n"
    "with libvips (1080x1080, 1080x1350, 1080x1920; JPEG or WebP, provenance as XMP).\n";

int UsageError(const std::string& message) {
  std::fprintf(stderr, "cairn-server: %s\n%s", message.c_str(), kUsage);
  return 2;
}

bool ParsePort(std::string_view text, int* port) {
  if (text.empty() || text.size() > 5) return false;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > 65535) return false;
  *port = v;
  return true;
}

bool ParseCount(std::string_view text, int lo, int hi, int* out) {
  if (text.empty() || text.size() > 7) return false;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

// A size in bytes: digits, optionally followed by K, M or G (binary: KiB, MiB, GiB), at most
// 1 TiB.
bool ParseSize(std::string_view text, uint64_t* out) {
  uint64_t unit = 1;
  if (!text.empty()) {
    const char last = text.back();
    if (last == 'K' || last == 'k') unit = uint64_t{1} << 10;
    if (last == 'M' || last == 'm') unit = uint64_t{1} << 20;
    if (last == 'G' || last == 'g') unit = uint64_t{1} << 30;
    if (unit != 1) text.remove_suffix(1);
  }
  if (text.empty() || text.size() > 13) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > (uint64_t{1} << 40) / unit) return false;
  *out = v * unit;
  return true;
}

struct WorkerFlags {
  int workers = 1;
  std::string caption_model;
  cairn::runtime::TrustedKeySources trust;
};

// The workers' caption model. nullptr with the reason printed when there is none and none was
// asked for by id; exits (returns false) when the one asked for cannot be loaded.
bool LoadWorkerModel(const WorkerFlags& flags, const std::string& models_dir,
                     std::unique_ptr<cairn::server::CaptionHqModel>* out) {
  cairn::Result<cairn::model::TrustStore> trust = cairn::runtime::LoadTrustedKeys(flags.trust);
  std::vector<std::string> skipped;
  cairn::Status why = trust.status();
  if (trust.ok()) {
    auto loaded = cairn::server::LoadCaptionHqModel(
        {.models_dir = models_dir, .model_id = flags.caption_model, .trust = *trust}, &skipped);
    if (loaded.ok()) *out = std::move(*loaded);
    why = loaded.status();
  }
  for (const std::string& s : skipped) {
    std::fprintf(stderr, "cairn-server: passed over the pack %s\n", s.c_str());
  }
  if (*out) {
    const auto& p = (*out)->pack;
    std::fprintf(stderr, "cairn-server: %d render worker(s); caption-hq on %s %s (%s, %s), warmed "
                 "in %.0f ms\n", flags.workers, p.manifest.id.c_str(), p.manifest.version.c_str(),
                 p.variant_name.c_str(), (*out)->decoder->backend().c_str(),
                 (*out)->decoder->warm_up_ms());
    return true;
  }
  if (!flags.caption_model.empty()) {
    std::fprintf(stderr, "cairn-server: --caption-model %s cannot be used: %s\n",
                 flags.caption_model.c_str(), why.ToString().c_str());
    return false;
  }
  std::fprintf(stderr, "cairn-server: no caption model for the render workers: %s; caption-hq "
               "jobs will fail with no_model\n", why.ToString().c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  cairn::server::ServerOptions options;
  WorkerFlags worker_flags;
  int lease_seconds = 60, drain_seconds = 30, timeout_seconds = 10, device_requests = 10'000;
  int threads = options.threads;
  std::string port_text;
  if (const char* env = std::getenv("CAIRN_SERVER_PORT")) port_text = env;
  if (const char* env = std::getenv("CAIRN_SERVER_DATA")) options.data_dir = env;
  if (const char* env = std::getenv("CAIRN_SERVER_STORE")) options.store = env;
  std::string blobs_dir;
  if (const char* env = std::getenv("CAIRN_SERVER_BLOBS")) blobs_dir = env;
  std::string blob_quota_text = "512M", blob_max_age_text = "168";
  std::string store_connections_text = "4", job_retention_text = "720";
  if (const char* env = std::getenv("CAIRN_SERVER_STORE_CONNECTIONS")) {
    store_connections_text = env;
  }
  if (const char* env = std::getenv("CAIRN_SERVER_BLOB_QUOTA")) blob_quota_text = env;
  if (const char* env = std::getenv("CAIRN_SERVER_BLOB_MAX_AGE_HOURS")) blob_max_age_text = env;
  if (const char* env = std::getenv("CAIRN_SERVER_JOB_RETENTION_HOURS")) {
    job_retention_text = env;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg != "--port" && arg != "--data" && arg != "--store" && arg != "--bind" &&
        arg != "--app" && arg != "--models" && arg != "--workers" && arg != "--caption-model" &&
        arg != "--trust" && arg != "--trust-file" && arg != "--lease-seconds" &&
        arg != "--drain-seconds" && arg != "--timeout-seconds" && arg != "--device-requests" &&
        arg != "--threads" && arg != "--blobs" && arg != "--blob-quota" &&
        arg != "--blob-max-age-hours" && arg != "--store-connections" &&
        arg != "--job-retention-hours") {
      return UsageError("unknown flag " + std::string(arg));
    }
    if (i + 1 >= argc) return UsageError(std::string(arg) + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--port") port_text = value;
    if (arg == "--data") options.data_dir = value;
    if (arg == "--store") options.store = value;
    if (arg == "--blobs") blobs_dir = value;
    if (arg == "--blob-quota") blob_quota_text = value;
    if (arg == "--blob-max-age-hours") blob_max_age_text = value;
    if (arg == "--store-connections") store_connections_text = value;
    if (arg == "--job-retention-hours") job_retention_text = value;
    if (arg == "--bind") options.bind = value;
    if (arg == "--app") options.app_dir = value;
    if (arg == "--models") options.models_dir = value;
    if (arg == "--caption-model") worker_flags.caption_model = value;
    if (arg == "--trust") worker_flags.trust.hex_keys.push_back(value);
    if (arg == "--trust-file") worker_flags.trust.files.push_back(value);
    if (arg == "--workers" && !ParseCount(value, 0, 64, &worker_flags.workers)) {
      return UsageError("--workers must be a whole number from 0 to 64, not '" + value + "'");
    }
    if (arg == "--lease-seconds" && !ParseCount(value, 1, 3600, &lease_seconds)) {
      return UsageError("--lease-seconds must be a whole number from 1 to 3600, not '" + value +
                        "'");
    }
    if (arg == "--timeout-seconds" && !ParseCount(value, 1, 300, &timeout_seconds)) {
      return UsageError("--timeout-seconds must be a whole number from 1 to 300, not '" + value +
                        "'");
    }
    if (arg == "--device-requests" && !ParseCount(value, 1, 1'000'000, &device_requests)) {
      return UsageError("--device-requests must be a whole number from 1 to 1000000, not '" +
                        value + "'");
    }
    if (arg == "--threads" && !ParseCount(value, 1, 1024, &threads)) {
      return UsageError("--threads must be a whole number from 1 to 1024, not '" + value + "'");
    }
    if (arg == "--drain-seconds" && !ParseCount(value, 0, 3600, &drain_seconds)) {
      return UsageError("--drain-seconds must be a whole number from 0 to 3600, not '" + value +
                        "'");
    }
  }
  if (!port_text.empty() && !ParsePort(port_text, &options.port)) {
    return UsageError("--port must be a whole number from 0 to 65535, not '" + port_text + "'");
  }
  if (options.data_dir.empty()) return UsageError("needs --data DIR (or CAIRN_SERVER_DATA)");
  if (!ParseCount(store_connections_text, 1, 64, &options.store_connections)) {
    return UsageError("--store-connections must be a whole number from 1 to 64, not '" +
                      store_connections_text + "'");
  }
  uint64_t blob_quota = 0;
  if (!ParseSize(blob_quota_text, &blob_quota)) {
    return UsageError("--blob-quota must be a size in bytes, or with K, M or G (e.g. 512M), at "
                      "most 1 TiB, not '" + blob_quota_text + "'");
  }
  int blob_max_age_hours = 0;
  if (!ParseCount(blob_max_age_text, 0, 87'600, &blob_max_age_hours)) {
    return UsageError("--blob-max-age-hours must be a whole number from 0 to 87600, not '" +
                      blob_max_age_text + "'");
  }

  int job_retention_hours = 0;
  if (job_retention_text == "0") {
    return UsageError("--job-retention-hours cannot be 0: a finished job would be removed "
                      "before its device fetched the result; give 1 to 87600 hours (default 720)");
  }
  if (!ParseCount(job_retention_text, 1, 87'600, &job_retention_hours)) {
    return UsageError("--job-retention-hours must be a whole number from 1 to 87600, not '" +
                      job_retention_text + "'");
  }

  // Block the stop signals in every thread; one thread waits for them and stops the server.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<cairn::server::CaptionHqModel> model;
  if (worker_flags.workers > 0 && !LoadWorkerModel(worker_flags, options.models_dir, &model)) {
    return 1;
  }
  // libvips once per process, two threads per render (this is sized for a small machine).
  if (cairn::Status s = cairn::server::Libvips::Init(2); !s.ok()) {
    std::fprintf(stderr, "cairn-server: %s\n", s.ToString().c_str());
    return 1;
  }
  auto blobs = cairn::server::FileBlobStore::Open(
      blobs_dir.empty() ? options.data_dir + "/blobs" : blobs_dir, {.quota_bytes = blob_quota});
  if (!blobs.ok()) {
    std::fprintf(stderr, "cairn-server: %s\n", blobs.status().ToString().c_str());
    return 1;
  }
  options.blobs = blobs->get();
  options.blob_max_age_ms = int64_t{blob_max_age_hours} * 3'600'000;
  options.job_retention_ms = int64_t{job_retention_hours} * 3'600'000;
  cairn::server::CaptionHqRenderer caption_renderer(model ? &*model->model : nullptr);
  cairn::server::ImageExportRenderer image_renderer(**blobs);
  cairn::server::RenderersByKind renderer(&caption_renderer, &image_renderer);
  options.workers = worker_flags.workers;
  options.renderer = &renderer;
  options.lease_ms = int64_t{lease_seconds} * 1000;
  options.drain_ms = int64_t{drain_seconds} * 1000;
  options.read_timeout_ms = options.write_timeout_ms = timeout_seconds * 1000;
  options.requests_per_window = device_requests;
  options.threads = threads;

  auto server = cairn::server::HttpServer::Open(options);
  if (!server.ok()) {
    std::fprintf(stderr, "cairn-server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::atomic<bool> served{false};
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (served.load()) return;  // Serve failed on its own; main woke us to finish
    std::fprintf(stderr, "cairn-server: signal %d, stopping\n", sig);
    (*server)->Stop();
  });
  std::printf("cairn-server listening on %s:%d\n", options.bind.c_str(), (*server)->port());
  std::fflush(stdout);
  cairn::Status status = (*server)->Serve();
  if (!served.exchange(true) && !status.ok()) kill(getpid(), SIGTERM);
  watcher.join();
  server->reset();  // closes the job store
  cairn::server::Libvips::Shutdown();
  if (!status.ok()) {
    std::fprintf(stderr, "cairn-server: %s\n", status.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "cairn-server: stopped\n");
  return 0;
}
