#include "core/base/clock.h"

#include <catch_amalgamated.hpp>

namespace cairn {
namespace {

TEST_CASE("ManualClock moves only when told, both readings together") {
  ManualClock clock(1'700'000'000'000);
  CHECK(clock.NowUnixMillis() == 1'700'000'000'000);
  CHECK(clock.MonotonicNanos() == 0);
  clock.AdvanceMillis(1500);
  CHECK(clock.NowUnixMillis() == 1'700'000'001'500);
  CHECK(clock.MonotonicNanos() == 1'500'000'000);
  clock.AdvanceNanos(999'999);
  CHECK(clock.NowUnixMillis() == 1'700'000'001'500);
  clock.AdvanceNanos(1);
  CHECK(clock.NowUnixMillis() == 1'700'000'001'501);
}

TEST_CASE("setting the wall clock never moves monotonic time") {
  ManualClock clock(5'000);
  clock.AdvanceMillis(10);
  clock.SetUnixMillis(1'000);  // the user set the device clock back
  CHECK(clock.NowUnixMillis() == 1'000);
  CHECK(clock.MonotonicNanos() == 10'000'000);
  clock.AdvanceMillis(1);
  CHECK(clock.NowUnixMillis() == 1'001);
}

TEST_CASE("SystemClock reads a plausible time and never goes backwards") {
  const Clock& clock = SystemClock::Default();
  CHECK(clock.NowUnixMillis() > 1'600'000'000'000);  // after 2020-09
  int64_t a = clock.MonotonicNanos();
  int64_t b = clock.MonotonicNanos();
  CHECK(b >= a);
}

}  // namespace
}  // namespace cairn
