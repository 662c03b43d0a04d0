#include "protocol/stream_manager.h"

#include <vector>

#include "common/random.h"

namespace quarry::protocol {

StreamManager::StreamManager(StreamLimits limits)
    : limits_(limits), expiry_thread_([this] { ExpiryLoop(); }) {}

StreamManager::~StreamManager() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  expiry_thread_.join();
  std::lock_guard lock(mutex_);
  parked_.clear();
}

Result<std::unique_ptr<Stream>> StreamManager::Take(const std::string& baton,
                                                    const StreamOwner& owner) {
  std::lock_guard lock(mutex_);
  auto it = parked_.find(baton);
  if (it == parked_.end()) {
    return Status(ErrorCode::kStreamExpired,
                  "the baton is invalid: unknown, already used, or its stream expired");
  }
  if (!(it->second->owner() == owner)) {
    return Status(ErrorCode::kStreamExpired,
                  "the baton belongs to a stream of another namespace or access level");
  }
  std::unique_ptr<Stream> stream = std::move(it->second);
  parked_.erase(it);
  return stream;
}

std::string StreamManager::Park(std::unique_ptr<Stream> stream) {
  stream->MarkParked(std::chrono::steady_clock::now());
  std::string baton = RandomToken();
  std::lock_guard lock(mutex_);
  parked_.emplace(baton, std::move(stream));
  return baton;
}

size_t StreamManager::parked_count() {
  std::lock_guard lock(mutex_);
  return parked_.size();
}

void StreamManager::ExpireNow() {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Stream>> expired;
  {
    std::lock_guard lock(mutex_);
    for (auto it = parked_.begin(); it != parked_.end();) {
      Stream& stream = *it->second;
      if (now - stream.parked_at() >= limits_.idle_timeout) {
        expired.push_back(std::move(it->second));
        it = parked_.erase(it);
        continue;
      }
      stream.ExpireTransactionIfDue(now);
      ++it;
    }
  }
  // Closing rolls back; done outside the lock so batons stay usable meanwhile.
  expired.clear();
}

void StreamManager::ExpiryLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(100));
    if (stopping_) {
      break;
    }
    lock.unlock();
    ExpireNow();
    lock.lock();
  }
}

}  // namespace quarry::protocol
