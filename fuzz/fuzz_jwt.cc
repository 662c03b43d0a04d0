// Fuzz target: bearer tokens from the network (auth::KeyPair::Verify against a fixed key
// generated at start-up) and token payloads (auth::ParseClaims).
//
// The input is used three ways:
//   1. as a whole token: Verify must refuse anything this key did not sign, with
//      kUnauthorized (a forged signature can not be found by mutation);
//   2. as a payload: ParseClaims, and when it succeeds SerializeClaims/ParseClaims must give
//      back the same claims;
//   3. as a payload signed with the key (SignPayload), so the checks behind the signature run:
//      Verify must then agree with ParseClaims and the time checks.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/key_pair.h"
#include "auth/token.h"
#include "fuzz_check.h"

namespace {
using namespace quarry;
using namespace quarry::auth;

constexpr int64_t kNow = 1'700'000'000;

const KeyPair& Key() {
  static const KeyPair* key = [] {
    auto generated = KeyPair::Generate();
    FUZZ_CHECK(generated.ok());
    return new KeyPair(std::move(generated).value());
  }();
  return *key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const KeyPair& key = Key();

  auto verified = key.Verify(input, kNow);
  FUZZ_CHECK(!verified.ok());
  FUZZ_CHECK(verified.status().code() == ErrorCode::kUnauthorized);

  auto claims = ParseClaims(input);
  if (!claims.ok()) {
    FUZZ_CHECK(claims.status().code() == ErrorCode::kUnauthorized);
  } else {
    auto again = ParseClaims(SerializeClaims(*claims));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == *claims);
  }

  // Signing costs a few microseconds; only payloads that look like JSON objects are worth it.
  if (!input.empty() && input.front() == '{' && input.size() <= KeyPair::kMaxTokenBytes / 2) {
    std::string token = key.SignPayload(input);
    auto signed_result = key.Verify(token, kNow);
    if (claims.ok() && !claims->ExpiredAt(kNow) && !claims->NotYetValidAt(kNow)) {
      FUZZ_CHECK(signed_result.ok());
      FUZZ_CHECK(*signed_result == *claims);
    } else {
      FUZZ_CHECK(!signed_result.ok());
      FUZZ_CHECK(signed_result.status().code() == ErrorCode::kUnauthorized);
    }
    // One flipped signature bit must break it.
    char& first = token[token.rfind('.') + 1];
    first = first == 'A' ? 'B' : 'A';
    FUZZ_CHECK(!key.Verify(token, kNow).ok());
  }
  return 0;
}
