#include "server/routes.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <initializer_list>

#include "protocol/error_json.h"
#include "protocol/json_body.h"
#include "protocol/stream.h"
#include "server/admin_migrations.h"
#include "server/admin_schema.h"
#include "storage/namespace_name.h"

namespace quarry::server {
namespace json = boost::json;

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

std::string_view StripPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    return host;  // IPv6 literal: never a namespace label
  }
  size_t colon = host.find(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

}  // namespace

http::Response JsonResponse(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

http::Response JsonResponse(int status, const json::object& body) {
  return JsonResponse(status, json::serialize(body));
}

Result<storage::ConnectionLease> ReadWriteLease(storage::NamespaceStore& store,
                                                const std::string& ns) {
  QUARRY_ASSIGN_OR_RETURN(std::shared_ptr<storage::Database> db, store.Get(ns));
  QUARRY_ASSIGN_OR_RETURN(storage::ConnectionLease lease,
                          db->Acquire(storage::AccessMode::kReadWrite));
  return lease;
}

http::Response ErrorResponse(const Status& status) {
  return JsonResponse(status.HttpStatus(), protocol::ErrorBody(status));
}

Status CheckNoAuthOrigin(const http::Request& request, const ServerConfig& config) {
  if (!config.no_auth) {
    return Status::Ok();
  }
  auto origin = request.Header("origin");
  if (!origin) {
    return Status::Ok();
  }
  std::string_view host = *origin;
  size_t scheme = host.find("://");
  if (scheme != std::string_view::npos) {
    host = host.substr(scheme + 3);
  }
  host = host.substr(0, host.find('/'));
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (IsLoopbackAddress(host)) {
    return Status::Ok();
  }
  return Status(ErrorCode::kForbidden,
                "the server runs with --no-auth, so requests from web pages of other origins (" +
                    std::string(*origin) + ") are refused");
}

Result<Route> ResolveRoute(const http::Request& request, const ServerConfig& config) {
  Route route;
  std::string_view path = request.path;
  if (path.substr(0, 4) == "/db/") {
    std::string_view rest = path.substr(4);
    size_t slash = rest.find('/');
    route.ns = std::string(rest.substr(0, slash));
    route.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if ((route.ns == "v2" || route.ns == "v3") &&
        (route.path == "/pipeline" || route.path == "/cursor")) {
      // A client given http://HOST/db/shop (no trailing slash) resolves v2/pipeline beside
      // "shop", not under it; no namespace's Hrana path looks like this.
      return Status(ErrorCode::kNotFound,
                    "no namespace in the path " + std::string(path) +
                        ": the client's URL probably lacks its trailing slash; a namespace URL "
                        "is http://HOST:PORT/db/<name>/ (with the slash, so " +
                        route.ns + route.path + " goes under the name instead of replacing it)");
    }
    QUARRY_RETURN_IF_ERROR(storage::ValidateNamespaceName(route.ns));
    return route;
  }
  route.path = std::string(path);
  if (auto header = request.Header("x-namespace")) {
    route.ns = std::string(*header);
    QUARRY_RETURN_IF_ERROR(storage::ValidateNamespaceName(route.ns));
    return route;
  }
  if (!config.base_domain.empty()) {
    if (auto host_header = request.Header("host")) {
      std::string_view host = StripPort(*host_header);
      std::string suffix = "." + config.base_domain;
      if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix) {
        std::string_view label = host.substr(0, host.size() - suffix.size());
        if (label.find('.') == std::string_view::npos) {
          route.ns = std::string(label);
          QUARRY_RETURN_IF_ERROR(storage::ValidateNamespaceName(route.ns));
          return route;
        }
      }
    }
  }
  route.ns = std::string(storage::kDefaultNamespace);
  return route;
}

Status RequireServiceToken(const auth::Claims& claims, std::string_view needed) {
  if (!claims.IsUser()) {
    return Status::Ok();
  }
  return Status(ErrorCode::kForbidden,
                "user tokens reach the data API only (POST /db/<ns>/v1/<model>/<op>); " +
                    std::string(needed));
}

namespace {

// The token of the request's `Authorization: Bearer <token>` header; kUnauthorized naming
// what is wrong with the header.
Result<std::string_view> BearerToken(const http::Request& request) {
  auto header = request.Header("authorization");
  if (!header) {
    return Status(ErrorCode::kUnauthorized,
                  "missing Authorization header; send 'Authorization: Bearer <token>'");
  }
  std::string_view value = *header;
  constexpr std::string_view kBearer = "Bearer ";
  if (value.size() <= kBearer.size() || value.substr(0, kBearer.size()) != kBearer) {
    return Status(ErrorCode::kUnauthorized, "Authorization header must be 'Bearer <token>'");
  }
  return value.substr(kBearer.size());
}

}  // namespace

Result<auth::Claims> Authenticate(const http::Request& request, const ServerConfig& config,
                                  auth::TokenCache& tokens) {
  if (config.no_auth) {
    auth::Claims claims;
    claims.access = auth::Access::kAdmin;
    claims.all_namespaces = true;
    claims.subject = "no-auth";
    return claims;
  }
  QUARRY_ASSIGN_OR_RETURN(std::string_view jwt, BearerToken(request));
  return tokens.Verify(jwt, NowUnix());
}

std::optional<Result<auth::Claims>> AuthenticateCached(const http::Request& request,
                                                       const ServerConfig& config,
                                                       auth::TokenCache& tokens) {
  if (config.no_auth) {
    return Authenticate(request, config, tokens);
  }
  Result<std::string_view> jwt = BearerToken(request);
  if (!jwt.ok()) {
    return Authenticate(request, config, tokens);  // decided without verifying anything
  }
  return tokens.VerifyCached(*jwt, NowUnix());
}

Result<json::object> ParseObjectBody(const http::Request& request) {
  if (request.body.empty()) {
    return json::object();
  }
  QUARRY_ASSIGN_OR_RETURN(json::value body, protocol::ParseJsonBody(request.body));
  if (!body.is_object()) {
    return Status(ErrorCode::kInvalidArgument, "request body must be a JSON object");
  }
  return std::move(body.get_object());
}

namespace {

Result<std::string> StringField(const json::object& body, std::string_view name) {
  const json::value* v = body.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    return Status(ErrorCode::kInvalidArgument,
                  "request body needs a string field \"" + std::string(name) + "\"");
  }
  return std::string(v->get_string());
}

// The settings a namespace request may carry ("foreign_keys": true|false); other fields are
// left to the caller. `allowed` lists the other fields the route accepts, so a misspelt setting
// is an error rather than silently ignored.
Result<storage::NamespaceSettings> SettingsField(const json::object& body,
                                                 std::initializer_list<std::string_view> allowed) {
  storage::NamespaceSettings settings;
  for (const auto& [key, value] : body) {
    if (key == "foreign_keys") {
      if (!value.is_bool()) {
        return Status(ErrorCode::kInvalidArgument,
                      "\"foreign_keys\" must be true or false, not " + json::serialize(value));
      }
      settings.foreign_keys = value.get_bool();
    } else if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      return Status(ErrorCode::kInvalidArgument, "unknown field \"" + std::string(key) +
                                                     "\" (namespace settings: foreign_keys)");
    }
  }
  return settings;
}

json::object NamespaceJson(const storage::NamespaceInfo& info) {
  json::object item;
  item.emplace("name", info.name);
  item.emplace("size_bytes", info.size_bytes);
  item.emplace("created_at", info.created_at_ms);
  item.emplace("last_used_at",
               info.last_used_ms == 0 ? json::value(nullptr) : json::value(info.last_used_ms));
  item.emplace("foreign_keys", info.foreign_keys);
  return item;
}

http::Response ListNamespaces(storage::NamespaceStore& store) {
  json::array list;
  for (const auto& info : store.List()) {
    list.push_back(NamespaceJson(info));
  }
  return JsonResponse(200, json::serialize(json::object{{"namespaces", std::move(list)}}));
}

// The token POST /tokens asks for: a service token ("access") or a user token ("user"), each
// over "namespaces" ("*" when left out).
Result<std::string> CreateToken(const json::object& body, const auth::KeyPair& key) {
  auth::Claims claims;
  if (const json::value* user = body.if_contains("user"); user != nullptr) {
    if (body.contains("access")) {
      return Status(ErrorCode::kInvalidArgument,
                    "give \"access\" (a service token) or \"user\" (a user token), not both");
    }
    if (!user->is_object()) {
      return Status(ErrorCode::kInvalidArgument,
                    "\"user\" must be a JSON object: the claims policies read as auth()");
    }
    if (json::serialize(*user).size() > auth::kMaxUserObjectBytes) {
      return Status(ErrorCode::kInvalidArgument,
                    "\"user\" is larger than " + std::to_string(auth::kMaxUserObjectBytes) +
                        " bytes of JSON; a token travels in a header on every request");
    }
    claims.user = user->get_object();
  } else {
    QUARRY_ASSIGN_OR_RETURN(std::string access, StringField(body, "access"));
    auto parsed = auth::ParseAccess(access);
    if (!parsed) {
      return Status(ErrorCode::kInvalidArgument,
                    "\"access\" must be \"ro\", \"rw\" or \"admin\", not \"" + access +
                        "\" (or give \"user\" for a user token)");
    }
    claims.access = *parsed;
  }
  const json::value* namespaces = body.if_contains("namespaces");
  bool all = namespaces == nullptr || (namespaces->is_string() && namespaces->get_string() == "*");
  if (claims.IsAdmin() && !all) {
    return Status(ErrorCode::kInvalidArgument,
                  "an admin token covers every namespace; leave out \"namespaces\" or use \"*\"");
  }
  if (all) {
    claims.all_namespaces = true;
  } else if (namespaces->is_array()) {
    for (const auto& item : namespaces->get_array()) {
      if (!item.is_string()) {
        return Status(ErrorCode::kInvalidArgument, "\"namespaces\" must hold strings");
      }
      std::string name(item.get_string());
      QUARRY_RETURN_IF_ERROR(storage::ValidateNamespaceName(name));
      claims.namespaces.push_back(std::move(name));
    }
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  "\"namespaces\" must be \"*\" or an array of namespace names");
  }
  claims.issued_at = NowUnix();
  if (const json::value* expires = body.if_contains("expires_in");
      expires != nullptr && !expires->is_null()) {
    constexpr int64_t kMaxLifetime = int64_t{100} * 366 * 24 * 3600;
    if (!expires->is_int64() || expires->get_int64() <= 0 || expires->get_int64() > kMaxLifetime) {
      return Status(ErrorCode::kInvalidArgument,
                    "\"expires_in\" must be a positive number of seconds, at most 100 years");
    }
    claims.expires_at = claims.issued_at + expires->get_int64();
  }
  if (const json::value* subject = body.if_contains("subject"); subject && subject->is_string()) {
    claims.subject = std::string(subject->get_string());
  }
  return key.Sign(claims);
}

}  // namespace

void AddNamespaceRoutes(AdminRoutes& routes, storage::NamespaceStore& store,
                        const auth::KeyPair& key, SchemaChanges& schema_changes) {
  routes.Add("GET", "/namespaces",
             [&store](const http::Request&, const PathParams&) { return ListNamespaces(store); });
  routes.Add("POST", "/namespaces",
             [&store, &schema_changes](const http::Request& request, const PathParams&) {
               auto body = ParseObjectBody(request);
               if (!body.ok()) {
                 return ErrorResponse(body.status());
               }
               auto name = StringField(*body, "name");
               if (!name.ok()) {
                 return ErrorResponse(name.status());
               }
               auto settings = SettingsField(*body, {"name"});
               if (!settings.ok()) {
                 return ErrorResponse(settings.status());
               }
               Status created = store.Create(*name, *settings);
               if (!created.ok()) {
                 return ErrorResponse(created);
               }
               schema_changes.Notify(*name);
               bool foreign_keys = settings->foreign_keys.value_or(store.default_foreign_keys());
               return JsonResponse(201, json::serialize(json::object{
                                            {"name", *name}, {"foreign_keys", foreign_keys}}));
             });
  // GET answers the namespace; PATCH changes its settings, then answers it the same way.
  auto answer_namespace = [&store](const std::string& name) {
    for (const auto& info : store.List()) {
      if (info.name == name) {
        return JsonResponse(200, json::serialize(NamespaceJson(info)));
      }
    }
    return ErrorResponse(
        Status(ErrorCode::kNamespaceNotFound, "namespace '" + name + "' does not exist"));
  };
  routes.Add("GET", "/namespaces/{ns}",
             [answer_namespace](const http::Request&, const PathParams& params) {
               return answer_namespace(params.Get("ns"));
             });
  routes.Add("PATCH", "/namespaces/{ns}",
             [&store, answer_namespace](const http::Request& request, const PathParams& params) {
               auto body = ParseObjectBody(request);
               if (!body.ok()) {
                 return ErrorResponse(body.status());
               }
               auto settings = SettingsField(*body, {});
               if (!settings.ok()) {
                 return ErrorResponse(settings.status());
               }
               Status configured = store.Configure(params.Get("ns"), *settings);
               if (!configured.ok()) {
                 return ErrorResponse(configured);
               }
               return answer_namespace(params.Get("ns"));
             });
  routes.Add("DELETE", "/namespaces/{ns}",
             [&store, &schema_changes](const http::Request&, const PathParams& params) {
               const std::string& name = params.Get("ns");
               Status deleted = store.Delete(name);
               if (!deleted.ok()) {
                 if (deleted.code() != ErrorCode::kNamespaceNotFound && !store.Exists(name)) {
                   // Gone though its folder could not all be removed: its subscribers and
                   // hooks end all the same.
                   schema_changes.Notify(name);
                 }
                 return ErrorResponse(deleted);
               }
               schema_changes.Notify(name);
               return JsonResponse(200, json::serialize(json::object{{"deleted", name}}));
             });
  routes.Add(
      "POST", "/namespaces/{ns}/fork",
      [&store, &schema_changes](const http::Request& request, const PathParams& params) {
        const std::string& name = params.Get("ns");
        auto body = ParseObjectBody(request);
        if (!body.ok()) {
          return ErrorResponse(body.status());
        }
        auto to = StringField(*body, "to");
        if (!to.ok()) {
          return ErrorResponse(to.status());
        }
        Status forked = store.Fork(name, *to);
        if (!forked.ok()) {
          return ErrorResponse(forked);
        }
        schema_changes.Notify(*to);
        return JsonResponse(201, json::serialize(json::object{{"name", *to}, {"from", name}}));
      });
  routes.Add("POST", "/tokens", [&key](const http::Request& request, const PathParams&) {
    auto body = ParseObjectBody(request);
    if (!body.ok()) {
      return ErrorResponse(body.status());
    }
    auto token = CreateToken(*body, key);
    if (!token.ok()) {
      return ErrorResponse(token.status());
    }
    return JsonResponse(201, json::serialize(json::object{{"token", *token}}));
  });
}

}  // namespace quarry::server
