#pragma once

// The claims a Quarry access token carries, and their JSON form.
//
// A token is a compact JWT signed with Ed25519 (see key_pair.h, which signs and verifies). Its
// payload is a JSON object:
//
//   {"a": "rw", "ns": ["shop", "blog"] | "*", "exp": 1700000000, "iat": 1690000000, "sub": "ci"}
//
//   a    "ro", "rw" or "admin": a service token (sqld uses the same claim name); or "user": a
//        user token, which then carries "u" (required)
//   ns   the namespaces the token reaches: "*" for all, or an array of names (optional; a token
//        without it reaches no namespace)
//   u    user tokens only, and required there: the JSON object that row and field policies read
//        as auth() ({"id": 1, "accountId": 5, "role": "member"}); Quarry gives its members no
//        meaning of its own
//   exp  expiry, unix seconds (optional; a token without it does not expire)
//   nbf  not-before, unix seconds (optional)
//   iat  issue time, unix seconds (optional)
//   sub  free-text subject, for logs and policies (optional)
//
// Service tokens (ro, rw, admin) are access for applications and tools: raw SQL over Hrana, the
// admin API, and the data API without policies. A user token stands for one end user: it reaches
// the data API only, where policies read its "u" object, and every raw-SQL door refuses it. A
// token verified against an external issuer (external_issuer.h) is a user token too; its whole
// claim set is the user object.
//
// Other members are ignored, so tokens minted by sqld-compatible tools still parse.
// Everything here is a plain value type, safe to share between threads once built.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace quarry::auth {

// What a token may do inside the namespaces it covers. Ordered: each level includes the ones
// before it.
enum class Access { kReadOnly, kReadWrite, kAdmin };

// The wire name: "ro", "rw" or "admin".
std::string_view AccessName(Access access);
// The value of claim "a" in a user token.
inline constexpr std::string_view kUserAccessName = "user";
// The claim that carries a user token's auth() object.
inline constexpr std::string_view kUserClaim = "u";
// Quarry mints no user token whose user object serializes to more than this: a token travels
// in a request header on every request.
inline constexpr size_t kMaxUserObjectBytes = 4096;
// Accepts the wire names and the aliases "read-only", "read-write" and "full-access" (sqld's
// spelling). Returns nullopt for anything else; matching is exact (case-sensitive).
std::optional<Access> ParseAccess(std::string_view text);

struct Claims {
  // A service token's level. A user token has kReadOnly here, which grants it nothing by
  // itself: every door that takes a user token checks IsUser() first.
  Access access = Access::kReadOnly;
  bool all_namespaces = false;          // claim "ns": "*"
  std::vector<std::string> namespaces;  // claim "ns": ["shop", ...]
  std::optional<int64_t> expires_at;    // claim "exp" (unix seconds)
  std::optional<int64_t> not_before;    // claim "nbf" (unix seconds)
  int64_t issued_at = 0;                // claim "iat"
  std::string subject;                  // claim "sub" (free text, may be empty)
  // Present exactly when this is a user token: the object policies read as auth(). For Quarry's
  // own tokens it is claim "u"; for an external issuer's, the token's whole claim set.
  std::optional<boost::json::object> user;

  // True when the token reaches namespace `ns`: all_namespaces, or `ns` listed exactly.
  bool Covers(std::string_view ns) const;
  // A user token: user.has_value().
  bool IsUser() const { return user.has_value(); }
  // True for service tokens of kReadWrite and kAdmin; false for user tokens.
  bool CanWrite() const;
  // True for an admin service token; false for user tokens.
  bool IsAdmin() const;
  // True when "exp" is set and `now_unix` is at or after it (RFC 7519: the current time must be
  // before the expiry).
  bool ExpiredAt(int64_t now_unix) const;
  // True when "nbf" is set and `now_unix` is before it.
  bool NotYetValidAt(int64_t now_unix) const;

  friend bool operator==(const Claims&, const Claims&) = default;
};

// The JSON payload for `claims`: members in the order a, ns, u, exp, nbf, iat, sub; "a" is "user"
// and "u" the user object for a user token ("u" omitted otherwise), "exp" and "nbf" omitted when
// unset, "sub" omitted when empty.
std::string SerializeClaims(const Claims& claims);

// Parses a token payload. Checks structure only, not time: expiry is the verifier's job.
// Returns kUnauthorized, with a message naming the claim, when the payload is not a JSON object,
// "a" is missing or unknown, a known claim has the wrong type, "a" is "user" without an object
// "u", or "u" is given in a service token.
Result<Claims> ParseClaims(std::string_view payload_json);

// Claim `claim` of `payload` as a JWT NumericDate (an integer, or a finite number of seconds
// truncated toward negative infinity); nullopt when absent. kUnauthorized naming the claim when
// it is not a number or does not fit in int64. Shared by every verifier.
Result<std::optional<int64_t>> ParseDateClaim(const boost::json::object& payload,
                                              std::string_view claim);

// Reads a namespaces claim named `claim` ("*" or an array of non-empty strings) into
// claims.all_namespaces / claims.namespaces. kUnauthorized naming the claim otherwise.
Status ParseNamespacesClaim(const boost::json::value& value, std::string_view claim,
                            Claims& claims);

}  // namespace quarry::auth
