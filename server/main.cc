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
#include <thread>

#include "server/http_server.h"

namespace {

constexpr char kUsage[] =
    "usage: cairn-server --data DIR [--port N] [--bind ADDR] [--app DIR] [--models DIR]\n"
    "\n"
    "Serves the Cairn sync protocol v1 (POST /v1/devices, /v1/jobs), GET /healthz and\n"
    "GET /metrics. Devices register an Ed25519 public key and sign every request with it\n"
    "(Cairn-Device, Cairn-Timestamp, Cairn-Nonce, Cairn-Signature; sync/PROTOCOL.md):\n"
    "unsigned, forged, stale (over 5 minutes off this machine's clock) and replayed requests\n"
    "are refused with 401.\n"
    "\n"
    "  --data DIR   where the job store (jobs.db), the devices and recent request nonces\n"
    "               (devices.db) and the job-id key live; created if missing\n"
    "               (env CAIRN_SERVER_DATA)\n"
    "  --app DIR    serve the PWA's build (build/pwa) at /\n"
    "  --models DIR serve model packs at /models/<id>/<file> and their list at\n"
    "               /models/index.json\n"
    "  --port N     TCP port, default 8787; 0 picks a free one (env CAIRN_SERVER_PORT)\n"
    "  --bind ADDR  address to listen on, default 127.0.0.1. Another address (0.0.0.0 for\n"
    "               all) is safe from forged requests, but the server speaks plain HTTP: put\n"
    "               a TLS reverse proxy in front so jobs and results are not readable on the\n"
    "               way, and keep this machine's clock synchronized (NTP).\n"
    "  --help       this text\n"
    "\n"
    "SIGINT or SIGTERM stops accepting, answers the requests in flight and exits 0.\n";

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

}  // namespace

int main(int argc, char** argv) {
  cairn::server::ServerOptions options;
  std::string port_text;
  if (const char* env = std::getenv("CAIRN_SERVER_PORT")) port_text = env;
  if (const char* env = std::getenv("CAIRN_SERVER_DATA")) options.data_dir = env;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg != "--port" && arg != "--data" && arg != "--bind" && arg != "--app" &&
        arg != "--models") {
      return UsageError("unknown flag " + std::string(arg));
    }
    if (i + 1 >= argc) return UsageError(std::string(arg) + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--port") port_text = value;
    if (arg == "--data") options.data_dir = value;
    if (arg == "--bind") options.bind = value;
    if (arg == "--app") options.app_dir = value;
    if (arg == "--models") options.models_dir = value;
  }
  if (!port_text.empty() && !ParsePort(port_text, &options.port)) {
    return UsageError("--port must be a whole number from 0 to 65535, not '" + port_text + "'");
  }
  if (options.data_dir.empty()) return UsageError("needs --data DIR (or CAIRN_SERVER_DATA)");

  // Block the stop signals in every thread; one thread waits for them and stops the server.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

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
  if (!status.ok()) {
    std::fprintf(stderr, "cairn-server: %s\n", status.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "cairn-server: stopped\n");
  return 0;
}
