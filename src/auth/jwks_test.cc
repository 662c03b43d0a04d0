#include "auth/jwks.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/jwt_test_util.h"

namespace quarry::auth {
namespace {

using testing::GenerateTestKey;
using testing::JwksJson;
using testing::PublicJwk;
using testing::TestKey;

std::string Set(std::initializer_list<boost::json::value> keys) {
  boost::json::array list(keys.begin(), keys.end());
  boost::json::object document;
  document["keys"] = std::move(list);
  return boost::json::serialize(document);
}

TEST(JwksTest, ReadsRsaEcAndEd25519Keys) {
  TestKey rsa = GenerateTestKey(JwtAlgorithm::kRS256, "r1");
  TestKey ec = GenerateTestKey(JwtAlgorithm::kES256, "e1");
  TestKey ed = GenerateTestKey(JwtAlgorithm::kEdDSA, "o1");
  Result<Jwks> keys = Jwks::Parse(JwksJson({&rsa, &ec, &ed}));
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_EQ(keys->size(), 3u);
  EXPECT_TRUE(keys->skipped().empty());
  ASSERT_NE(keys->Find("r1"), nullptr);
  EXPECT_EQ(keys->Find("r1")->alg, JwtAlgorithm::kRS256);
  EXPECT_EQ(keys->Find("e1")->alg, JwtAlgorithm::kES256);
  EXPECT_EQ(keys->Find("o1")->alg, JwtAlgorithm::kEdDSA);
  EXPECT_EQ(keys->Find("nope"), nullptr);
  EXPECT_EQ(keys->ForAlgorithm(JwtAlgorithm::kES256).size(), 1u);
}

TEST(JwksTest, AlgIsOptionalButMustFitTheKey) {
  TestKey rsa = GenerateTestKey(JwtAlgorithm::kRS256, "r1");
  boost::json::object no_alg = PublicJwk(rsa);
  no_alg.erase("alg");
  no_alg.erase("use");
  Result<Jwks> keys = Jwks::Parse(Set({no_alg}));
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_EQ(keys->Find("r1")->alg, JwtAlgorithm::kRS256);

  boost::json::object ps256 = PublicJwk(rsa);
  ps256["alg"] = "PS256";
  Result<Jwks> refused = Jwks::Parse(Set({ps256}));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("PS256"), std::string::npos)
      << refused.status().message();
}

TEST(JwksTest, SkipsKeysThatCannotVerifyAndSaysWhy) {
  TestKey rsa = GenerateTestKey(JwtAlgorithm::kRS256, "good");
  TestKey ec = GenerateTestKey(JwtAlgorithm::kES256, "");
  boost::json::object enc = PublicJwk(rsa);
  enc["kid"] = "enc1";
  enc["use"] = "enc";
  boost::json::object p384{
      {"kty", "EC"}, {"crv", "P-384"}, {"kid", "p384"}, {"x", "AA"}, {"y", "AA"}};
  boost::json::object oct{{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}};
  boost::json::object bad_point = PublicJwk(ec);
  bad_point["kid"] = "offcurve";
  bad_point["y"] = Base64UrlEncode(std::string(32, '\x01'));
  boost::json::object short_x = PublicJwk(ec);
  short_x["kid"] = "short";
  short_x["x"] = "AAAA";
  boost::json::object sign_only = PublicJwk(rsa);
  sign_only["kid"] = "ops";
  sign_only["key_ops"] = boost::json::array{"sign"};
  boost::json::object duplicate = PublicJwk(rsa);
  TestKey weak_rsa;
  weak_rsa.alg = JwtAlgorithm::kRS256;
  weak_rsa.kid = "weak";
  weak_rsa.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_NE(weak_rsa.key, nullptr);

  Result<Jwks> keys = Jwks::Parse(Set({PublicJwk(rsa), enc, p384, oct, bad_point, short_x,
                                       sign_only, duplicate, PublicJwk(weak_rsa), "text"}));
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_EQ(keys->size(), 1u);
  ASSERT_EQ(keys->skipped().size(), 9u);
  const std::vector<std::string>& why = keys->skipped();
  EXPECT_NE(why[0].find("keys[1] (kid \"enc1\"): \"use\" is \"enc\""), std::string::npos) << why[0];
  EXPECT_NE(why[1].find("P-384"), std::string::npos) << why[1];
  EXPECT_NE(why[2].find("\"oct\""), std::string::npos) << why[2];
  EXPECT_NE(why[3].find("not a point on P-256"), std::string::npos) << why[3];
  EXPECT_NE(why[4].find("32 bytes"), std::string::npos) << why[4];
  EXPECT_NE(why[5].find("key_ops"), std::string::npos) << why[5];
  EXPECT_NE(why[6].find("repeats a kid"), std::string::npos) << why[6];
  EXPECT_NE(why[7].find("1024 bits is too weak"), std::string::npos) << why[7];
  EXPECT_NE(why[8].find("keys[9]: is not a JSON object"), std::string::npos) << why[8];
}

TEST(JwksTest, RefusesDocumentsWithoutUsableKeys) {
  for (const char* text : {"", "[]", "{}", R"({"keys": {}})", R"({"keys": []})",
                           R"({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})"}) {
    Result<Jwks> keys = Jwks::Parse(text);
    ASSERT_FALSE(keys.ok()) << text;
    EXPECT_EQ(keys.status().code(), ErrorCode::kInvalidArgument) << text;
  }
  Result<Jwks> none = Jwks::Parse(R"({"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]})");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("kid \"h\""), std::string::npos)
      << none.status().message();
}

}  // namespace
}  // namespace quarry::auth
