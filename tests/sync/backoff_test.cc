#include "sync/backoff.h"

#include <catch_amalgamated.hpp>

#include <algorithm>
#include <vector>

namespace cairn::sync {
namespace {

TEST_CASE("the backoff ceiling doubles per failure up to the cap") {
  BackoffPolicy p{1000, 60'000};
  CHECK(p.CeilingMs(1) == 1000);
  CHECK(p.CeilingMs(2) == 2000);
  CHECK(p.CeilingMs(6) == 32'000);
  CHECK(p.CeilingMs(7) == 60'000);
  CHECK(p.CeilingMs(1'000'000) == 60'000);  // no overflow for absurd counts
  CHECK(p.CeilingMs(0) == 1000);
}

TEST_CASE("full jitter spreads delays over the whole range, reproducibly for a seed") {
  BackoffPolicy p{1000, 60'000};
  Rng a(42), b(42), c(43);
  std::vector<int64_t> da, db, dc;
  for (int i = 0; i < 2000; ++i) {
    da.push_back(p.DelayMs(4, a));
    db.push_back(p.DelayMs(4, b));
    dc.push_back(p.DelayMs(4, c));
  }
  CHECK(da == db);
  CHECK(da != dc);
  CHECK(*std::min_element(da.begin(), da.end()) >= 0);
  CHECK(*std::max_element(da.begin(), da.end()) <= 8000);
  // Uniform: both the bottom and top tenth of the range are hit, the mean is near the middle.
  CHECK(std::count_if(da.begin(), da.end(), [](int64_t d) { return d < 800; }) > 100);
  CHECK(std::count_if(da.begin(), da.end(), [](int64_t d) { return d > 7200; }) > 100);
  double mean = 0;
  for (int64_t d : da) mean += static_cast<double>(d) / da.size();
  CHECK(mean > 3600);
  CHECK(mean < 4400);
}

TEST_CASE("the RNG's sequence is fixed for a seed on every platform") {
  Rng r(0);
  CHECK(r.Next() == 0xE220A8397B1DCDAFull);  // SplitMix64's published first output for seed 0
}

TEST_CASE("Retry-After takes delay-seconds and HTTP dates, and nothing else") {
  const int64_t now = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(ParseRetryAfterMs("120", now) == 120'000);
  CHECK(ParseRetryAfterMs(" 0 ", now) == 0);
  CHECK(ParseRetryAfterMs("Sun, 06 Nov 1994 08:50:07 GMT", now) == 30'000);
  CHECK(ParseRetryAfterMs("Sun, 06 Nov 1994 08:49:07 GMT", now) == 0);  // in the past
  CHECK(ParseRetryAfterMs("99999999999999", now) == kMaxRetryAfterMs);
  CHECK(ParseRetryAfterMs("999999", now) == kMaxRetryAfterMs);
  CHECK_FALSE(ParseRetryAfterMs("", now).has_value());
  CHECK_FALSE(ParseRetryAfterMs("-5", now).has_value());
  CHECK_FALSE(ParseRetryAfterMs("1.5", now).has_value());
  CHECK_FALSE(ParseRetryAfterMs("soon", now).has_value());
  CHECK_FALSE(ParseRetryAfterMs("Sun, 06 Foo 1994 08:50:07 GMT", now).has_value());
}

}  // namespace
}  // namespace cairn::sync
