// Monotonic time for latency measurement; never wall-clock time (which can jump).
#ifndef DSINFER_BASE_CLOCK_H_
#define DSINFER_BASE_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace dsinfer {

using MonotonicClock = std::chrono::steady_clock;

inline int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             MonotonicClock::now().time_since_epoch())
      .count();
}

// Measures elapsed time since construction or the last Restart().
class Stopwatch {
 public:
  Stopwatch() : start_(MonotonicClock::now()) {}
  void Restart() { start_ = MonotonicClock::now(); }
  double ElapsedSeconds() const {
    return std::chrono::duration<double>(MonotonicClock::now() - start_).count();
  }
  int64_t ElapsedNanos() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(MonotonicClock::now() - start_)
        .count();
  }

 private:
  MonotonicClock::time_point start_;
};

}  // namespace dsinfer

#endif  // DSINFER_BASE_CLOCK_H_
