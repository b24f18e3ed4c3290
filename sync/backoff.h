// Retry timing: exponential backoff with full jitter, a seeded RNG so runs are reproducible, and
// the HTTP Retry-After header.
//
//   Rng rng(/*seed=*/42);
//   BackoffPolicy policy;                              // 1 s base, doubling, 5 min cap
//   int64_t wait = policy.DelayMs(/*failures=*/3, rng);  // uniform in [0, 8 s]
//   std::optional<int64_t> ra = ParseRetryAfterMs("120", now_unix_ms);  // 120000
//
// Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the delay after the
// n-th consecutive failure is uniform in [0, min(cap, base * 2^(n-1))]. It spreads a crowd of
// devices that failed together better than equal or decorrelated jitter, at the same mean load.
#ifndef CAIRN_SYNC_BACKOFF_H_
#define CAIRN_SYNC_BACKOFF_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace cairn::sync {

// SplitMix64: tiny, fast, deterministic for a seed on every platform (unlike std:: distributions,
// whose output differs between standard libraries, so native and wasm would disagree).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, bound] inclusive; bound >= 0.
  int64_t Uniform(int64_t bound);
  // true with probability p (0..1).
  bool Chance(double p);

 private:
  uint64_t state_;
};

struct BackoffPolicy {
  int64_t base_ms = 1'000;
  int64_t cap_ms = 5 * 60'000;
  // The upper bound of the delay after `failures` consecutive failures (>= 1).
  int64_t CeilingMs(int64_t failures) const;
  // A full-jitter delay: uniform in [0, CeilingMs(failures)].
  int64_t DelayMs(int64_t failures, Rng& rng) const;
};

// Retry-After (RFC 9110 §10.2.3): delay-seconds ("120") or an IMF-fixdate ("Sun, 06 Nov 1994
// 08:49:37 GMT"), as milliseconds from `now_unix_ms`; a date in the past is 0. nullopt for
// anything else (the caller then uses its own backoff). Values beyond a day are clamped to a
// day so a hostile or broken server cannot park a job for years.
std::optional<int64_t> ParseRetryAfterMs(std::string_view value, int64_t now_unix_ms);
inline constexpr int64_t kMaxRetryAfterMs = 24 * 3600 * 1000LL;

}  // namespace cairn::sync

#endif  // CAIRN_SYNC_BACKOFF_H_
