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

  // The process's steady clock (std::chrono::steady_clock).
  static const Clock& Steady();
};

// A clock that moves only when told to: for tests.
class ManualClock : public Clock {
 public:
  time_point Now() const override {
    return time_point(std::chrono::steady_clock::duration(now_.load()));
  }
  void Advance(std::chrono::steady_clock::duration by) { now_ += by.count(); }

 private:
  std::atomic<std::chrono::steady_clock::duration::rep> now_{
      std::chrono::steady_clock::duration(std::chrono::hours(1)).count()};
};

}  // namespace quarry
