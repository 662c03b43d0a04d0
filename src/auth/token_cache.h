#pragma once

// TokenCache: the one verifier of bearer tokens, remembering tokens whose signature already
// verified, so a client sending the same token on every request pays for one signature
// verification, not one per request. Time-based claims (exp, nbf) are still checked on every
// use. Bounded; thread-safe.
//
// A token goes to one of two verifiers:
//   - with an external issuer configured, a token whose payload "iss" is that issuer's goes to
//     it (ExternalIssuer::Verify: a user token); a token with any other "iss" is refused, naming
//     it (Quarry's own tokens carry no "iss");
//   - every other token is one of Quarry's own (KeyPair::Verify: a service or a user token).
// A cached token stays accepted until it expires even if its key leaves the issuer's key set.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/external_issuer.h"
#include "auth/key_pair.h"
#include "auth/token.h"
#include "common/status.h"

namespace quarry::auth {

class TokenCache {
 public:
  // `key` must outlive the cache.
  explicit TokenCache(const KeyPair& key, size_t capacity = 10000)
      : TokenCache(key, nullptr, capacity) {}
  // `key` and `external` (null: none) must outlive the cache.
  TokenCache(const KeyPair& key, ExternalIssuer* external, size_t capacity = 10000)
      : key_(key), external_(external), capacity_(capacity) {}

  // The claims of `jwt` at `now_unix`, from whichever verifier it belongs to (see above), with
  // that verifier's contract: kUnauthorized naming the failed check.
  Result<Claims> Verify(std::string_view jwt, int64_t now_unix);
  // The same when `jwt` was verified before; nullopt when it would have to be verified now
  // (which may block on fetching an issuer's keys).
  std::optional<Result<Claims>> VerifyCached(std::string_view jwt, int64_t now_unix);

 private:
  Result<Claims> VerifyUncached(std::string_view jwt, int64_t now_unix);

  const KeyPair& key_;
  ExternalIssuer* const external_;
  const size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Claims> verified_;  // GUARDED_BY(mutex_)
};

}  // namespace quarry::auth
