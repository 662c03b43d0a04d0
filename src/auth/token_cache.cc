#include "auth/token_cache.h"

namespace quarry::auth {

Result<Claims> TokenCache::Verify(std::string_view jwt, int64_t now_unix) {
  {
    std::lock_guard lock(mutex_);
    auto it = verified_.find(std::string(jwt));
    if (it != verified_.end()) {
      const Claims& claims = it->second;
      if (claims.ExpiredAt(now_unix)) {
        return Status(ErrorCode::kUnauthorized, "token expired");
      }
      if (claims.NotYetValidAt(now_unix)) {
        return Status(ErrorCode::kUnauthorized, "token not yet valid");
      }
      return claims;
    }
  }
  Result<Claims> claims = key_.Verify(jwt, now_unix);
  if (claims.ok()) {
    std::lock_guard lock(mutex_);
    if (verified_.size() >= capacity_) {
      verified_.clear();  // crude but bounded; a full cache refills from live traffic
    }
    verified_.emplace(std::string(jwt), *claims);
  }
  return claims;
}

}  // namespace quarry::auth
