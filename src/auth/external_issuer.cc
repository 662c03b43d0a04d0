#include "auth/external_issuer.h"

#include <boost/json.hpp>

namespace quarry::auth {
namespace {

namespace json = boost::json;

Status Unauthorized(std::string message) {
  return Status(ErrorCode::kUnauthorized, "invalid token: " + std::move(message));
}

// Why no key of `keys` verifies a token of `alg` with header kid `kid` (empty: none); kNotFound
// when the kid is not in the set, so that the caller may fetch the set again.
Result<const Jwk*> SelectKey(const Jwks& keys, std::string_view kid, JwtAlgorithm alg) {
  std::string alg_name(JwtAlgorithmName(alg));
  if (!kid.empty()) {
    const Jwk* key = keys.Find(kid);
    if (key == nullptr) {
      return Status(ErrorCode::kNotFound,
                    "key id \"" + std::string(kid) + "\" is not in the issuer's key set");
    }
    if (key->alg != alg) {
      return Unauthorized("the token says " + alg_name + " but key \"" + std::string(kid) +
                          "\" is a " + std::string(JwtAlgorithmName(key->alg)) + " key");
    }
    return key;
  }
  std::vector<const Jwk*> candidates = keys.ForAlgorithm(alg);
  if (candidates.size() != 1) {
    return Unauthorized("the header has no \"kid\", and the issuer's key set has " +
                        std::to_string(candidates.size()) + " " + alg_name +
                        " keys; a token without \"kid\" needs exactly one");
  }
  return candidates.front();
}

bool HasAudience(const json::value& aud, std::string_view audience) {
  if (aud.is_string()) {
    return aud.get_string() == audience;
  }
  if (aud.is_array()) {
    for (const json::value& item : aud.get_array()) {
      if (item.is_string() && item.get_string() == audience) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

ExternalIssuer::ExternalIssuer(ExternalIssuerOptions options, JwksFetcher fetch)
    : options_(std::move(options)), fetch_(std::move(fetch)) {}

Result<std::unique_ptr<ExternalIssuer>> ExternalIssuer::Create(ExternalIssuerOptions options,
                                                               JwksFetcher fetch) {
  if (options.issuer.empty() || options.audience.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "an external issuer needs both an issuer (--jwt-issuer) and an audience "
                  "(--jwt-audience)");
  }
  if (options.namespaces_claim.empty()) {
    return Status(ErrorCode::kInvalidArgument, "the namespaces claim name must not be empty");
  }
  std::unique_ptr<ExternalIssuer> issuer(new ExternalIssuer(std::move(options), std::move(fetch)));
  Result<std::string> text = issuer->fetch_();
  ++issuer->fetches_;
  if (!text.ok()) {
    return Status(text.status().code(), "cannot read the key set " + issuer->options_.source +
                                            ": " + text.status().message());
  }
  Result<Jwks> keys = Jwks::Parse(*text);
  if (!keys.ok()) {
    return Status(ErrorCode::kInvalidArgument,
                  "key set " + issuer->options_.source + ": " + keys.status().message());
  }
  issuer->keys_ = std::make_shared<const Jwks>(std::move(*keys));
  return issuer;
}

uint64_t ExternalIssuer::fetch_count() const {
  std::lock_guard lock(mutex_);
  return fetches_;
}

std::shared_ptr<const Jwks> ExternalIssuer::Keys() const {
  std::lock_guard lock(mutex_);
  return keys_;
}

std::shared_ptr<const Jwks> ExternalIssuer::Refresh(const std::shared_ptr<const Jwks>& seen,
                                                    int64_t now_unix) {
  std::lock_guard refresh_lock(refresh_mutex_);
  if (std::shared_ptr<const Jwks> current = Keys(); current != seen) {
    return current;  // fetched by another thread while this one waited
  }
  if (refreshed_ && now_unix - last_refresh_unix_ < options_.min_refresh_seconds) {
    return seen;
  }
  refreshed_ = true;
  last_refresh_unix_ = now_unix;
  Result<std::string> text = fetch_();
  Result<Jwks> keys = text.ok() ? Jwks::Parse(*text) : Result<Jwks>(text.status());
  std::lock_guard lock(mutex_);
  ++fetches_;
  if (keys.ok()) {
    keys_ = std::make_shared<const Jwks>(std::move(*keys));
  }
  return keys_;
}

Result<Claims> ExternalIssuer::Verify(std::string_view jwt, int64_t now_unix) {
  QUARRY_ASSIGN_OR_RETURN(DecodedJwt decoded, DecodeJwt(jwt));
  std::optional<JwtAlgorithm> alg = ParseJwtAlgorithm(decoded.alg);
  if (!alg.has_value()) {
    return Unauthorized("algorithm \"" + decoded.alg +
                        "\" is not accepted (RS256, ES256 or EdDSA)");
  }
  std::string kid;
  if (const json::value* value = decoded.header.if_contains("kid"); value != nullptr) {
    if (!value->is_string()) {
      return Unauthorized("header \"kid\" is not a string");
    }
    kid = std::string(value->get_string());
  }
  std::shared_ptr<const Jwks> keys = Keys();
  Result<const Jwk*> key = SelectKey(*keys, kid, *alg);
  if (!key.ok() && key.status().code() == ErrorCode::kNotFound) {
    keys = Refresh(keys, now_unix);
    key = SelectKey(*keys, kid, *alg);
  }
  if (!key.ok()) {
    if (key.status().code() == ErrorCode::kNotFound) {
      return Unauthorized(key.status().message() + " (" + options_.source + ")");
    }
    return key.status();
  }
  QUARRY_RETURN_IF_ERROR(VerifyJwtSignature((*key)->key.get(), *alg, decoded));

  QUARRY_ASSIGN_OR_RETURN(json::object payload, DecodePayload(decoded));
  const json::value* iss = payload.if_contains("iss");
  if (iss == nullptr || !iss->is_string() || iss->get_string() != options_.issuer) {
    return Unauthorized("issuer " +
                        (iss == nullptr ? std::string("(none)") : json::serialize(*iss)) +
                        " is not the trusted issuer \"" + options_.issuer + "\"");
  }
  const json::value* aud = payload.if_contains("aud");
  if (aud == nullptr || !HasAudience(*aud, options_.audience)) {
    return Unauthorized("audience " +
                        (aud == nullptr ? std::string("(none)") : json::serialize(*aud)) +
                        " does not include \"" + options_.audience + "\"");
  }
  Claims claims;
  QUARRY_ASSIGN_OR_RETURN(claims.expires_at, ParseDateClaim(payload, "exp"));
  if (!claims.expires_at.has_value()) {
    return Unauthorized("claim \"exp\" is missing; tokens of an external issuer must expire");
  }
  QUARRY_ASSIGN_OR_RETURN(claims.not_before, ParseDateClaim(payload, "nbf"));
  QUARRY_ASSIGN_OR_RETURN(std::optional<int64_t> issued_at, ParseDateClaim(payload, "iat"));
  claims.issued_at = issued_at.value_or(0);
  if (claims.ExpiredAt(now_unix)) {
    return Status(ErrorCode::kUnauthorized, "token expired");
  }
  if (claims.NotYetValidAt(now_unix)) {
    return Status(ErrorCode::kUnauthorized, "token not yet valid");
  }
  if (const json::value* ns = payload.if_contains(options_.namespaces_claim); ns != nullptr) {
    QUARRY_RETURN_IF_ERROR(ParseNamespacesClaim(*ns, options_.namespaces_claim, claims));
  }
  if (const json::value* sub = payload.if_contains("sub"); sub != nullptr && sub->is_string()) {
    claims.subject = std::string(sub->get_string());
  }
  claims.user = std::move(payload);
  return claims;
}

}  // namespace quarry::auth
