#pragma once

// StreamManager: the batons. A baton is an opaque, unguessable, single-use handle to a parked
// stream: each response carries a fresh one and the one it answered is dead. Streams idle
// past the limit are closed (rolling back their transaction), and a parked stream holding the
// write lock past the transaction limit is rolled back, so one client cannot freeze a
// database. Thread-safe; a background thread does the expiry.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/status.h"
#include "protocol/stream.h"

namespace quarry::protocol {

class StreamManager {
 public:
  explicit StreamManager(StreamLimits limits);
  ~StreamManager();
  StreamManager(const StreamManager&) = delete;
  StreamManager& operator=(const StreamManager&) = delete;

  const StreamLimits& limits() const { return limits_; }

  // Takes the stream parked under `baton`, which is consumed. kStreamExpired when the baton
  // is unknown, already used, expired, or belongs to another owner.
  Result<std::unique_ptr<Stream>> Take(const std::string& baton, const StreamOwner& owner);
  // Parks a stream and returns its new baton.
  std::string Park(std::unique_ptr<Stream> stream);

  size_t parked_count();
  // Runs one expiry pass (also run every 100 ms by the background thread).
  void ExpireNow();

 private:
  void ExpiryLoop();

  const StreamLimits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Stream>> parked_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                                            // GUARDED_BY(mutex_)
  std::condition_variable wake_;
  std::thread expiry_thread_;
};

}  // namespace quarry::protocol
