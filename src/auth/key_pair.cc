#include "auth/key_pair.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "auth/jwt.h"
#include "common/base64.h"
#include "common/files.h"

namespace quarry::auth {
namespace {

constexpr std::string_view kHeaderJson = R"({"alg":"EdDSA","typ":"JWT"})";
constexpr size_t kEd25519SignatureBytes = 64;  // what Sign produces
constexpr size_t kEd25519PublicKeyBytes = 32;
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// Signing with a valid in-memory key cannot fail short of memory exhaustion or a broken
// OpenSSL; there is nothing a caller could do about either.
[[noreturn]] void DieOpenSsl(const char* what) {
  std::fprintf(stderr, "quarry: OpenSSL failure in %s\n", what);
  ERR_print_errors_fp(stderr);
  std::abort();
}

// The OpenSSL error queue as text, cleared.
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

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

// Refuses to prompt on the terminal for a passphrase: encrypted keys are not supported.
int NoPassphrase(char*, int, int, void*) { return -1; }

Status Unauthorized(std::string message) {
  return Status(ErrorCode::kUnauthorized, "invalid token: " + std::move(message));
}

}  // namespace

void KeyPair::PkeyDeleter::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

KeyPair::KeyPair(evp_pkey_st* key) : key_(key) {}
KeyPair::KeyPair(KeyPair&&) noexcept = default;
KeyPair& KeyPair::operator=(KeyPair&&) noexcept = default;
KeyPair::~KeyPair() = default;

Result<KeyPair> KeyPair::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) {
    return Status(ErrorCode::kInternal, "cannot generate an Ed25519 key: " + TakeOpenSslError());
  }
  return KeyPair(key);
}

Result<KeyPair> KeyPair::FromPrivateKeyPem(std::string_view pem) {
  if (pem.size() > kMaxKeyFileBytes) {
    return Status(ErrorCode::kInvalidArgument, "private key PEM is too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) {
    return Status(ErrorCode::kInternal, "cannot allocate a BIO: " + TakeOpenSslError());
  }
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (key == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  "not an unencrypted PEM private key: " + TakeOpenSslError());
  }
  KeyPair pair(key);
  if (!EVP_PKEY_is_a(key, "ED25519")) {
    return Status(
        ErrorCode::kInvalidArgument,
        std::string("private key is ") + EVP_PKEY_get0_type_name(key) + ", expected ED25519");
  }
  return pair;
}

Result<KeyPair> KeyPair::LoadOrCreate(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status(ErrorCode::kInternal,
                  "cannot create key directory " + dir.string() + ": " + ec.message());
  }
  const std::filesystem::path private_path = dir / kPrivateKeyFile;
  const std::filesystem::path public_path = dir / kPublicKeyFile;

  bool exists = std::filesystem::exists(private_path, ec);
  if (ec) {
    return Status(ErrorCode::kInternal,
                  "cannot stat " + private_path.string() + ": " + ec.message());
  }
  if (!exists) {
    QUARRY_ASSIGN_OR_RETURN(KeyPair generated, Generate());
    QUARRY_ASSIGN_OR_RETURN(Created created,
                            CreateFileOnce(private_path, generated.PrivateKeyPem(), 0600));
    if (created == Created::kCreated) {
      QUARRY_RETURN_IF_ERROR(ReplaceFile(public_path, generated.PublicKeyPem(), 0644));
      return generated;
    }
    // Another process created the key between our check and our link: use theirs.
  }

  QUARRY_ASSIGN_OR_RETURN(std::string pem,
                          ReadSmallFile(private_path, kMaxKeyFileBytes, "key file"));
  Result<KeyPair> loaded = FromPrivateKeyPem(pem);
  if (!loaded.ok()) {
    return Status(ErrorCode::kInternal,
                  "key file " + private_path.string() + ": " + loaded.status().message());
  }
  bool has_public = std::filesystem::exists(public_path, ec);
  if (!ec && !has_public) {
    QUARRY_RETURN_IF_ERROR(ReplaceFile(public_path, loaded->PublicKeyPem(), 0644));
  }
  return loaded;
}

std::string KeyPair::PublicKeyBase64Url() const {
  unsigned char raw[kEd25519PublicKeyBytes];
  size_t size = sizeof(raw);
  if (EVP_PKEY_get_raw_public_key(key_.get(), raw, &size) != 1 || size != sizeof(raw)) {
    DieOpenSsl("EVP_PKEY_get_raw_public_key");
  }
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(raw), size));
}

std::string KeyPair::PublicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    DieOpenSsl("PEM_write_bio_PUBKEY");
  }
  return BioContents(bio.get());
}

std::string KeyPair::PrivateKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    DieOpenSsl("PEM_write_bio_PrivateKey");
  }
  return BioContents(bio.get());
}

std::string KeyPair::Sign(const Claims& claims) const {
  return SignPayload(SerializeClaims(claims));
}

std::string KeyPair::SignPayload(std::string_view payload_json) const {
  std::string token = Base64UrlEncode(kHeaderJson);
  token += '.';
  token += Base64UrlEncode(payload_json);

  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char signature[kEd25519SignatureBytes];
  size_t signature_size = sizeof(signature);
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &signature_size,
                     reinterpret_cast<const unsigned char*>(token.data()), token.size()) != 1) {
    DieOpenSsl("EVP_DigestSign");
  }
  token += '.';
  token +=
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(signature), signature_size));
  return token;
}

Result<Claims> KeyPair::Verify(std::string_view jwt, int64_t now_unix) const {
  QUARRY_ASSIGN_OR_RETURN(DecodedJwt decoded, DecodeJwt(jwt));
  if (decoded.alg != "EdDSA") {
    return Unauthorized("algorithm \"" + decoded.alg + "\" is not accepted (only EdDSA)");
  }
  QUARRY_RETURN_IF_ERROR(VerifyJwtSignature(key_.get(), JwtAlgorithm::kEdDSA, decoded));
  std::optional<std::string> payload_json = Base64UrlDecode(decoded.payload_part);
  if (!payload_json.has_value()) {
    return Unauthorized("payload is not valid base64url");
  }
  QUARRY_ASSIGN_OR_RETURN(Claims claims, ParseClaims(*payload_json));
  if (claims.ExpiredAt(now_unix)) {
    return Status(ErrorCode::kUnauthorized, "token expired");
  }
  if (claims.NotYetValidAt(now_unix)) {
    return Status(ErrorCode::kUnauthorized, "token not yet valid");
  }
  return claims;
}

}  // namespace quarry::auth
