#pragma once

// TokenCache: remembers tokens whose signature already verified, so a client sending the same
// token on every request pays for one Ed25519 verification, not one per request. Time-based
// claims (exp, nbf) are still checked on every use. Bounded; thread-safe.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/key_pair.h"
#include "auth/token.h"
#include "common/status.h"

namespace quarry::auth {

class TokenCache {
 public:
  explicit TokenCache(const KeyPair& key, size_t capacity = 10000)
      : key_(key), capacity_(capacity) {}

  // Same contract as KeyPair::Verify.
  Result<Claims> Verify(std::string_view jwt, int64_t now_unix);

 private:
  const KeyPair& key_;
  const size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Claims> verified_;  // GUARDED_BY(mutex_)
};

}  // namespace quarry::auth
