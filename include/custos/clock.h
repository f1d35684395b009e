// Time source. Everything that schedules or stamps goes through a Clock so tests run on a
// FakeClock. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace custos {

class Clock {
 public:
  virtual ~Clock() = default;
  // UTC wall-clock time in milliseconds since the Unix epoch.
  virtual int64_t WallMs() const = 0;
  // Monotonic time in milliseconds, for timeouts and scheduling.
  virtual int64_t MonotonicMs() const = 0;

  // The process-wide real clock.
  static Clock* Real();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t wall_ms = 1'700'000'000'000, int64_t mono_ms = 0)
      : wall_ms_(wall_ms), mono_ms_(mono_ms) {}
  int64_t WallMs() const override { return wall_ms_.load(); }
  int64_t MonotonicMs() const override { return mono_ms_.load(); }
  void AdvanceMs(int64_t ms) {
    wall_ms_ += ms;
    mono_ms_ += ms;
  }

 private:
  std::atomic<int64_t> wall_ms_;
  std::atomic<int64_t> mono_ms_;
};

}  // namespace custos
