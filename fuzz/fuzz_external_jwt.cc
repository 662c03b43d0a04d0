// Fuzz target: an external issuer's key sets and tokens (auth::Jwks::Parse,
// auth::ExternalIssuer::Verify against fixed RSA, P-256 and Ed25519 keys generated at start-up).
//
// The input is used three ways:
//   1. as a key set: Jwks::Parse either keeps at least one key or refuses with
//      kInvalidArgument;
//   2. as a whole bearer token: Verify must refuse it with kUnauthorized (no signature can be
//      found by mutation);
//   3. as a payload signed with the Ed25519 key: Verify then accepts it exactly when it is a JSON
//      object with the issuer's "iss", its audience and a future "exp" (and an acceptable "nbf"
//      and namespaces claim), and an accepted token's user object is the payload itself.

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/external_issuer.h"
#include "auth/jwt_test_util.h"
#include "fuzz_check.h"

namespace {
using namespace quarry;
using namespace quarry::auth;

constexpr int64_t kNow = 1'700'000'000;

struct Provider {
  testing::TestKey rsa = testing::GenerateTestKey(JwtAlgorithm::kRS256, "rsa");
  testing::TestKey ec = testing::GenerateTestKey(JwtAlgorithm::kES256, "ec");
  testing::TestKey ed = testing::GenerateTestKey(JwtAlgorithm::kEdDSA, "ed");
  std::unique_ptr<ExternalIssuer> issuer;
};

Provider& TheProvider() {
  static Provider* provider = [] {
    auto* made = new Provider();
    std::string jwks = testing::JwksJson({&made->rsa, &made->ec, &made->ed});
    ExternalIssuerOptions options;
    options.issuer = "iss";
    options.audience = "aud";
    options.source = "fuzz";
    options.min_refresh_seconds = int64_t{1} << 40;  // fetch once, then never again
    auto issuer = ExternalIssuer::Create(options, [jwks] { return Result<std::string>(jwks); });
    FUZZ_CHECK(issuer.ok());
    made->issuer = std::move(*issuer);
    return made;
  }();
  return *provider;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Provider& provider = TheProvider();

  Result<Jwks> keys = Jwks::Parse(input);
  FUZZ_CHECK(keys.ok() ? keys->size() > 0 : keys.status().code() == ErrorCode::kInvalidArgument);

  Result<Claims> forged = provider.issuer->Verify(input, kNow);
  FUZZ_CHECK(!forged.ok() && forged.status().code() == ErrorCode::kUnauthorized);

  if (!input.empty() && input.front() == '{' && input.size() <= kMaxJwtBytes / 2) {
    boost::json::object header{{"alg", "EdDSA"}, {"kid", "ed"}};
    std::string token =
        Base64UrlEncode(boost::json::serialize(header)) + "." + Base64UrlEncode(input);
    token += "." + Base64UrlEncode(testing::SignBytes(provider.ed, token));
    Result<Claims> claims = provider.issuer->Verify(token, kNow);
    if (claims.ok()) {
      FUZZ_CHECK(claims->IsUser());
      FUZZ_CHECK(claims->user->at("iss") == "iss");
      FUZZ_CHECK(claims->expires_at.has_value() && *claims->expires_at > kNow);
      boost::system::error_code ec;
      boost::json::value parsed = boost::json::parse(input, ec);
      FUZZ_CHECK(!ec && parsed.is_object() && parsed.get_object() == *claims->user);
    } else {
      FUZZ_CHECK(claims.status().code() == ErrorCode::kUnauthorized);
    }
  }
  return 0;
}
