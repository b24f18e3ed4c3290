// Clock: the one way Cairn code reads time, so tests and simulations control it.
//
// Wall time (NowUnixMillis) is for timestamps users see and the server stores; monotonic time
// (MonotonicNanos) is for timeouts, backoff and latency. Implementations are thread-safe.
#ifndef CAIRN_CORE_BASE_CLOCK_H_
#define CAIRN_CORE_BASE_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowUnixMillis() const = 0;
  virtual int64_t MonotonicNanos() const = 0;
};

// The host's clocks (std::chrono::system_clock / steady_clock).
class SystemClock final : public Clock {
 public:
  // A process-wide instance; never destroyed.
  static SystemClock& Default();
  int64_t NowUnixMillis() const override;
  int64_t MonotonicNanos() const override;
};

// A clock that moves only when told. Both readings advance together; SetUnixMillis moves
// wall time alone (as a user changing the device clock would), never the monotonic one.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_millis = 0) : unix_base_millis_(unix_millis) {}
  int64_t NowUnixMillis() const override {
    return unix_base_millis_.load() + mono_nanos_.load() / 1'000'000;
  }
  int64_t MonotonicNanos() const override { return mono_nanos_.load(); }

  void AdvanceNanos(int64_t ns) { mono_nanos_ += ns; }
  void AdvanceMillis(int64_t ms) { AdvanceNanos(ms * 1'000'000); }
  void SetUnixMillis(int64_t ms) { unix_base_millis_ = ms - mono_nanos_.load() / 1'000'000; }

 private:
  std::atomic<int64_t> unix_base_millis_;
  std::atomic<int64_t> mono_nanos_{0};
};

}  // namespace cairn

#endif  // CAIRN_CORE_BASE_CLOCK_H_
