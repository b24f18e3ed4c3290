#include "core/base/clock.h"

#include <chrono>

namespace cairn {

SystemClock& SystemClock::Default() {
  static SystemClock* clock = new SystemClock();
  return *clock;
}

int64_t SystemClock::NowUnixMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SystemClock::MonotonicNanos() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace cairn
