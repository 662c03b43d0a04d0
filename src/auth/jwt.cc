#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <memory>

#include "common/base64.h"

namespace quarry::auth {
namespace {

constexpr size_t kRawSignatureBytes = 64;  // Ed25519, and ES256's r || s

Status Unauthorized(std::string message) {
  return Status(ErrorCode::kUnauthorized, "invalid token: " + std::move(message));
}

std::string TakeOpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

// ES256's r || s as the DER ECDSA-Sig-Value OpenSSL verifies; empty when OpenSSL fails.
std::string EcdsaDer(std::string_view raw) {
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return "";
  }
  unsigned char* der = nullptr;
  int size = i2d_ECDSA_SIG(sig.get(), &der);
  if (size <= 0) {
    return "";
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string_view JwtAlgorithmName(JwtAlgorithm alg) {
  switch (alg) {
    case JwtAlgorithm::kEdDSA:
      return "EdDSA";
    case JwtAlgorithm::kRS256:
      return "RS256";
    case JwtAlgorithm::kES256:
      return "ES256";
  }
  return "EdDSA";
}

std::optional<JwtAlgorithm> ParseJwtAlgorithm(std::string_view name) {
  for (JwtAlgorithm alg : {JwtAlgorithm::kEdDSA, JwtAlgorithm::kRS256, JwtAlgorithm::kES256}) {
    if (name == JwtAlgorithmName(alg)) {
      return alg;
    }
  }
  return std::nullopt;
}

Result<DecodedJwt> DecodeJwt(std::string_view jwt) {
  if (jwt.empty()) {
    return Unauthorized("token is empty");
  }
  if (jwt.size() > kMaxJwtBytes) {
    return Unauthorized("token is longer than " + std::to_string(kMaxJwtBytes) + " bytes");
  }
  size_t first_dot = jwt.find('.');
  size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : jwt.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      jwt.find('.', second_dot + 1) != std::string_view::npos) {
    return Unauthorized("a token must have exactly three dot-separated parts");
  }
  std::string_view header_part = jwt.substr(0, first_dot);
  std::string_view payload_part = jwt.substr(first_dot + 1, second_dot - first_dot - 1);
  std::string_view signature_part = jwt.substr(second_dot + 1);
  if (header_part.empty() || payload_part.empty() || signature_part.empty()) {
    return Unauthorized("a token part is empty");
  }
  std::optional<std::string> header_json = Base64UrlDecode(header_part);
  if (!header_json.has_value()) {
    return Unauthorized("header is not valid base64url");
  }
  boost::system::error_code ec;
  boost::json::value header = boost::json::parse(*header_json, ec);
  if (ec || !header.is_object()) {
    return Unauthorized("header is not a JSON object");
  }
  const boost::json::value* alg = header.get_object().if_contains("alg");
  if (alg == nullptr || !alg->is_string()) {
    return Unauthorized("header has no \"alg\"");
  }
  DecodedJwt out;
  out.alg = std::string(alg->get_string());
  out.header = std::move(header.get_object());
  out.signing_input = std::string(jwt.substr(0, second_dot));
  out.payload_part = std::string(payload_part);
  out.signature_part = std::string(signature_part);
  return out;
}

Result<boost::json::object> DecodePayload(const DecodedJwt& jwt) {
  std::optional<std::string> payload_json = Base64UrlDecode(jwt.payload_part);
  if (!payload_json.has_value()) {
    return Unauthorized("payload is not valid base64url");
  }
  boost::system::error_code ec;
  boost::json::value payload = boost::json::parse(*payload_json, ec);
  if (ec || !payload.is_object()) {
    return Unauthorized("payload is not a JSON object");
  }
  return std::move(payload.get_object());
}

Status VerifyJwtSignature(evp_pkey_st* key, JwtAlgorithm alg, const DecodedJwt& jwt) {
  if (jwt.header.contains("crit")) {
    return Unauthorized("header has \"crit\" extensions, which are not supported");
  }
  std::optional<std::string> signature = Base64UrlDecode(jwt.signature_part);
  if (!signature.has_value()) {
    return Unauthorized("signature is not valid base64url");
  }
  const EVP_MD* digest = nullptr;
  switch (alg) {
    case JwtAlgorithm::kEdDSA:
      if (!EVP_PKEY_is_a(key, "ED25519")) {
        return Unauthorized("an EdDSA token needs an Ed25519 key");
      }
      break;
    case JwtAlgorithm::kRS256:
      if (!EVP_PKEY_is_a(key, "RSA")) {
        return Unauthorized("an RS256 token needs an RSA key");
      }
      digest = EVP_sha256();
      break;
    case JwtAlgorithm::kES256:
      if (!EVP_PKEY_is_a(key, "EC")) {
        return Unauthorized("an ES256 token needs an EC P-256 key");
      }
      digest = EVP_sha256();
      break;
  }
  if (alg != JwtAlgorithm::kRS256 && signature->size() != kRawSignatureBytes) {
    return Unauthorized("signature is not 64 bytes");
  }
  if (alg == JwtAlgorithm::kES256) {
    *signature = EcdsaDer(*signature);
    if (signature->empty()) {
      return Status(ErrorCode::kInternal, "cannot verify a token: " + TakeOpenSslError());
    }
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestVerifyInit(ctx.get(), nullptr, digest, nullptr, key) != 1) {
    return Status(ErrorCode::kInternal, "cannot verify a token: " + TakeOpenSslError());
  }
  int verified = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
      reinterpret_cast<const unsigned char*>(jwt.signing_input.data()), jwt.signing_input.size());
  if (verified != 1) {
    ERR_clear_error();
    return Unauthorized("signature does not match");
  }
  return Status::Ok();
}

std::optional<std::string> UnverifiedIssuer(std::string_view jwt) {
  Result<DecodedJwt> decoded = DecodeJwt(jwt);
  if (!decoded.ok()) {
    return std::nullopt;
  }
  Result<boost::json::object> payload = DecodePayload(*decoded);
  if (!payload.ok()) {
    return std::nullopt;
  }
  const boost::json::value* iss = payload->if_contains("iss");
  if (iss == nullptr || !iss->is_string()) {
    return std::nullopt;
  }
  return std::string(iss->get_string());
}

}  // namespace quarry::auth
