#include "protocol/stream_manager.h"

#include <vector>

#include "common/random.h"

namespace quarry::protocol {

StreamManager::StreamManager(StreamLimits limits, const Clock& clock)
    : limits_(limits), clock_(clock) {
  if (&clock == &Clock::Steady()) {
    expiry_thread_ = std::thread([this] { ExpiryLoop(); });
  }
}

StreamManager::~StreamManager() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (expiry_thread_.joinable()) {
    expiry_thread_.join();
  }
  decltype(parked_) closing;
  decltype(held_) closing_held;
  {
    std::lock_guard lock(mutex_);
    closing.swap(parked_);
    closing_held.swap(held_);
  }
  closing.clear();  // streams free their slots, which takes the lock
  closing_held.clear();
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
  stream->MarkParked(clock_.Now());
  std::string baton = RandomToken();
  std::lock_guard lock(mutex_);
  parked_.emplace(baton, std::move(stream));
  return baton;
}

uint64_t StreamManager::Hold(std::unique_ptr<Stream> stream) {
  stream->MarkParked(clock_.Now());
  std::lock_guard lock(mutex_);
  uint64_t key = next_held_key_++;
  held_.emplace(key, std::move(stream));
  return key;
}

std::unique_ptr<Stream> StreamManager::TakeHeld(uint64_t key) {
  std::lock_guard lock(mutex_);
  auto it = held_.find(key);
  if (it == held_.end()) {
    return nullptr;
  }
  std::unique_ptr<Stream> stream = std::move(it->second);
  held_.erase(it);
  return stream;
}

Result<StreamSlot> StreamManager::Reserve(const StreamOwner& owner) {
  std::lock_guard lock(mutex_);
  size_t& in_ns = open_per_ns_.Take(owner.ns);
  size_t& of_token = open_per_token_.Take(owner.token_id);
  auto full = [&](const std::string& whose, size_t limit, const char* flag) {
    open_per_ns_.Untake(&in_ns);
    open_per_token_.Untake(&of_token);
    return Status(ErrorCode::kTooManyStreams,
                  whose + " has " + std::to_string(limit) + " open streams, its limit (" + flag +
                      "); close streams (or let them expire after " +
                      std::to_string(limits_.idle_timeout.count()) + " ms idle) and retry");
  };
  if (in_ns >= limits_.max_streams_per_namespace) {
    return full("namespace '" + owner.ns + "'", limits_.max_streams_per_namespace,
                "--max-streams-per-namespace");
  }
  if (of_token >= limits_.max_streams_per_token) {
    return full("this token", limits_.max_streams_per_token, "--max-streams-per-token");
  }
  if (open_ >= limits_.max_streams) {
    return full("the server", limits_.max_streams, "--max-streams");
  }
  ++in_ns;
  ++of_token;
  ++open_;
  return StreamSlot(this, &in_ns, &of_token);
}

size_t& StreamManager::Counters::Take(const std::string& key) {
  auto [it, inserted] = open.try_emplace(key, 0);
  if (!inserted && it->second == 0) {
    --idle;
  }
  return it->second;
}

void StreamManager::Counters::Untake(size_t* counter) {
  if (*counter == 0) {
    Idle();
  }
}

void StreamManager::Counters::Drop(size_t* counter) {
  if (--*counter == 0) {
    Idle();
  }
}

void StreamManager::Counters::Idle() {
  // Counters stay put while a slot may point at them: only zeros are swept.
  if (++idle > kMaxIdleCounters) {
    std::erase_if(open, [](const auto& entry) { return entry.second == 0; });
    idle = 0;
  }
}

void StreamManager::ReleaseSlot(size_t* in_namespace, size_t* of_token) {
  std::lock_guard lock(mutex_);
  --open_;
  open_per_ns_.Drop(in_namespace);
  open_per_token_.Drop(of_token);
}

size_t StreamManager::open_count() {
  std::lock_guard lock(mutex_);
  return open_;
}

size_t StreamManager::parked_count() {
  std::lock_guard lock(mutex_);
  return parked_.size();
}

void StreamManager::ExpireNow() {
  auto now = clock_.Now();
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
    for (auto& [key, stream] : held_) {
      stream->ExpireTransactionIfDue(now);
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
