#include "auth/token.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace quarry::auth {
namespace {

TEST(AccessTest, NamesRoundTrip) {
  for (Access access : {Access::kReadOnly, Access::kReadWrite, Access::kAdmin}) {
    EXPECT_EQ(ParseAccess(AccessName(access)), access);
  }
  EXPECT_EQ(AccessName(Access::kReadOnly), "ro");
  EXPECT_EQ(AccessName(Access::kReadWrite), "rw");
  EXPECT_EQ(AccessName(Access::kAdmin), "admin");
}

TEST(AccessTest, AcceptsAliasesAndRefusesTheRest) {
  EXPECT_EQ(ParseAccess("read-only"), Access::kReadOnly);
  EXPECT_EQ(ParseAccess("read-write"), Access::kReadWrite);
  EXPECT_EQ(ParseAccess("full-access"), Access::kReadWrite);
  EXPECT_EQ(ParseAccess(""), std::nullopt);
  EXPECT_EQ(ParseAccess("RW"), std::nullopt);
  EXPECT_EQ(ParseAccess("root"), std::nullopt);
}

TEST(ClaimsTest, CoversListedNamespacesOnly) {
  Claims claims;
  claims.namespaces = {"shop", "blog"};
  EXPECT_TRUE(claims.Covers("shop"));
  EXPECT_TRUE(claims.Covers("blog"));
  EXPECT_FALSE(claims.Covers("shop2"));
  EXPECT_FALSE(claims.Covers("Shop"));
  EXPECT_FALSE(claims.Covers(""));
}

TEST(ClaimsTest, WildcardCoversEverything) {
  Claims claims;
  claims.all_namespaces = true;
  EXPECT_TRUE(claims.Covers("anything"));
  EXPECT_TRUE(claims.Covers("shop"));
}

TEST(ClaimsTest, NoNamespacesCoversNothing) {
  Claims claims;
  EXPECT_FALSE(claims.Covers("shop"));
}

TEST(ClaimsTest, AccessLevels) {
  Claims claims;
  EXPECT_FALSE(claims.CanWrite());
  EXPECT_FALSE(claims.IsAdmin());
  claims.access = Access::kReadWrite;
  EXPECT_TRUE(claims.CanWrite());
  EXPECT_FALSE(claims.IsAdmin());
  claims.access = Access::kAdmin;
  EXPECT_TRUE(claims.CanWrite());
  EXPECT_TRUE(claims.IsAdmin());
}

TEST(ClaimsTest, ExpiryIsExclusive) {
  Claims claims;
  EXPECT_FALSE(claims.ExpiredAt(1'000'000));
  claims.expires_at = 100;
  EXPECT_FALSE(claims.ExpiredAt(99));
  EXPECT_TRUE(claims.ExpiredAt(100));
  EXPECT_TRUE(claims.ExpiredAt(101));
}

TEST(ClaimsJsonTest, SerializesInDocumentedOrder) {
  Claims claims;
  claims.access = Access::kReadWrite;
  claims.namespaces = {"shop"};
  claims.expires_at = 123;
  claims.issued_at = 100;
  claims.subject = "ci";
  EXPECT_EQ(SerializeClaims(claims), R"({"a":"rw","ns":["shop"],"exp":123,"iat":100,"sub":"ci"})");

  Claims wildcard;
  wildcard.access = Access::kAdmin;
  wildcard.all_namespaces = true;
  EXPECT_EQ(SerializeClaims(wildcard), R"({"a":"admin","ns":"*","iat":0})");
}

TEST(ClaimsJsonTest, RoundTrips) {
  Claims claims;
  claims.access = Access::kReadOnly;
  claims.namespaces = {"a", "b-c", "ünï"};
  claims.expires_at = 1'900'000'000;
  claims.not_before = 1'700'000'000;
  claims.issued_at = 1'700'000'001;
  claims.subject = "user \"42\"";
  Result<Claims> parsed = ParseClaims(SerializeClaims(claims));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, claims);
}

TEST(ClaimsJsonTest, IgnoresUnknownMembersAndAcceptsFractionalDates) {
  Result<Claims> parsed =
      ParseClaims(R"({"a":"full-access","p":{"rw":{"ns":["x"]}},"exp":150.9,"id":"abc"})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->access, Access::kReadWrite);
  EXPECT_EQ(parsed->expires_at, 150);
  EXPECT_TRUE(parsed->namespaces.empty());
  EXPECT_FALSE(parsed->all_namespaces);
}

TEST(ClaimsJsonTest, RefusesMalformedPayloads) {
  const char* bad[] = {
      "",
      "not json",
      "[1,2]",
      R"("a")",
      R"({})",
      R"({"a":null})",
      R"({"a":1})",
      R"({"a":"superuser"})",
      R"({"a":"ro","ns":"shop"})",
      R"({"a":"ro","ns":[1]})",
      R"({"a":"ro","ns":[""]})",
      R"({"a":"ro","ns":{"shop":true}})",
      R"({"a":"ro","exp":"tomorrow"})",
      R"({"a":"ro","exp":null})",
      R"({"a":"ro","exp":1e300})",
      R"({"a":"ro","exp":18446744073709551615})",
      R"({"a":"ro","iat":true})",
      R"({"a":"ro","nbf":[]})",
      R"({"a":"ro","sub":7})",
  };
  for (const char* payload : bad) {
    Result<Claims> parsed = ParseClaims(payload);
    ASSERT_FALSE(parsed.ok()) << payload;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kUnauthorized) << payload;
  }
}

TEST(ClaimsJsonTest, UserTokensCarryTheirObjectAndGrantNoServiceAccess) {
  Claims claims;
  claims.namespaces = {"shop"};
  claims.user = boost::json::parse(R"({"id": 1, "accountId": 5, "role": "member"})").as_object();
  claims.issued_at = 100;
  claims.expires_at = 200;
  EXPECT_TRUE(claims.IsUser());
  EXPECT_FALSE(claims.CanWrite());
  EXPECT_FALSE(claims.IsAdmin());
  EXPECT_EQ(SerializeClaims(claims),
            R"({"a":"user","ns":["shop"],"u":{"id":1,"accountId":5,"role":"member"},)"
            R"("exp":200,"iat":100})");
  Result<Claims> parsed = ParseClaims(SerializeClaims(claims));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, claims);
  EXPECT_TRUE(parsed->Covers("shop"));
  EXPECT_FALSE(parsed->Covers("blog"));

  // Whatever "access" a user token's claims hold, it is no service access.
  claims.access = Access::kAdmin;
  EXPECT_FALSE(claims.IsAdmin());
  EXPECT_FALSE(claims.CanWrite());
  EXPECT_EQ(ParseClaims(SerializeClaims(claims))->access, Access::kReadOnly);
}

TEST(ClaimsJsonTest, ServiceTokensHaveNoUser) {
  Result<Claims> parsed = ParseClaims(R"({"a":"rw","ns":"*"})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->IsUser());
  EXPECT_EQ(SerializeClaims(*parsed).find("\"u\""), std::string::npos);
}

TEST(ClaimsJsonTest, RefusesMalformedUserTokens) {
  const char* bad[] = {
      R"({"a":"user","ns":"*"})",   R"({"a":"user","u":null})",
      R"({"a":"user","u":[1]})",    R"({"a":"user","u":"id=1"})",
      R"({"a":"rw","u":{"id":1}})", R"({"a":"admin","ns":"*","u":{}})",
  };
  for (const char* payload : bad) {
    Result<Claims> parsed = ParseClaims(payload);
    ASSERT_FALSE(parsed.ok()) << payload;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kUnauthorized) << payload;
    EXPECT_NE(parsed.status().message().find("\"u\""), std::string::npos)
        << parsed.status().message();
  }
}

TEST(ClaimsJsonTest, ErrorNamesTheClaim) {
  Result<Claims> missing = ParseClaims(R"({"ns":"*"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("\"a\""), std::string::npos)
      << missing.status().message();

  Result<Claims> unknown = ParseClaims(R"({"a":"superuser"})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("superuser"), std::string::npos)
      << unknown.status().message();
}

}  // namespace
}  // namespace quarry::auth
