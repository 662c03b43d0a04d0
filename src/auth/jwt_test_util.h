#pragma once

// For tests only: an identity provider in a few functions. Generates RSA, EC P-256 and Ed25519
// keys with OpenSSL, publishes them as a JWKS and signs JWTs with them, so that tests of the
// external issuer (unit and integration) sign real tokens. Header-only; link OpenSSL::Crypto.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "common/base64.h"

namespace quarry::auth::testing {

struct TestKeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

// A private key of an identity provider, with the kid it publishes it under.
struct TestKey {
  JwtAlgorithm alg = JwtAlgorithm::kRS256;
  std::string kid;
  std::unique_ptr<EVP_PKEY, TestKeyDeleter> key;
};

// A fresh key: RSA 2048 for kRS256, P-256 for kES256, Ed25519 for kEdDSA. Aborts when OpenSSL
// cannot make one (a broken test environment).
inline TestKey GenerateTestKey(JwtAlgorithm alg, std::string kid) {
  TestKey out;
  out.alg = alg;
  out.kid = std::move(kid);
  switch (alg) {
    case JwtAlgorithm::kRS256:
      out.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
      break;
    case JwtAlgorithm::kES256:
      out.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      break;
    case JwtAlgorithm::kEdDSA:
      out.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
  }
  if (out.key == nullptr) {
    std::abort();
  }
  return out;
}

inline std::string BigNumParam(const EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
    std::abort();
  }
  std::string bytes(pad_to > 0 ? pad_to : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  BN_free(bn);
  return bytes;
}

// The public JWK of `key`, with "kid" (when not empty) and "alg".
inline boost::json::object PublicJwk(const TestKey& key) {
  boost::json::object jwk;
  switch (key.alg) {
    case JwtAlgorithm::kRS256:
      jwk["kty"] = "RSA";
      jwk["n"] = Base64UrlEncode(BigNumParam(key.key.get(), OSSL_PKEY_PARAM_RSA_N));
      jwk["e"] = Base64UrlEncode(BigNumParam(key.key.get(), OSSL_PKEY_PARAM_RSA_E));
      break;
    case JwtAlgorithm::kES256:
      jwk["kty"] = "EC";
      jwk["crv"] = "P-256";
      jwk["x"] = Base64UrlEncode(BigNumParam(key.key.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32));
      jwk["y"] = Base64UrlEncode(BigNumParam(key.key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32));
      break;
    case JwtAlgorithm::kEdDSA: {
      unsigned char raw[32];
      size_t size = sizeof(raw);
      if (EVP_PKEY_get_raw_public_key(key.key.get(), raw, &size) != 1) {
        std::abort();
      }
      jwk["kty"] = "OKP";
      jwk["crv"] = "Ed25519";
      jwk["x"] = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(raw), size));
      break;
    }
  }
  if (!key.kid.empty()) {
    jwk["kid"] = key.kid;
  }
  jwk["alg"] = JwtAlgorithmName(key.alg);
  jwk["use"] = "sig";
  return jwk;
}

// {"keys": [...]} for `keys`.
inline std::string JwksJson(const std::vector<const TestKey*>& keys) {
  boost::json::array list;
  for (const TestKey* key : keys) {
    list.push_back(PublicJwk(*key));
  }
  return boost::json::serialize(boost::json::object{{"keys", std::move(list)}});
}

// The raw signature of `input` with `key` in the JWS form of its algorithm.
inline std::string SignBytes(const TestKey& key, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* digest = key.alg == JwtAlgorithm::kEdDSA ? nullptr : EVP_sha256();
  size_t size = 0;
  if (ctx == nullptr || EVP_DigestSignInit(ctx, nullptr, digest, nullptr, key.key.get()) != 1 ||
      EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    std::abort();
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    std::abort();
  }
  EVP_MD_CTX_free(ctx);
  signature.resize(size);
  if (key.alg != JwtAlgorithm::kES256) {
    return signature;
  }
  // OpenSSL's DER ECDSA-Sig-Value -> JWS's r || s.
  const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
  if (sig == nullptr) {
    std::abort();
  }
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

// A compact JWT of `header` and `payload` signed with `key`.
inline std::string SignJwtWithHeader(const TestKey& key, const boost::json::object& header,
                                     const boost::json::object& payload) {
  std::string input = Base64UrlEncode(boost::json::serialize(header)) + "." +
                      Base64UrlEncode(boost::json::serialize(payload));
  return input + "." + Base64UrlEncode(SignBytes(key, input));
}

// A compact JWT of `payload` signed with `key`, header {"alg", "typ": "JWT", "kid"}.
inline std::string SignJwt(const TestKey& key, const boost::json::object& payload) {
  boost::json::object header{{"alg", JwtAlgorithmName(key.alg)}, {"typ", "JWT"}};
  if (!key.kid.empty()) {
    header["kid"] = key.kid;
  }
  return SignJwtWithHeader(key, header, payload);
}

}  // namespace quarry::auth::testing
