#pragma once

// StreamManager: the batons. A baton is an opaque, unguessable, single-use handle to a parked
// stream: each response carries a fresh one and the one it answered is dead. Streams idle
// past the limit are closed (rolling back their transaction), and a parked stream holding the
// write lock past the transaction limit is rolled back, so one client cannot freeze a
// database. Streams held by a connection (Hold) only have their write lock timed. Thread-safe;
// a background thread does the expiry.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "protocol/stream.h"

namespace quarry::protocol {

class StreamManager final : public StreamSlotOwner {
 public:
  // `clock` times idle streams and write transactions; it must outlive the manager. With a
  // clock other than Clock::Steady() no background thread runs: the caller calls ExpireNow.
  explicit StreamManager(StreamLimits limits, const Clock& clock = Clock::Steady());
  ~StreamManager();
  StreamManager(const StreamManager&) = delete;
  StreamManager& operator=(const StreamManager&) = delete;

  const StreamLimits& limits() const { return limits_; }

  // Takes the stream parked under `baton`, which is consumed. kStreamExpired when the baton
  // is unknown, already used, expired, or belongs to another owner.
  Result<std::unique_ptr<Stream>> Take(const std::string& baton, const StreamOwner& owner);
  // Parks a stream and returns its new baton.
  std::string Park(std::unique_ptr<Stream> stream);

  // Streams a connection keeps between its requests (Hrana over WebSocket): never closed for
  // idling, since the socket's life bounds them, but rolled back like parked streams when they
  // hold the write lock past the transaction limit. Hold returns the key TakeHeld wants; the
  // stream is not reachable by any baton.
  uint64_t Hold(std::unique_ptr<Stream> stream);
  // The held stream of `key`, or nullptr when there is none.
  std::unique_ptr<Stream> TakeHeld(uint64_t key);

  // Claims a place for one more open stream of `owner`, within the limits on all streams, the
  // namespace's and the token's; it is freed when the slot is destroyed (with its stream).
  // kTooManyStreams names the share that is full.
  Result<StreamSlot> Reserve(const StreamOwner& owner);

  size_t parked_count();
  size_t open_count();
  // Runs one expiry pass (also run every 100 ms by the background thread).
  void ExpireNow();

 private:
  void ExpiryLoop();

  void ReleaseSlot(size_t* in_namespace, size_t* of_token) override;

  const StreamLimits limits_;
  const Clock& clock_;
  std::mutex mutex_;
  size_t open_ = 0;  // GUARDED_BY(mutex_)
  // Open streams per namespace and per token. A counter that drops to 0 stays (a slot points
  // at its counters, and the next stream of that namespace or token reuses it) until more than
  // kMaxIdleCounters of a map are 0, when its zeros are swept.
  struct Counters {
    std::unordered_map<std::string, size_t> open;
    size_t idle = 0;                       // entries of `open` that are 0
    size_t& Take(const std::string& key);  // the key's counter, not yet incremented
    void Untake(size_t* counter);          // a counter Take gave that was not incremented
    void Drop(size_t* counter);            // decrements a counter Take gave
    void Idle();                           // one more counter is 0
  };
  Counters open_per_ns_;     // GUARDED_BY(mutex_)
  Counters open_per_token_;  // GUARDED_BY(mutex_)
  static constexpr size_t kMaxIdleCounters = 1024;
  std::unordered_map<std::string, std::unique_ptr<Stream>> parked_;  // GUARDED_BY(mutex_)
  std::unordered_map<uint64_t, std::unique_ptr<Stream>> held_;       // GUARDED_BY(mutex_)
  uint64_t next_held_key_ = 1;                                       // GUARDED_BY(mutex_)
  bool stopping_ = false;                                            // GUARDED_BY(mutex_)
  std::condition_variable wake_;
  std::thread expiry_thread_;
};

}  // namespace quarry::protocol
