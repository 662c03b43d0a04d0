#include "server/admin_api.h"

#include "server/admin_schema.h"
#include "storage/namespace_name.h"

namespace quarry::server {

AdminApi::AdminApi(storage::NamespaceStore& store, const auth::KeyPair& key,
                   SchemaChanges& schema_changes, Webhooks* hooks)
    : groups_(store.data_dir() / "groups.db") {
  AddNamespaceRoutes(routes_, store, key, schema_changes);
  AddMigrationRoutes(routes_, store, groups_, schema_changes);
  AddSchemaRoutes(routes_, store, schema_changes);
  AddHookRoutes(routes_, hooks);
}

http::Response AdminApi::Handle(const http::Request& request, std::string_view path,
                                const auth::Claims& claims) const {
  if (Status service = RequireServiceToken(claims, "the admin API needs an admin token");
      !service.ok()) {
    return ErrorResponse(service);
  }
  if (!claims.IsAdmin() || !claims.all_namespaces) {
    return ErrorResponse(
        Status(ErrorCode::kForbidden, "the admin API needs an admin token for all namespaces"));
  }
  auto found = routes_.Find(request.method, path);
  if (!found.ok()) {
    Status status = found.status();
    return ErrorResponse(Status(status.code(), status.message() + " (under /admin/v1)"));
  }
  // One check for every route under a namespace: a name that cannot exist is a bad request,
  // not a missing namespace.
  if (const std::string& ns = found->params.Get("ns"); !ns.empty()) {
    if (Status valid = storage::ValidateNamespaceName(ns); !valid.ok()) {
      return ErrorResponse(valid);
    }
  }
  return (*found->handler)(request, found->params);
}

}  // namespace quarry::server
