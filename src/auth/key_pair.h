#pragma once

// KeyPair: the server's Ed25519 signing key, which mints and verifies access tokens.
//
// Tokens are compact JWTs (RFC 7519) signed with EdDSA over Ed25519 (RFC 8037), the format sqld
// uses: base64url(header) "." base64url(payload) "." base64url(signature), header
// {"alg":"EdDSA","typ":"JWT"}, payload as described in token.h.
//
// A KeyPair is move-only and owns its OpenSSL key. Sign and Verify are const and safe to call
// from many threads at once. A moved-from KeyPair may only be destroyed or assigned to.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "auth/token.h"
#include "common/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace quarry::auth {

class KeyPair {
 public:
  // File names inside the key folder.
  static constexpr std::string_view kPrivateKeyFile = "jwt_ed25519.pem";
  static constexpr std::string_view kPublicKeyFile = "jwt_ed25519.pub.pem";
  // Tokens longer than this are refused without being decoded.
  static constexpr size_t kMaxTokenBytes = kMaxJwtBytes;

  // Loads <dir>/jwt_ed25519.pem (an unencrypted PKCS#8 PEM private key) or, when it does not
  // exist, generates a new key pair and writes it there with mode 0600, plus the public key
  // (SubjectPublicKeyInfo PEM, mode 0644) to <dir>/jwt_ed25519.pub.pem. Creates `dir` and its
  // parents if needed. The private key file appears atomically, complete and already 0600; if
  // another process creates it first, that key is loaded instead. A missing public key file
  // is rewritten from the private key. Returns kInternal, naming the path, when a file cannot
  // be read or written or does not hold an Ed25519 private key.
  static Result<KeyPair> LoadOrCreate(const std::filesystem::path& dir);
  // A fresh key pair from the operating system's CSPRNG. Fails only if OpenSSL does.
  static Result<KeyPair> Generate();
  // Parses an unencrypted PEM private key (PKCS#8 or OpenSSL's traditional form). Returns
  // kInvalidArgument when the text is not a PEM private key or the key is not Ed25519.
  static Result<KeyPair> FromPrivateKeyPem(std::string_view pem);

  KeyPair(KeyPair&&) noexcept;
  KeyPair& operator=(KeyPair&&) noexcept;
  KeyPair(const KeyPair&) = delete;
  KeyPair& operator=(const KeyPair&) = delete;
  ~KeyPair();

  // The raw 32-byte public key, base64url without padding (the form sqld's
  // SQLD_AUTH_JWT_KEY and JWKS "x" use).
  std::string PublicKeyBase64Url() const;
  // The public key as a SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
  std::string PublicKeyPem() const;
  // The private key as an unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). Secret:
  // written only to the key file, never logged or sent.
  std::string PrivateKeyPem() const;

  // A compact JWT carrying `claims`, header {"alg":"EdDSA","typ":"JWT"}.
  std::string Sign(const Claims& claims) const;
  // A compact JWT with the standard header and `payload_json` as its payload, byte for byte.
  // The caller vouches that it is a JSON object; Sign(claims) is
  // SignPayload(SerializeClaims(claims)).
  std::string SignPayload(std::string_view payload_json) const;

  // Verifies a compact JWT signed by this key and returns its claims. The token must have
  // exactly three non-empty dot-separated parts in base64url (with or without '=' padding); the
  // header must be a JSON object whose "alg" is "EdDSA" (anything else, "none" and "HS256"
  // included, is refused naming the algorithm) and that has no "crit" member; the signature must
  // be a valid Ed25519 signature over the first two parts as received; the payload must parse
  // as Claims (see ParseClaims); at `now_unix` the token must not be expired ("exp") or not yet
  // valid ("nbf"). Every failure is kUnauthorized with a message saying which check failed,
  // except an OpenSSL failure unrelated to the token (kInternal).
  Result<Claims> Verify(std::string_view jwt, int64_t now_unix) const;

 private:
  struct PkeyDeleter {
    void operator()(evp_pkey_st* key) const;
  };
  explicit KeyPair(evp_pkey_st* key);

  std::unique_ptr<evp_pkey_st, PkeyDeleter> key_;
};

}  // namespace quarry::auth
