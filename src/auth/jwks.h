#pragma once

// Jwks: the public keys of a JSON Web Key Set (RFC 7517), as an identity provider publishes
// them (https://idp.example.com/.well-known/jwks.json), ready to verify tokens with.
//
//   {"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "n": "...", "e": "AQAB"},
//             {"kty": "EC", "kid": "k2", "crv": "P-256", "x": "...", "y": "..."},
//             {"kty": "OKP", "kid": "k3", "crv": "Ed25519", "x": "..."}]}
//
// Usable keys: RSA of at least 2048 bits (RS256), EC on P-256 (ES256), OKP Ed25519 (EdDSA).
// Members n, e, x, y are base64url; "alg", when given, must be the key's algorithm. A key that
// cannot verify tokens here (another type or curve, "use" other than "sig", "key_ops" without
// "verify", an unsupported "alg", a malformed member, a kid already seen) is skipped, not an
// error: providers publish encryption keys and several algorithms side by side. skipped() says
// why each was left out. Private members ("d", ...) are ignored: only public keys are read.
//
// A Jwks is immutable once parsed and safe to share between threads; it owns its OpenSSL keys.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.h"
#include "common/status.h"

namespace quarry::auth {

// One usable key of a set.
struct Jwk {
  struct PkeyDeleter {
    void operator()(evp_pkey_st* key) const;
  };
  std::string kid;  // may be empty
  JwtAlgorithm alg = JwtAlgorithm::kRS256;
  std::unique_ptr<evp_pkey_st, PkeyDeleter> key;
};

class Jwks {
 public:
  // Parses a JWKS document. kInvalidArgument when it is not a JSON object with a "keys" array,
  // or when no key in it is usable (the message lists why each was skipped).
  static Result<Jwks> Parse(std::string_view json);

  // The key with id `kid`; nullptr when there is none.
  const Jwk* Find(std::string_view kid) const;
  // The keys of `alg`, in document order.
  std::vector<const Jwk*> ForAlgorithm(JwtAlgorithm alg) const;
  size_t size() const { return keys_.size(); }
  // "keys[2] (kid \"enc1\"): \"use\" is \"enc\", not \"sig\"", one per skipped key.
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  std::vector<Jwk> keys_;
  std::vector<std::string> skipped_;
};

}  // namespace quarry::auth
