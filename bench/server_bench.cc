// Server intake benchmark, the load generator: real protocol-v1 job submissions against a
// running cairn-server on loopback (bench/run.py starts the server on each store and runs this
// against it; `./cairn bench server`).
//
//   server_bench --port P [--label NAME] [--devices 64] [--connections 32]
//                [--warmup-s 2] [--duration-s 8] [--max-rate 8000]
//
// What it sends: `devices` fresh Ed25519 devices register (signed POST /v1/devices), then every
// request is a signed POST /v1/jobs with a unique idempotency key and a caption-hq payload the
// size the app sends (task, ~300 bytes of context, style, banned words, seed). Requests are
// PRE-SIGNED before the timed phase (max-rate x (warm-up + duration) of them, on every core), so
// the client's Ed25519 signing does not take CPU from the server on a 2-core machine; each has
// its own nonce (the server refuses a nonce twice) and a timestamp taken when it was signed,
// which stays within the server's +-5 minute window because the pool is used within seconds.
// The pool spreads over the devices round robin (a device may make 10,000 requests per window).
//
// How it sends: `connections` keep-alive HTTP/1.1 connections, one blocking thread each
// (closed loop: the next request goes when the response is in; threads sleep in recv, so they
// cost a wake-up per request, no polling). A connection the server closes (Connection: close,
// cpp-httplib's keep-alive cap) is reopened. Latency is from the first byte sent to the last
// byte of the response. Requests sent during the warm-up are not counted; the measured window is
// `duration`, or shorter if the pool runs out (reported as pool_exhausted).
//
// Every response is checked: 201 with the request's idempotency key in the body counts as
// accepted; any other status is counted by status (non-2xx are errors), a 201 without the key
// as bad_body. Prints one JSON line; exits 1 on setup failure.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/base/clock.h"
#include "core/crypto/random.h"
#include "core/crypto/sign.h"
#include "sync/protocol.h"
#include "sync/request_auth.h"

namespace cairn::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  int port = 0;
  std::string label = "server";
  int devices = 64;
  int connections = 32;
  double warmup_s = 2;
  double duration_s = 8;
  int max_rate = 8000;
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "server_bench: %s\n", why.c_str());
  std::exit(1);
}

std::string Wire(const sync::HttpRequest& r) {
  std::string out = r.method + " " + r.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
  return out;
}

struct Prepared {
  std::string wire;
  std::string key;  // the idempotency key, looked for in the 201's body
};

// A caption-hq payload like the app's: the creator's task, context and style, limits, a seed.
std::string Payload(uint64_t i) {
  static const char* kPlaces[] = {"the beach at sunset", "a rooftop cafe", "a mountain trail",
                                  "the farmers market", "a rainy city street"};
  static const char* kTags[] = {"dog, beach, summer", "coffee, latte art", "hiking, views",
                                "food, local, fresh", "city, rain, neon"};
  const size_t k = i % 5;
  return std::string(R"({"task":"Write 3 Instagram captions",)") +
         R"("context":"photo: golden retriever at )" + kPlaces[k] +
         R"(, pier and boats in the background, warm light; tags: )" + kTags[k] +
         R"(; notes: new collar from the shop down the road, giveaway ends Friday, thank )"
         R"(everyone for 10k followers, keep it light and friendly, ask a question at the end )"
         R"(to get comments; post )" +
         std::to_string(i) +
         R"(","style":"playful, short, one emoji each, hashtags at the end","count":3,)"
         R"("max_chars":220,"max_hashtags":8,"emoji_required":true,"banned":["acme","cheap"],)"
         R"("seed":)" + std::to_string(i) + "}";
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

struct Response {
  int status = 0;
  bool close = false;
  std::string body;
};

bool HeaderIs(std::string_view line, std::string_view name) {
  if (line.size() < name.size() + 1 || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  return true;
}

// One HTTP/1.1 exchange on a blocking socket; false if the connection failed.
bool Exchange(int fd, const std::string& wire, std::string& buf, Response* out) {
  for (size_t sent = 0; sent < wire.size();) {
    const ssize_t n = ::send(fd, wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  buf.clear();
  size_t head_end = std::string::npos, want = 0;
  char tmp[16384];
  while (true) {
    if (head_end == std::string::npos) {
      head_end = buf.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        *out = Response{};
        std::string_view head(buf.data(), head_end);
        if (head.size() < 12 || !head.starts_with("HTTP/1.1 ")) return false;
        out->status = std::atoi(std::string(head.substr(9, 3)).c_str());
        size_t length = 0;
        for (size_t pos = head.find("\r\n"); pos != std::string::npos;) {
          const size_t next = head.find("\r\n", pos + 2);
          std::string_view line = head.substr(pos + 2, next == std::string::npos
                                                           ? std::string_view::npos
                                                           : next - pos - 2);
          if (HeaderIs(line, "content-length")) {
            length = std::strtoul(std::string(line.substr(15)).c_str(), nullptr, 10);
          }
          if (HeaderIs(line, "connection") && line.find("close") != std::string_view::npos) {
            out->close = true;
          }
          pos = next;
        }
        want = head_end + 4 + length;
      }
    }
    if (head_end != std::string::npos && buf.size() >= want) {
      out->body = buf.substr(head_end + 4, want - head_end - 4);
      return true;
    }
    const ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

struct Tally {
  std::vector<double> latencies_ms;  // of the requests sent and answered inside the window
  uint64_t accepted = 0, bad_body = 0, reconnects = 0, io_errors = 0;
  uint64_t created_all = 0;  // 201s in every phase: what the server's jobs counter must say
  std::map<int, uint64_t> other_status;
};

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * (sorted.size() - 1) + 0.5));
  return sorted[i];
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--port") f.port = std::atoi(v.c_str());
    else if (k == "--label") f.label = v;
    else if (k == "--devices") f.devices = std::atoi(v.c_str());
    else if (k == "--connections") f.connections = std::atoi(v.c_str());
    else if (k == "--warmup-s") f.warmup_s = std::atof(v.c_str());
    else if (k == "--duration-s") f.duration_s = std::atof(v.c_str());
    else if (k == "--max-rate") f.max_rate = std::atoi(v.c_str());
    else Die("unknown flag " + k);
  }
  if (f.port <= 0 || f.devices < 1 || f.connections < 1 || f.duration_s <= 0 || f.max_rate < 1) {
    Die("usage: server_bench --port P [--label L] [--devices N] [--connections N] "
        "[--warmup-s S] [--duration-s S] [--max-rate R]");
  }
  return f;
}

}  // namespace

int Main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  const int64_t now_ms = SystemClock::Default().NowUnixMillis();

  // Devices, registered over one connection.
  std::vector<sync::RequestSigner> signers;
  for (int d = 0; d < f.devices; ++d) signers.emplace_back(crypto::GenerateSigningKeyPair());
  {
    const int fd = Connect(f.port);
    if (fd < 0) Die("cannot connect to 127.0.0.1:" + std::to_string(f.port));
    std::string buf;
    for (auto& s : signers) {
      sync::HttpRequest reg = sync::MakeRegisterRequest(s.public_key());
      if (!s.Sign(reg, now_ms, sync::NewNonce()).ok()) Die("cannot sign a registration");
      Response r;
      if (!Exchange(fd, Wire(reg), buf, &r) || (r.status != 201 && r.status != 200)) {
        Die("registering a device failed: " + std::to_string(r.status) + " " + r.body);
      }
      if (r.close) Die("the server closed the registration connection");
    }
    ::close(fd);
  }

  // The pool, signed on every core before the clock starts.
  const size_t total = static_cast<size_t>(f.max_rate * (f.warmup_s + f.duration_s));
  std::vector<Prepared> pool(total);
  const std::string run = ToHex(crypto::RandomBytes(4));
  const auto sign_start = Clock::now();
  {
    const unsigned n = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> signing;
    for (unsigned t = 0; t < n; ++t) {
      signing.emplace_back([&, t] {
        for (size_t i = t; i < total; i += n) {
          sync::JobSubmission s;
          s.idempotency_key = "bench-" + run + "-" + std::to_string(i) + "-000000";
          s.kind = sync::JobKind::kCaptionHq;
          s.preset = sync::Preset::kFinal;
          s.payload_json = Payload(i);
          Result<sync::HttpRequest> req = sync::MakeSubmitRequest(s);
          if (!req.ok()) Die(req.status().ToString());
          const auto& signer = signers[i % signers.size()];
          if (!signer.Sign(*req, SystemClock::Default().NowUnixMillis(), sync::NewNonce()).ok()) {
            Die("cannot sign a submission");
          }
          pool[i] = {Wire(*req), "\"idempotency_key\":\"" + s.idempotency_key + "\""};
        }
      });
    }
    for (auto& t : signing) t.join();
  }
  const double sign_s = std::chrono::duration<double>(Clock::now() - sign_start).count();

  std::atomic<size_t> next{0};
  std::atomic<bool> exhausted{false};
  const auto t0 = Clock::now();
  const auto window_start = t0 + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(f.warmup_s));
  const auto window_end = window_start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(f.duration_s));
  std::atomic<int64_t> last_done_ns{0};  // when the last counted response came (pool running out)
  std::vector<Tally> tallies(f.connections);
  std::vector<std::thread> threads;
  for (int c = 0; c < f.connections; ++c) {
    threads.emplace_back([&, c] {
      Tally& t = tallies[c];
      t.latencies_ms.reserve(total / f.connections + 16);
      std::string buf;
      int fd = Connect(f.port);
      while (fd >= 0) {
        const auto sent = Clock::now();
        if (sent >= window_end) break;
        const size_t i = next.fetch_add(1, std::memory_order_relaxed);
        if (i >= total) {
          exhausted = true;  // before the window ended: it is measured up to here
          break;
        }
        Response r;
        if (!Exchange(fd, pool[i].wire, buf, &r)) {
          ++t.io_errors;
          ::close(fd);
          fd = Connect(f.port);
          ++t.reconnects;
          continue;
        }
        const auto done = Clock::now();
        if (r.status == 201) ++t.created_all;
        if (sent >= window_start && done <= window_end) {
          t.latencies_ms.push_back(std::chrono::duration<double, std::milli>(done - sent).count());
          int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(done - t0).count();
          int64_t seen = last_done_ns.load();
          while (ns > seen && !last_done_ns.compare_exchange_weak(seen, ns)) {
          }
          if (r.status == 201) {
            if (r.body.find(pool[i].key) != std::string::npos) {
              ++t.accepted;
            } else {
              ++t.bad_body;
            }
          } else {
            ++t.other_status[r.status];
          }
        }
        if (r.close) {
          ::close(fd);
          fd = Connect(f.port);
          ++t.reconnects;
        }
      }
      if (fd >= 0) ::close(fd);
    });
  }
  for (auto& t : threads) t.join();

  Tally all;
  for (Tally& t : tallies) {
    all.latencies_ms.insert(all.latencies_ms.end(), t.latencies_ms.begin(), t.latencies_ms.end());
    all.accepted += t.accepted;
    all.bad_body += t.bad_body;
    all.reconnects += t.reconnects;
    all.io_errors += t.io_errors;
    all.created_all += t.created_all;
    for (auto [s, n] : t.other_status) all.other_status[s] += n;
  }
  std::sort(all.latencies_ms.begin(), all.latencies_ms.end());
  double window_s = f.duration_s;
  if (exhausted) {
    window_s = last_done_ns.load() / 1e9 - f.warmup_s;
  }
  uint64_t non2xx = 0, other2xx = 0;
  std::string statuses;
  for (auto [s, n] : all.other_status) {
    (s >= 200 && s < 300 ? other2xx : non2xx) += n;
    statuses += std::string(statuses.empty() ? "" : ",") + "\"" + std::to_string(s) +
                "\":" + std::to_string(n);
  }
  double mean = 0;
  for (double l : all.latencies_ms) mean += l;
  if (!all.latencies_ms.empty()) mean /= all.latencies_ms.size();
  std::printf(
      "{\"bench\":\"server\",\"store\":\"%s\",\"requests\":%zu,\"accepted\":%llu,"
      "\"jobs_per_s\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
      "\"mean_ms\":%.3f,\"non2xx\":%llu,\"other2xx\":%llu,\"bad_body\":%llu,\"io_errors\":%llu,"
      "\"statuses\":{%s},\"reconnects\":%llu,\"connections\":%d,\"devices\":%d,"
      "\"warmup_s\":%.1f,\"window_s\":%.3f,\"presigned\":%zu,\"presign_s\":%.2f,"
      "\"pool_exhausted\":%s,\"created_all_phases\":%llu}\n",
      f.label.c_str(), all.latencies_ms.size(), static_cast<unsigned long long>(all.accepted),
      all.accepted / window_s, Percentile(all.latencies_ms, 0.5),
      Percentile(all.latencies_ms, 0.9), Percentile(all.latencies_ms, 0.99),
      all.latencies_ms.empty() ? 0.0 : all.latencies_ms.back(), mean,
      static_cast<unsigned long long>(non2xx), static_cast<unsigned long long>(other2xx),
      static_cast<unsigned long long>(all.bad_body),
      static_cast<unsigned long long>(all.io_errors), statuses.c_str(),
      static_cast<unsigned long long>(all.reconnects), f.connections, f.devices, f.warmup_s,
      window_s, total, sign_s, exhausted ? "true" : "false",
      static_cast<unsigned long long>(all.created_all));
  return 0;
}

}  // namespace cairn::bench

int main(int argc, char** argv) { return cairn::bench::Main(argc, argv); }
