#pragma once

// ExternalIssuer: verifies bearer JWTs that an identity provider the operator trusts signed
// (`quarry serve --jwks FILE|URL --jwt-issuer ISS --jwt-audience AUD`), and turns them into
// user tokens (token.h).
//
// A token is accepted when, in this order:
//   - it is a compact JWT (jwt.h) whose header "alg" is RS256, ES256 or EdDSA;
//   - its key is in the key set: the key with the header's "kid", or, for a header without a
//     "kid", the one key of the set with that algorithm; the key's algorithm must be the
//     header's (an RSA key never verifies an ES256 token, ...);
//   - the signature verifies with that key;
//   - "iss" is the configured issuer, exactly;
//   - "aud" is the configured audience, or an array holding it;
//   - "exp" is present and in the future, and "nbf", when present, is not (no leeway: keep the
//     server's clock synchronized);
//   - the namespaces claim (options.namespaces_claim, "ns" by default), when present, is "*" or
//     an array of namespace names. Without it the token reaches no namespace.
// The Claims then have: user = the whole claim set (what policies read as auth()), the
// namespaces from the namespaces claim, expires_at / not_before / issued_at from exp / nbf /
// iat, subject = "sub" when it is a string. Every refusal is kUnauthorized with a message that
// names the check.
//
// Keys come from a fetcher (a file read or an HTTP GET, supplied by the server: this library does
// no I/O of its own). Create fetches once. A token whose "kid" is not in the set makes Verify
// fetch again, at most once per options.min_refresh_seconds (the first such refresh after
// Create is not held back), so a provider's key rotation is picked up while a stream of tokens
// with made-up kids cannot make the server hammer the provider. A failed or unusable refresh
// keeps the keys already held.
//
// Thread-safe: Verify may be called from many threads; at most one of them fetches at a time
// (blocking only those that need the new keys).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/jwks.h"
#include "auth/token.h"
#include "common/status.h"

namespace quarry::auth {

struct ExternalIssuerOptions {
  std::string issuer;    // required "iss"
  std::string audience;  // required in "aud"
  std::string namespaces_claim = "ns";
  // Names the key set in messages: the file or URL it is read from.
  std::string source;
  int64_t min_refresh_seconds = 30;
};

// Returns the key set's JSON text, or why it cannot be had. Called on the thread that verifies.
using JwksFetcher = std::function<Result<std::string>()>;

class ExternalIssuer {
 public:
  // Fetches and parses the key set. Fails, naming options.source, when the fetch fails or the
  // set has no usable key; kInvalidArgument when the issuer or audience is empty.
  static Result<std::unique_ptr<ExternalIssuer>> Create(ExternalIssuerOptions options,
                                                        JwksFetcher fetch);

  const std::string& issuer() const { return options_.issuer; }

  // The claims of `jwt` at `now_unix` (unix seconds, also the clock of the refresh limit), as
  // described above.
  Result<Claims> Verify(std::string_view jwt, int64_t now_unix);

  // How many times the key set was fetched, Create's included (for tests and logs).
  uint64_t fetch_count() const;

 private:
  ExternalIssuer(ExternalIssuerOptions options, JwksFetcher fetch);
  // The current key set.
  std::shared_ptr<const Jwks> Keys() const;
  // The key set to use after `seen` lacked a kid: one another thread fetched meanwhile, else a
  // new fetch unless the last refresh was less than min_refresh_seconds before `now_unix`,
  // else `seen`.
  std::shared_ptr<const Jwks> Refresh(const std::shared_ptr<const Jwks>& seen, int64_t now_unix);

  const ExternalIssuerOptions options_;
  const JwksFetcher fetch_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Jwks> keys_;  // GUARDED_BY(mutex_)
  uint64_t fetches_ = 0;              // GUARDED_BY(mutex_)
  bool refreshed_ = false;            // GUARDED_BY(refresh_mutex_)
  int64_t last_refresh_unix_ = 0;     // GUARDED_BY(refresh_mutex_)
  std::mutex refresh_mutex_;          // held while fetching for an unknown kid
};

}  // namespace quarry::auth
