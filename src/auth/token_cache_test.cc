#include "auth/token_cache.h"

#include <gtest/gtest.h>

namespace quarry::auth {
namespace {

TEST(TokenCacheTest, CachedTokensStillExpire) {
  auto key = KeyPair::Generate();
  ASSERT_TRUE(key.ok());
  TokenCache cache(*key);
  Claims claims;
  claims.access = Access::kReadWrite;
  claims.namespaces = {"shop"};
  claims.expires_at = 1000;
  std::string token = key->Sign(claims);
  ASSERT_TRUE(cache.Verify(token, 900).ok());
  ASSERT_TRUE(cache.Verify(token, 950).ok());  // from the cache
  auto expired = cache.Verify(token, 1000);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), ErrorCode::kUnauthorized);
}

TEST(TokenCacheTest, ForgeriesAreNeverCached) {
  auto key = KeyPair::Generate();
  auto other = KeyPair::Generate();
  TokenCache cache(*key);
  Claims claims;
  claims.access = Access::kAdmin;
  claims.all_namespaces = true;
  std::string forged = other->Sign(claims);
  EXPECT_FALSE(cache.Verify(forged, 0).ok());
  EXPECT_FALSE(cache.Verify(forged, 0).ok());
}

TEST(TokenCacheTest, StaysBounded) {
  auto key = KeyPair::Generate();
  TokenCache cache(*key, /*capacity=*/4);
  for (int i = 0; i < 20; ++i) {
    Claims claims;
    claims.subject = "user" + std::to_string(i);
    claims.all_namespaces = true;
    ASSERT_TRUE(cache.Verify(key->Sign(claims), 0).ok());
  }
}

}  // namespace
}  // namespace quarry::auth
