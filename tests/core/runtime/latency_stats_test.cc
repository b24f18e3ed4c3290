#include "core/runtime/latency_stats.h"

#include <catch_amalgamated.hpp>

namespace cairn::runtime {
namespace {

TEST_CASE("percentiles are nearest-rank over the window") {
  LatencyStats s(20);
  CHECK(s.Summary().window_count == 0);
  CHECK(s.Percentile(95) == 0);
  for (int i = 20; i >= 1; --i) s.Add(i);  // 1..20 ms, out of order
  LatencySummary sum = s.Summary();
  CHECK(sum.window_count == 20);
  CHECK(sum.p50_ms == 10);
  CHECK(sum.p95_ms == 19);
  CHECK(sum.max_ms == 20);
  CHECK(sum.mean_ms == Catch::Approx(10.5));
}

TEST_CASE("the window keeps only the most recent samples") {
  LatencyStats s(4);
  for (double v : {100.0, 100.0, 100.0, 100.0, 1.0, 2.0, 3.0, 4.0}) s.Add(v);
  LatencySummary sum = s.Summary();
  CHECK(sum.total_count == 8);
  CHECK(sum.window_count == 4);
  CHECK(sum.max_ms == 4);  // the slow start has rolled out
  CHECK(sum.p50_ms == 2);
  s.Clear();
  CHECK(s.Summary().total_count == 0);
}

}  // namespace
}  // namespace cairn::runtime
