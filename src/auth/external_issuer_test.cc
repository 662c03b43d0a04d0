#include "auth/external_issuer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/jwt_test_util.h"
#include "auth/token_cache.h"

namespace quarry::auth {
namespace {

using testing::GenerateTestKey;
using testing::JwksJson;
using testing::SignJwt;
using testing::SignJwtWithHeader;
using testing::TestKey;

constexpr int64_t kNow = 1'700'000'000;
constexpr const char* kIssuer = "https://idp.example.com/";
constexpr const char* kAudience = "quarry-app";

// An identity provider with one key of each algorithm, and an issuer that trusts it through a
// fetcher the test controls.
class ExternalIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    published_ = JwksJson({&rsa_, &ec_, &ed_});
    issuer_ = MakeIssuer();
    ASSERT_NE(issuer_, nullptr);
  }

  std::unique_ptr<ExternalIssuer> MakeIssuer(std::string namespaces_claim = "ns") {
    ExternalIssuerOptions options;
    options.issuer = kIssuer;
    options.audience = kAudience;
    options.namespaces_claim = std::move(namespaces_claim);
    options.source = "test.jwks";
    options.min_refresh_seconds = 30;
    auto created = ExternalIssuer::Create(options, [this]() -> Result<std::string> {
      ++fetches_;
      if (!fetch_error_.empty()) {
        return Status(ErrorCode::kUnavailable, fetch_error_);
      }
      return published_;
    });
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? std::move(*created) : nullptr;
  }

  // Standard claims of a valid token; tests change what they check.
  static boost::json::object Claims() {
    return boost::json::object{{"iss", kIssuer},   {"aud", kAudience},
                               {"sub", "user-42"}, {"exp", kNow + 600},
                               {"iat", kNow - 10}, {"ns", boost::json::array{"shop"}},
                               {"id", 42},         {"role", "member"}};
  }

  void ExpectRefused(const std::string& jwt, std::string_view message_part) {
    Result<auth::Claims> claims = issuer_->Verify(jwt, kNow);
    ASSERT_FALSE(claims.ok()) << "accepted; expected a refusal naming " << message_part;
    EXPECT_EQ(claims.status().code(), ErrorCode::kUnauthorized) << claims.status().message();
    EXPECT_NE(claims.status().message().find(message_part), std::string::npos)
        << "message \"" << claims.status().message() << "\" lacks \"" << message_part << "\"";
  }

  TestKey rsa_ = GenerateTestKey(JwtAlgorithm::kRS256, "rsa-1");
  TestKey ec_ = GenerateTestKey(JwtAlgorithm::kES256, "ec-1");
  TestKey ed_ = GenerateTestKey(JwtAlgorithm::kEdDSA, "ed-1");
  std::string published_;
  std::string fetch_error_;
  int fetches_ = 0;
  std::unique_ptr<ExternalIssuer> issuer_;
};

TEST_F(ExternalIssuerTest, AcceptsEachAlgorithmAsAUserToken) {
  for (const TestKey* key : {&rsa_, &ec_, &ed_}) {
    Result<auth::Claims> claims = issuer_->Verify(SignJwt(*key, Claims()), kNow);
    ASSERT_TRUE(claims.ok()) << JwtAlgorithmName(key->alg) << ": " << claims.status().message();
    EXPECT_TRUE(claims->IsUser());
    EXPECT_FALSE(claims->CanWrite());
    EXPECT_FALSE(claims->IsAdmin());
    EXPECT_EQ(*claims->user, Claims());  // auth() is the whole claim set
    EXPECT_EQ(claims->subject, "user-42");
    EXPECT_EQ(claims->expires_at, kNow + 600);
    EXPECT_EQ(claims->issued_at, kNow - 10);
    EXPECT_TRUE(claims->Covers("shop"));
    EXPECT_FALSE(claims->Covers("blog"));
  }
  EXPECT_EQ(fetches_, 1);
}

TEST_F(ExternalIssuerTest, AudienceMayBeAnArray) {
  boost::json::object claims = Claims();
  claims["aud"] = boost::json::array{"other", kAudience};
  EXPECT_TRUE(issuer_->Verify(SignJwt(rsa_, claims), kNow).ok());
  claims["aud"] = boost::json::array{"other"};
  ExpectRefused(SignJwt(rsa_, claims), "audience [\"other\"] does not include \"quarry-app\"");
}

TEST_F(ExternalIssuerTest, RefusesWrongIssuerOrAudience) {
  boost::json::object claims = Claims();
  claims["iss"] = "https://evil.example.com/";
  ExpectRefused(SignJwt(rsa_, claims), "is not the trusted issuer");
  claims.erase("iss");
  ExpectRefused(SignJwt(rsa_, claims), "issuer (none)");
  claims = Claims();
  claims["aud"] = "someone-else";
  ExpectRefused(SignJwt(ec_, claims), "audience \"someone-else\"");
  claims.erase("aud");
  ExpectRefused(SignJwt(ec_, claims), "audience (none)");
}

TEST_F(ExternalIssuerTest, RefusesExpiredNotYetValidAndEndlessTokens) {
  boost::json::object claims = Claims();
  claims["exp"] = kNow;
  ExpectRefused(SignJwt(ed_, claims), "token expired");
  claims["exp"] = kNow + 600;
  claims["nbf"] = kNow + 1;
  ExpectRefused(SignJwt(ed_, claims), "not yet valid");
  claims["nbf"] = kNow;
  EXPECT_TRUE(issuer_->Verify(SignJwt(ed_, claims), kNow).ok());
  claims.erase("exp");
  ExpectRefused(SignJwt(ed_, claims), "\"exp\" is missing");
  claims["exp"] = "tomorrow";
  ExpectRefused(SignJwt(ed_, claims), "\"exp\"");
}

TEST_F(ExternalIssuerTest, RefusesBadSignatures) {
  std::string jwt = SignJwt(rsa_, Claims());
  char& flipped = jwt[jwt.rfind('.') + 1];  // the last character may hold only padding bits
  flipped = flipped == 'A' ? 'B' : 'A';
  ExpectRefused(jwt, "signature does not match");

  // Signed by a key the provider does not publish, under a published kid.
  TestKey impostor = GenerateTestKey(JwtAlgorithm::kES256, "ec-1");
  ExpectRefused(SignJwt(impostor, Claims()), "signature does not match");

  // The payload changed after signing.
  std::string signed_jwt = SignJwt(ed_, Claims());
  boost::json::object admin = Claims();
  admin["role"] = "admin";
  std::string forged_payload = Base64UrlEncode(boost::json::serialize(admin));
  size_t first = signed_jwt.find('.');
  size_t second = signed_jwt.find('.', first + 1);
  ExpectRefused(signed_jwt.substr(0, first + 1) + forged_payload + signed_jwt.substr(second),
                "signature does not match");
}

TEST_F(ExternalIssuerTest, RefusesAlgorithmsThatDoNotFitTheKey) {
  // An EdDSA header on the RSA key's kid, and the other way round.
  ExpectRefused(SignJwtWithHeader(ed_, {{"alg", "EdDSA"}, {"kid", "rsa-1"}}, Claims()),
                "the token says EdDSA but key \"rsa-1\" is a RS256 key");
  ExpectRefused(SignJwtWithHeader(rsa_, {{"alg", "ES256"}, {"kid", "ec-1"}}, Claims()),
                "signature is not 64 bytes");
  for (const char* alg : {"none", "HS256", "RS512", "PS256", "ES384"}) {
    ExpectRefused(SignJwtWithHeader(rsa_, {{"alg", alg}, {"kid", "rsa-1"}}, Claims()),
                  "\"" + std::string(alg) + "\" is not accepted");
  }
  ExpectRefused(
      SignJwtWithHeader(rsa_, {{"alg", "RS256"}, {"kid", "rsa-1"}, {"crit", {"exp"}}}, Claims()),
      "crit");
}

TEST_F(ExternalIssuerTest, TokenWithoutKidNeedsTheOnlyKeyOfItsAlgorithm) {
  EXPECT_TRUE(issuer_->Verify(SignJwtWithHeader(ec_, {{"alg", "ES256"}}, Claims()), kNow).ok());

  TestKey second_ec = GenerateTestKey(JwtAlgorithm::kES256, "ec-2");
  published_ = JwksJson({&ec_, &second_ec});
  issuer_ = MakeIssuer();
  ExpectRefused(SignJwtWithHeader(ec_, {{"alg", "ES256"}}, Claims()), "has 2 ES256 keys");
}

TEST_F(ExternalIssuerTest, UnknownKidRefetchesTheKeySetAtMostOncePerInterval) {
  TestKey rotated = GenerateTestKey(JwtAlgorithm::kRS256, "rsa-2");
  std::string jwt = SignJwt(rotated, Claims());
  ASSERT_EQ(fetches_, 1);

  // Not published yet: one refetch, then refused naming the kid.
  ExpectRefused(jwt, "key id \"rsa-2\" is not in the issuer's key set (test.jwks)");
  EXPECT_EQ(fetches_, 2);
  // The provider rotates; within the interval the set is not fetched again.
  published_ = JwksJson({&rsa_, &rotated});
  EXPECT_FALSE(issuer_->Verify(jwt, kNow + 29).ok());
  EXPECT_EQ(fetches_, 2);
  // Past it, the unknown kid fetches the new set and the token verifies.
  Result<auth::Claims> claims = issuer_->Verify(jwt, kNow + 30);
  EXPECT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(fetches_, 3);
  // Known kids never fetch.
  EXPECT_TRUE(issuer_->Verify(SignJwt(rsa_, Claims()), kNow + 31).ok());
  EXPECT_EQ(fetches_, 3);
  EXPECT_EQ(issuer_->fetch_count(), 3u);
}

TEST_F(ExternalIssuerTest, FailedRefreshKeepsTheKeys) {
  fetch_error_ = "connection refused";
  TestKey unknown = GenerateTestKey(JwtAlgorithm::kEdDSA, "ed-9");
  ExpectRefused(SignJwt(unknown, Claims()), "\"ed-9\"");
  EXPECT_EQ(fetches_, 2);
  EXPECT_TRUE(issuer_->Verify(SignJwt(ed_, Claims()), kNow).ok());

  fetch_error_.clear();
  published_ = R"({"keys": []})";  // an unusable set is not taken either
  EXPECT_FALSE(issuer_->Verify(SignJwt(unknown, Claims()), kNow + 60).ok());
  EXPECT_EQ(fetches_, 3);
  EXPECT_TRUE(issuer_->Verify(SignJwt(ed_, Claims()), kNow + 60).ok());
}

TEST_F(ExternalIssuerTest, NamespacesComeFromTheConfiguredClaim) {
  issuer_ = MakeIssuer("https://quarry/ns");
  boost::json::object claims = Claims();
  claims["https://quarry/ns"] = "*";
  Result<auth::Claims> all = issuer_->Verify(SignJwt(rsa_, claims), kNow);
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_TRUE(all->all_namespaces);
  EXPECT_TRUE(all->Covers("anything"));

  claims.erase("https://quarry/ns");  // "ns" is an ordinary claim here
  Result<auth::Claims> none = issuer_->Verify(SignJwt(rsa_, claims), kNow);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->Covers("shop"));

  claims["https://quarry/ns"] = "shop";
  ExpectRefused(SignJwt(rsa_, claims), "claim \"https://quarry/ns\" must be \"*\" or an array");
}

TEST_F(ExternalIssuerTest, CreateFailsClearly) {
  ExternalIssuerOptions options;
  options.issuer = kIssuer;
  options.audience = kAudience;
  options.source = "http://idp/jwks";
  auto unreachable = ExternalIssuer::Create(
      options, [] { return Result<std::string>(Status(ErrorCode::kUnavailable, "refused")); });
  ASSERT_FALSE(unreachable.ok());
  EXPECT_NE(unreachable.status().message().find("http://idp/jwks: refused"), std::string::npos)
      << unreachable.status().message();
  auto empty = ExternalIssuer::Create(options, [] { return Result<std::string>("{\"keys\":[]}"); });
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no key that can verify"), std::string::npos)
      << empty.status().message();
  options.audience.clear();
  EXPECT_FALSE(ExternalIssuer::Create(options, [] { return Result<std::string>("{}"); }).ok());
}

// The one verifier: Quarry's own tokens and the issuer's side by side.
TEST_F(ExternalIssuerTest, TokenCacheRoutesByIssuer) {
  Result<KeyPair> quarry_key = KeyPair::Generate();
  ASSERT_TRUE(quarry_key.ok());
  TokenCache cache(*quarry_key, issuer_.get());

  auth::Claims service;
  service.access = Access::kAdmin;
  service.all_namespaces = true;
  Result<auth::Claims> own = cache.Verify(quarry_key->Sign(service), kNow);
  ASSERT_TRUE(own.ok()) << own.status().message();
  EXPECT_TRUE(own->IsAdmin());

  std::string external = SignJwt(ec_, Claims());
  Result<auth::Claims> user = cache.Verify(external, kNow);
  ASSERT_TRUE(user.ok()) << user.status().message();
  EXPECT_TRUE(user->IsUser());
  // Cached, and still expiring.
  EXPECT_TRUE(cache.Verify(external, kNow + 599).ok());
  EXPECT_FALSE(cache.Verify(external, kNow + 600).ok());

  boost::json::object foreign = Claims();
  foreign["iss"] = "https://other-idp/";
  Result<auth::Claims> refused = cache.Verify(SignJwt(ec_, foreign), kNow);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("issuer \"https://other-idp/\" is not trusted"),
            std::string::npos)
      << refused.status().message();

  // Quarry's key never verifies an issuer's token, nor the other way round.
  std::string external_alg_on_quarry =
      SignJwtWithHeader(ed_, {{"alg", "EdDSA"}}, boost::json::object{{"a", "admin"}, {"ns", "*"}});
  EXPECT_FALSE(cache.Verify(external_alg_on_quarry, kNow).ok());
}

}  // namespace
}  // namespace quarry::auth
