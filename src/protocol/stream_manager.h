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

class StreamManager {
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

  void Release(const std::string& ns, const std::string& token_id);

  const StreamLimits limits_;
  const Clock& clock_;
  std::mutex mutex_;
  size_t open_ = 0;                                                  // GUARDED_BY(mutex_)
  std::unordered_map<std::string, size_t> open_per_ns_;              // GUARDED_BY(mutex_)
  std::unordered_map<std::string, size_t> open_per_token_;           // GUARDED_BY(mutex_)
  std::unordered_map<std::string, std::unique_ptr<Stream>> parked_;  // GUARDED_BY(mutex_)
  std::unordered_map<uint64_t, std::unique_ptr<Stream>> held_;       // GUARDED_BY(mutex_)
  uint64_t next_held_key_ = 1;                                       // GUARDED_BY(mutex_)
  bool stopping_ = false;                                            // GUARDED_BY(mutex_)
  std::condition_variable wake_;
  std::thread expiry_thread_;
};

}  // namespace quarry::protocol
