// LatencyStats: p50/p95 over a rolling window of recent samples, for gating the UI (e.g. offer
// "fast preview" only while p95 < 400 ms) and for benchmarks.
//
//   LatencyStats stats(/*window=*/128);
//   stats.Add(elapsed_ms);
//   LatencySummary s = stats.Summary();   // count, p50, p95, max over the last 128 samples
//
// Percentiles are nearest-rank over the window: p95 of 20 samples is the 19th smallest.
// Threading: not synchronized; owners that share one across threads lock around it.
#ifndef CAIRN_CORE_RUNTIME_LATENCY_STATS_H_
#define CAIRN_CORE_RUNTIME_LATENCY_STATS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cairn::runtime {

struct LatencySummary {
  uint64_t total_count = 0;  // every sample ever added
  size_t window_count = 0;   // samples the figures below are over
  double p50_ms = 0, p95_ms = 0, max_ms = 0, mean_ms = 0;
};

class LatencyStats {
 public:
  explicit LatencyStats(size_t window = 128);
  void Add(double ms);
  LatencySummary Summary() const;
  // Nearest-rank percentile (0 < p <= 100) over the window; 0 when empty.
  double Percentile(double p) const;
  void Clear();

 private:
  std::vector<double> ring_;
  size_t next_ = 0;
  uint64_t total_ = 0;
};

}  // namespace cairn::runtime

#endif  // CAIRN_CORE_RUNTIME_LATENCY_STATS_H_
