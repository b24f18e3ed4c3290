#include "core/runtime/latency_stats.h"

#include <algorithm>
#include <cmath>

namespace cairn::runtime {

LatencyStats::LatencyStats(size_t window) { ring_.reserve(std::max<size_t>(window, 1)); }

void LatencyStats::Add(double ms) {
  if (ring_.size() < ring_.capacity()) {
    ring_.push_back(ms);
  } else {
    ring_[next_] = ms;
    next_ = (next_ + 1) % ring_.size();
  }
  ++total_;
}

static double NearestRank(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t i = static_cast<size_t>(std::clamp(rank, 1.0, double(sorted.size()))) - 1;
  return sorted[i];
}

double LatencyStats::Percentile(double p) const {
  std::vector<double> sorted = ring_;
  std::sort(sorted.begin(), sorted.end());
  return NearestRank(sorted, p);
}

LatencySummary LatencyStats::Summary() const {
  LatencySummary s;
  s.total_count = total_;
  s.window_count = ring_.size();
  if (ring_.empty()) return s;
  std::vector<double> sorted = ring_;
  std::sort(sorted.begin(), sorted.end());
  s.p50_ms = NearestRank(sorted, 50);
  s.p95_ms = NearestRank(sorted, 95);
  s.max_ms = sorted.back();
  double sum = 0;
  for (double v : sorted) sum += v;
  s.mean_ms = sum / static_cast<double>(sorted.size());
  return s;
}

void LatencyStats::Clear() {
  ring_.clear();
  next_ = 0;
  total_ = 0;
}

}  // namespace cairn::runtime
