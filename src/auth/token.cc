#include "auth/token.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <limits>

namespace quarry::auth {
namespace {

Status BadClaim(std::string_view claim, std::string_view problem) {
  std::string message = "invalid token: claim \"";
  message += claim;
  message += "\" ";
  message += problem;
  return Status(ErrorCode::kUnauthorized, std::move(message));
}

// A JWT NumericDate: an integer or a finite number of seconds, truncated toward negative
// infinity.
Result<int64_t> ParseNumericDate(std::string_view claim, const boost::json::value& value) {
  if (value.is_int64()) {
    return value.get_int64();
  }
  if (value.is_uint64()) {
    if (value.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return BadClaim(claim, "is out of range");
    }
    return static_cast<int64_t>(value.get_uint64());
  }
  if (value.is_double()) {
    double seconds = std::floor(value.get_double());
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (!std::isfinite(seconds) || seconds < -9223372036854775808.0 ||
        seconds >= 9223372036854775808.0) {
      return BadClaim(claim, "is out of range");
    }
    return static_cast<int64_t>(seconds);
  }
  return BadClaim(claim, "must be a number of seconds since the epoch");
}

}  // namespace

Result<std::optional<int64_t>> ParseDateClaim(const boost::json::object& payload,
                                              std::string_view claim) {
  const boost::json::value* value = payload.if_contains(claim);
  if (value == nullptr) {
    return std::optional<int64_t>();
  }
  QUARRY_ASSIGN_OR_RETURN(int64_t seconds, ParseNumericDate(claim, *value));
  return std::optional<int64_t>(seconds);
}

Status ParseNamespacesClaim(const boost::json::value& value, std::string_view claim,
                            Claims& claims) {
  if (value.is_string()) {
    if (value.get_string() != "*") {
      return BadClaim(claim, "must be \"*\" or an array of namespace names");
    }
    claims.all_namespaces = true;
    return Status::Ok();
  }
  if (!value.is_array()) {
    return BadClaim(claim, "must be \"*\" or an array of namespace names");
  }
  for (const boost::json::value& item : value.get_array()) {
    if (!item.is_string() || item.get_string().empty()) {
      return BadClaim(claim, "must hold only non-empty strings");
    }
    claims.namespaces.emplace_back(item.get_string());
  }
  return Status::Ok();
}

std::string_view AccessName(Access access) {
  switch (access) {
    case Access::kReadOnly:
      return "ro";
    case Access::kReadWrite:
      return "rw";
    case Access::kAdmin:
      return "admin";
  }
  return "ro";
}

std::optional<Access> ParseAccess(std::string_view text) {
  if (text == "ro" || text == "read-only") {
    return Access::kReadOnly;
  }
  if (text == "rw" || text == "read-write" || text == "full-access") {
    return Access::kReadWrite;
  }
  if (text == "admin") {
    return Access::kAdmin;
  }
  return std::nullopt;
}

bool Claims::Covers(std::string_view ns) const {
  return all_namespaces || std::find(namespaces.begin(), namespaces.end(), ns) != namespaces.end();
}

bool Claims::CanWrite() const {
  return !IsUser() && (access == Access::kReadWrite || access == Access::kAdmin);
}

bool Claims::IsAdmin() const { return !IsUser() && access == Access::kAdmin; }

bool Claims::ExpiredAt(int64_t now_unix) const {
  return expires_at.has_value() && now_unix >= *expires_at;
}

bool Claims::NotYetValidAt(int64_t now_unix) const {
  return not_before.has_value() && now_unix < *not_before;
}

std::string SerializeClaims(const Claims& claims) {
  boost::json::object payload;
  payload["a"] = claims.IsUser() ? kUserAccessName : AccessName(claims.access);
  if (claims.all_namespaces) {
    payload["ns"] = "*";
  } else {
    boost::json::array names;
    for (const std::string& name : claims.namespaces) {
      names.emplace_back(name);
    }
    payload["ns"] = std::move(names);
  }
  if (claims.IsUser()) {
    payload[kUserClaim] = *claims.user;
  }
  if (claims.expires_at.has_value()) {
    payload["exp"] = *claims.expires_at;
  }
  if (claims.not_before.has_value()) {
    payload["nbf"] = *claims.not_before;
  }
  payload["iat"] = claims.issued_at;
  if (!claims.subject.empty()) {
    payload["sub"] = claims.subject;
  }
  return boost::json::serialize(payload);
}

Result<Claims> ParseClaims(std::string_view payload_json) {
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(payload_json, ec);
  if (ec) {
    return Status(ErrorCode::kUnauthorized, "invalid token: payload is not valid JSON");
  }
  if (!parsed.is_object()) {
    return Status(ErrorCode::kUnauthorized, "invalid token: payload is not a JSON object");
  }
  const boost::json::object& payload = parsed.get_object();

  Claims claims;
  const boost::json::value* access = payload.if_contains("a");
  if (access == nullptr) {
    return BadClaim("a", "(access level) is missing");
  }
  if (!access->is_string()) {
    return BadClaim("a", "must be a string: \"ro\", \"rw\", \"admin\" or \"user\"");
  }
  const boost::json::value* user = payload.if_contains(kUserClaim);
  if (access->get_string() == kUserAccessName) {
    if (user == nullptr || !user->is_object()) {
      return BadClaim(kUserClaim, "(the user object of a user token) must be a JSON object");
    }
    claims.user = user->get_object();
  } else {
    std::optional<Access> level = ParseAccess(access->get_string());
    if (!level.has_value()) {
      return BadClaim("a", "has unknown access level \"" + std::string(access->get_string()) +
                               "\" (expected \"ro\", \"rw\", \"admin\" or \"user\")");
    }
    if (user != nullptr) {
      return BadClaim(kUserClaim, "belongs to user tokens (\"a\": \"user\") only");
    }
    claims.access = *level;
  }

  if (const boost::json::value* ns = payload.if_contains("ns")) {
    QUARRY_RETURN_IF_ERROR(ParseNamespacesClaim(*ns, "ns", claims));
  }
  QUARRY_ASSIGN_OR_RETURN(claims.expires_at, ParseDateClaim(payload, "exp"));
  QUARRY_ASSIGN_OR_RETURN(claims.not_before, ParseDateClaim(payload, "nbf"));
  QUARRY_ASSIGN_OR_RETURN(std::optional<int64_t> issued_at, ParseDateClaim(payload, "iat"));
  claims.issued_at = issued_at.value_or(0);
  if (const boost::json::value* sub = payload.if_contains("sub")) {
    if (!sub->is_string()) {
      return BadClaim("sub", "must be a string");
    }
    claims.subject = std::string(sub->get_string());
  }
  return claims;
}

}  // namespace quarry::auth
