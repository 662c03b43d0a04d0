#include "auth/token_cache.h"

namespace quarry::auth {

std::optional<Result<Claims>> TokenCache::VerifyCached(std::string_view jwt, int64_t now_unix) {
  std::lock_guard lock(mutex_);
  auto it = verified_.find(std::string(jwt));
  if (it == verified_.end()) {
    return std::nullopt;
  }
  const Claims& claims = it->second;
  if (claims.ExpiredAt(now_unix)) {
    return Result<Claims>(Status(ErrorCode::kUnauthorized, "token expired"));
  }
  if (claims.NotYetValidAt(now_unix)) {
    return Result<Claims>(Status(ErrorCode::kUnauthorized, "token not yet valid"));
  }
  return Result<Claims>(claims);
}

Result<Claims> TokenCache::Verify(std::string_view jwt, int64_t now_unix) {
  if (std::optional<Result<Claims>> cached = VerifyCached(jwt, now_unix)) {
    return std::move(*cached);
  }
  Result<Claims> claims = VerifyUncached(jwt, now_unix);
  if (claims.ok()) {
    std::lock_guard lock(mutex_);
    if (verified_.size() >= capacity_) {
      verified_.clear();  // crude but bounded; a full cache refills from live traffic
    }
    verified_.emplace(std::string(jwt), *claims);
  }
  return claims;
}

Result<Claims> TokenCache::VerifyUncached(std::string_view jwt, int64_t now_unix) {
  if (external_ != nullptr) {
    if (std::optional<std::string> iss = UnverifiedIssuer(jwt)) {
      if (*iss == external_->issuer()) {
        return external_->Verify(jwt, now_unix);
      }
      return Status(ErrorCode::kUnauthorized,
                    "invalid token: issuer \"" + *iss +
                        "\" is not trusted (this server accepts its own tokens and those of "
                        "issuer \"" +
                        external_->issuer() + "\")");
    }
  }
  return key_.Verify(jwt, now_unix);
}

}  // namespace quarry::auth
