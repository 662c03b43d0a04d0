#pragma once

// Request routing helpers shared by the Hrana and admin handlers: namespace resolution, token
// checks and JSON responses.

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auth/key_pair.h"
#include "auth/token.h"
#include "auth/token_cache.h"
#include "common/status.h"
#include "http/message.h"
#include "protocol/hrana_service.h"
#include "server/config.h"
#include "server/router.h"
#include "server/schema_changes.h"
#include "storage/namespace_store.h"

namespace quarry::server {

// Where a request is going once its namespace prefix is taken off.
struct Route {
  std::string ns;    // resolved namespace
  std::string path;  // path without the "/db/<name>" prefix
};

// The wall clock in unix seconds, as tokens' exp and nbf are checked.
int64_t NowUnix();
// Resolves the namespace: "/db/<name>/..." path prefix, else the x-namespace header, else the
// first label of Host under the configured base domain, else "default". Validates the name.
Result<Route> ResolveRoute(const http::Request& request, const ServerConfig& config);

// The verified claims of the request's bearer token. Without --no-auth a missing, malformed,
// forged or expired token is kUnauthorized. With --no-auth every request is an admin.
Result<auth::Claims> Authenticate(const http::Request& request, const ServerConfig& config,
                                  auth::TokenCache& tokens);
// The same when it needs no verification now: the request has no token to check (--no-auth)
// or its token was verified before; nullopt when verifying would be needed (it may block).
std::optional<Result<auth::Claims>> AuthenticateCached(const http::Request& request,
                                                       const ServerConfig& config,
                                                       auth::TokenCache& tokens);

// OK for a service token (ro, rw, admin); kForbidden for a user token, with a message saying
// that user tokens reach the data API only and that `needed` ("raw SQL needs a service token
// (ro, rw or admin)"). Every door that runs raw SQL or administers the server calls it, so no
// door but the data API lets an end user past the policies.
Status RequireServiceToken(const auth::Claims& claims, std::string_view needed);

// With --no-auth any local process may use the server, but a web page must not: a browser
// sends a page's Origin, and only loopback origins (http://localhost:3000, ...) are let
// through. kForbidden otherwise; OK with auth on (tokens decide) or without an Origin.
Status CheckNoAuthOrigin(const http::Request& request, const ServerConfig& config);

http::Response JsonResponse(int status, std::string body);
http::Response JsonResponse(int status, const boost::json::object& body);

// A connection of namespace `ns` for SQL posted to the admin API (migrations, schema plans):
// it runs under the same authorizer rules as any read-write client's SQL.
Result<storage::ConnectionLease> ReadWriteLease(storage::NamespaceStore& store,
                                                const std::string& ns);
http::Response ErrorResponse(const Status& status);
// An admin request's JSON object body ({} when empty); kInvalidArgument otherwise.
Result<boost::json::object> ParseObjectBody(const http::Request& request);

// One admin route's handler: the request and the path segments its pattern captured. Runs on a
// worker thread; the caller has checked for an admin token.
using AdminHandler = std::function<http::Response(const http::Request&, const PathParams&)>;
using AdminRoutes = Router<AdminHandler>;

// The namespace and token routes of the admin API: /namespaces, /namespaces/{ns},
// /namespaces/{ns}/fork, /tokens (see docs/http-api.md). Creating, deleting and forking into a
// namespace notify `schema_changes` with its name.
void AddNamespaceRoutes(AdminRoutes& routes, storage::NamespaceStore& store,
                        const auth::KeyPair& key, SchemaChanges& schema_changes);

}  // namespace quarry::server
