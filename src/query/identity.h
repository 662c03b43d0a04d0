#pragma once

// Identity: who a data-API request runs as, which decides the policies compiled into its SQL.
//
// A service caller (an `ro`, `rw` or `admin` token, or any request under --no-auth) runs with
// policies bypassed, as the reference's asSystem(): no row policy, gate or field rule applies,
// and `$raw` SQL is allowed; an `ro` token only reads. A user caller carries claims, which
// policies read as auth(); every policy of the schema applies to it.
// A plain value; safe to share between threads once built.

#include <boost/json/object.hpp>
#include <string>

namespace quarry::query {

struct Identity {
  enum class Kind { kService, kUser };
  Kind kind = Kind::kService;
  // Service callers: whether writes are allowed (an `rw` or `admin` token). Ignored for users,
  // whose writes the policies decide.
  bool can_write = true;
  // User callers: the auth() object. Claims the policies name and the token lacks are null.
  boost::json::object claims;

  bool system() const { return kind == Kind::kService; }
  // The @@gate level: 8 (SYSTEM) for service callers; for users the integer claim `level`
  // (clamped to 0..7) when present, else 4 (USER).
  int GateLevel() const;

  static Identity Service(bool can_write) { return Identity{Kind::kService, can_write, {}}; }
  static Identity User(boost::json::object claims) {
    return Identity{Kind::kUser, true, std::move(claims)};
  }
};

}  // namespace quarry::query
