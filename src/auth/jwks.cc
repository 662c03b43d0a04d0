#include "auth/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json.hpp>
#include <optional>

#include "common/base64.h"

namespace quarry::auth {
namespace {

namespace json = boost::json;

constexpr int kMinRsaBits = 2048;
constexpr size_t kP256CoordinateBytes = 32;
constexpr size_t kEd25519KeyBytes = 32;

using Pkey = std::unique_ptr<evp_pkey_st, Jwk::PkeyDeleter>;

struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamsDeleter {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

// Why a key member cannot be used, or its decoded bytes.
Result<std::string> Member(const json::object& jwk, std::string_view name) {
  const json::value* value = jwk.if_contains(name);
  if (value == nullptr || !value->is_string()) {
    return Status(ErrorCode::kInvalidArgument, "needs a string \"" + std::string(name) + "\"");
  }
  std::optional<std::string> bytes = Base64UrlDecode(value->get_string());
  if (!bytes.has_value() || bytes->empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "\"" + std::string(name) + "\" is not non-empty base64url");
  }
  return std::move(*bytes);
}

Status KeyFailure(std::string_view what) {
  ERR_clear_error();
  return Status(ErrorCode::kInvalidArgument, std::string(what));
}

// A public key from OpenSSL parameters of key type `type` ("RSA", "EC").
Result<Pkey> FromParams(const char* type, OSSL_PARAM_BLD* bld, std::string_view what) {
  std::unique_ptr<OSSL_PARAM, ParamsDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return KeyFailure(what);
  }
  Pkey key(raw);
  PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return KeyFailure(what);
  }
  return key;
}

Result<Pkey> RsaKey(const json::object& jwk) {
  QUARRY_ASSIGN_OR_RETURN(std::string n, Member(jwk, "n"));
  QUARRY_ASSIGN_OR_RETURN(std::string e, Member(jwk, "e"));
  std::unique_ptr<BIGNUM, BnDeleter> n_bn(BN_bin2bn(
      reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  std::unique_ptr<BIGNUM, BnDeleter> e_bn(BN_bin2bn(
      reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (n_bn == nullptr || e_bn == nullptr || bld == nullptr ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
    return KeyFailure("\"n\" and \"e\" are not an RSA public key");
  }
  QUARRY_ASSIGN_OR_RETURN(
      Pkey key, FromParams("RSA", bld.get(), "\"n\" and \"e\" are not an RSA public key"));
  if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
    return Status(ErrorCode::kInvalidArgument,
                  "an RSA key of " + std::to_string(EVP_PKEY_get_bits(key.get())) +
                      " bits is too weak (at least " + std::to_string(kMinRsaBits) + ")");
  }
  return key;
}

Result<Pkey> P256Key(const json::object& jwk) {
  QUARRY_ASSIGN_OR_RETURN(std::string x, Member(jwk, "x"));
  QUARRY_ASSIGN_OR_RETURN(std::string y, Member(jwk, "y"));
  if (x.size() != kP256CoordinateBytes || y.size() != kP256CoordinateBytes) {
    return Status(ErrorCode::kInvalidArgument, "\"x\" and \"y\" of a P-256 key are 32 bytes each");
  }
  std::string point = "\x04" + x + y;  // SEC 1 uncompressed point
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return KeyFailure("\"x\" and \"y\" are not a point on P-256");
  }
  return FromParams("EC", bld.get(), "\"x\" and \"y\" are not a point on P-256");
}

Result<Pkey> Ed25519Key(const json::object& jwk) {
  QUARRY_ASSIGN_OR_RETURN(std::string x, Member(jwk, "x"));
  if (x.size() != kEd25519KeyBytes) {
    return Status(ErrorCode::kInvalidArgument, "\"x\" of an Ed25519 key is 32 bytes");
  }
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size());
  if (raw == nullptr) {
    return KeyFailure("\"x\" is not an Ed25519 public key");
  }
  return Pkey(raw);
}

std::string_view StringMember(const json::object& jwk, std::string_view name) {
  const json::value* value = jwk.if_contains(name);
  return value != nullptr && value->is_string() ? std::string_view(value->get_string())
                                                : std::string_view();
}

// The usable key `jwk`, or why it is skipped.
Result<Jwk> ParseKey(const json::value& value) {
  if (!value.is_object()) {
    return Status(ErrorCode::kInvalidArgument, "is not a JSON object");
  }
  const json::object& jwk = value.get_object();
  Jwk out;
  if (const json::value* kid = jwk.if_contains("kid"); kid != nullptr) {
    if (!kid->is_string()) {
      return Status(ErrorCode::kInvalidArgument, "\"kid\" is not a string");
    }
    out.kid = std::string(kid->get_string());
  }
  if (const json::value* use = jwk.if_contains("use");
      use != nullptr && !(use->is_string() && use->get_string() == "sig")) {
    return Status(ErrorCode::kInvalidArgument,
                  "\"use\" is " + json::serialize(*use) + ", not \"sig\"");
  }
  if (const json::value* ops = jwk.if_contains("key_ops"); ops != nullptr) {
    bool verify = false;
    if (ops->is_array()) {
      for (const json::value& op : ops->get_array()) {
        verify = verify || (op.is_string() && op.get_string() == "verify");
      }
    }
    if (!verify) {
      return Status(ErrorCode::kInvalidArgument, "\"key_ops\" does not include \"verify\"");
    }
  }
  std::string_view kty = StringMember(jwk, "kty");
  std::string_view crv = StringMember(jwk, "crv");
  if (kty == "RSA") {
    out.alg = JwtAlgorithm::kRS256;
    QUARRY_ASSIGN_OR_RETURN(out.key, RsaKey(jwk));
  } else if (kty == "EC" && crv == "P-256") {
    out.alg = JwtAlgorithm::kES256;
    QUARRY_ASSIGN_OR_RETURN(out.key, P256Key(jwk));
  } else if (kty == "OKP" && crv == "Ed25519") {
    out.alg = JwtAlgorithm::kEdDSA;
    QUARRY_ASSIGN_OR_RETURN(out.key, Ed25519Key(jwk));
  } else {
    std::string type = kty.empty() ? "no \"kty\"" : "\"kty\" \"" + std::string(kty) + "\"";
    if (!crv.empty()) {
      type += " with \"crv\" \"" + std::string(crv) + "\"";
    }
    return Status(ErrorCode::kInvalidArgument,
                  type + " is not supported (RSA, EC P-256 or OKP Ed25519)");
  }
  if (const json::value* alg = jwk.if_contains("alg"); alg != nullptr) {
    // RFC 9864 names EdDSA over Ed25519 "Ed25519"; tokens say "EdDSA" either way.
    bool matches =
        alg->is_string() && (alg->get_string() == JwtAlgorithmName(out.alg) ||
                             (out.alg == JwtAlgorithm::kEdDSA && alg->get_string() == "Ed25519"));
    if (!matches) {
      return Status(ErrorCode::kInvalidArgument, "\"alg\" " + json::serialize(*alg) +
                                                     " is not supported for this key (" +
                                                     std::string(JwtAlgorithmName(out.alg)) + ")");
    }
  }
  return out;
}

}  // namespace

void Jwk::PkeyDeleter::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

Result<Jwks> Jwks::Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value document = json::parse(text, ec);
  if (ec || !document.is_object()) {
    return Status(ErrorCode::kInvalidArgument, "the key set is not a JSON object");
  }
  const json::value* keys = document.get_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) {
    return Status(ErrorCode::kInvalidArgument, "the key set has no \"keys\" array");
  }
  Jwks out;
  const json::array& list = keys->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    Result<Jwk> key = ParseKey(list[i]);
    std::string where = "keys[" + std::to_string(i) + "]";
    if (key.ok() && !key->kid.empty() && out.Find(key->kid) != nullptr) {
      key = Status(ErrorCode::kInvalidArgument, "repeats a kid already in the set");
    }
    if (!key.ok()) {
      std::string_view kid =
          list[i].is_object() ? StringMember(list[i].get_object(), "kid") : std::string_view();
      if (!kid.empty()) {
        where += " (kid \"" + std::string(kid) + "\")";
      }
      out.skipped_.push_back(where + ": " + key.status().message());
      continue;
    }
    out.keys_.push_back(std::move(*key));
  }
  if (out.keys_.empty()) {
    std::string message =
        "the key set has no key that can verify tokens (RS256 with RSA, ES256 "
        "with EC P-256, EdDSA with Ed25519)";
    for (const std::string& why : out.skipped_) {
      message += "; " + why;
    }
    return Status(ErrorCode::kInvalidArgument, std::move(message));
  }
  return out;
}

const Jwk* Jwks::Find(std::string_view kid) const {
  for (const Jwk& key : keys_) {
    if (key.kid == kid) {
      return &key;
    }
  }
  return nullptr;
}

std::vector<const Jwk*> Jwks::ForAlgorithm(JwtAlgorithm alg) const {
  std::vector<const Jwk*> out;
  for (const Jwk& key : keys_) {
    if (key.alg == alg) {
      out.push_back(&key);
    }
  }
  return out;
}

}  // namespace quarry::auth
