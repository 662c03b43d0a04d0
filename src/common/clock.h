#pragma once

// Clock: the time source of everything that expires or times out (streams, transactions), so
// that tests set the time instead of sleeping. Thread-safe.

#include <atomic>
#include <chrono>

namespace quarry {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point Now() const = 0;
  // Wall-clock time, for what a user sees (now() in the data API, timestamps). The system
  // clock unless a test clock says otherwise.
  virtual std::chrono::system_clock::time_point SystemNow() const {
    return std::chrono::system_clock::now();
  }

  // The process's steady clock (std::chrono::steady_clock).
  static const Clock& Steady();
};

// A clock that moves only when told to: for tests.
class ManualClock : public Clock {
 public:
  time_point Now() const override {
    return time_point(std::chrono::steady_clock::duration(now_.load()));
  }
  // 2024-01-01T00:00:00Z plus however far the clock was advanced.
  std::chrono::system_clock::time_point SystemNow() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1704067200)) +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(
               std::chrono::steady_clock::duration(now_.load()) - std::chrono::hours(1));
  }
  void Advance(std::chrono::steady_clock::duration by) { now_ += by.count(); }

 private:
  std::atomic<std::chrono::steady_clock::duration::rep> now_{
      std::chrono::steady_clock::duration(std::chrono::hours(1)).count()};
};

}  // namespace quarry
