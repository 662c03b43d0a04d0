#pragma once

// The claims a Quarry access token carries, and their JSON form.
//
// A token is a compact JWT signed with Ed25519 (see key_pair.h, which signs and verifies). Its
// payload is a JSON object:
//
//   {"a": "rw", "ns": ["shop", "blog"] | "*", "exp": 1700000000, "iat": 1690000000, "sub": "ci"}
//
//   a    access level: "ro", "rw" or "admin" (required; sqld uses the same claim name)
//   ns   the namespaces the token reaches: "*" for all, or an array of names (optional; a token
//        without it reaches no namespace)
//   exp  expiry, unix seconds (optional; a token without it does not expire)
//   nbf  not-before, unix seconds (optional)
//   iat  issue time, unix seconds (optional)
//   sub  free-text subject, for logs and policies (optional)
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
// Accepts the wire names and the aliases "read-only", "read-write" and "full-access" (sqld's
// spelling). Returns nullopt for anything else; matching is exact (case-sensitive).
std::optional<Access> ParseAccess(std::string_view text);

struct Claims {
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
  // True for kReadWrite and kAdmin.
  bool CanWrite() const;
  bool IsAdmin() const;
  // True when "exp" is set and `now_unix` is at or after it (RFC 7519: the current time must be
  // before the expiry).
  bool ExpiredAt(int64_t now_unix) const;
  // True when "nbf" is set and `now_unix` is before it.
  bool NotYetValidAt(int64_t now_unix) const;

  friend bool operator==(const Claims&, const Claims&) = default;
};

// The JSON payload for `claims`: members in the order a, ns, exp, nbf, iat, sub; "exp" and "nbf"
// omitted when unset, "sub" omitted when empty.
std::string SerializeClaims(const Claims& claims);

// Parses a token payload. Checks structure only, not time: expiry is the verifier's job.
// Returns kUnauthorized, with a message naming the claim, when the payload is not a JSON object,
// "a" is missing or unknown, or a known claim has the wrong type.
Result<Claims> ParseClaims(std::string_view payload_json);

}  // namespace quarry::auth
