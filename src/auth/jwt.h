#pragma once

// Compact JWS/JWT (RFC 7515, RFC 7519) structure and signatures, shared by the verifiers of
// Quarry's own tokens (key_pair.h) and of an external issuer's (external_issuer.h).
//
// A compact JWT is base64url(header) "." base64url(payload) "." base64url(signature), each part
// non-empty, base64url with or without '=' padding. A verifier calls, in order: DecodeJwt (the
// shape and the header), its own check of the header's "alg", VerifyJwtSignature (the rest of
// the header and the signature, with a public key), then DecodePayload and its own claim checks.
// Pure functions, thread-safe.

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace quarry::auth {

// The signature algorithms Quarry verifies (RFC 7518 names). Anything else, "none" and the HMAC
// family included, is refused.
enum class JwtAlgorithm {
  kEdDSA,  // Ed25519 (RFC 8037)
  kRS256,  // RSASSA-PKCS1-v1_5 with SHA-256
  kES256,  // ECDSA on P-256 with SHA-256; the signature is r || s, 32 bytes each
};

// "EdDSA", "RS256", "ES256".
std::string_view JwtAlgorithmName(JwtAlgorithm alg);
// The names above, exactly; nullopt for anything else.
std::optional<JwtAlgorithm> ParseJwtAlgorithm(std::string_view name);

// Tokens longer than this are refused without being decoded.
inline constexpr size_t kMaxJwtBytes = 64 * 1024;

// A compact JWT split into its parts and its header decoded, not yet verified.
struct DecodedJwt {
  boost::json::object header;
  std::string alg;             // header "alg", a string (not checked against any list)
  std::string signing_input;   // the first two parts and the dot between, as received
  std::string payload_part;    // still base64url: see DecodePayload
  std::string signature_part;  // still base64url: VerifyJwtSignature decodes it
};

// Splits `jwt` and decodes its header. kUnauthorized with a message starting "invalid token: "
// and naming the check that failed when: the token is empty or longer than kMaxJwtBytes; it does
// not have exactly three non-empty parts; the header is not base64url of a JSON object with a
// string "alg".
Result<DecodedJwt> DecodeJwt(std::string_view jwt);

// The payload of `jwt` as a JSON object. kUnauthorized ("invalid token: payload is not valid
// base64url" / "... not a JSON object") otherwise.
Result<boost::json::object> DecodePayload(const DecodedJwt& jwt);

// Verifies the signature of `jwt` with public key `key` for `alg` (which the caller accepted
// from jwt.alg). Refuses a header with "crit" (no extension is supported), a signature that is
// not base64url, an Ed25519 or ES256 signature that is not 64 bytes, and a key whose type does
// not fit the algorithm (Ed25519 for kEdDSA, RSA for kRS256, EC for kES256). kUnauthorized
// ("invalid token: signature does not match", or naming the check) when it does not verify;
// kInternal when OpenSSL fails for a reason unrelated to the token.
Status VerifyJwtSignature(evp_pkey_st* key, JwtAlgorithm alg, const DecodedJwt& jwt);

// The payload's "iss" of `jwt` when it has the shape of a JWT whose payload is a JSON object
// with a string "iss"; nullopt otherwise. Nothing is verified: this only says which verifier to
// ask.
std::optional<std::string> UnverifiedIssuer(std::string_view jwt);

}  // namespace quarry::auth
