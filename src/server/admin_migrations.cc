#include "server/admin_migrations.h"

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "auth/sql_authorizer.h"
#include "protocol/error_json.h"
#include "protocol/json_body.h"
#include "protocol/stream.h"
#include "schema/binder.h"
#include "schema/migration_groups.h"
#include "schema/migration_json.h"
#include "schema/migrator.h"
#include "server/routes.h"

namespace quarry::server {

namespace json = boost::json;

namespace {

// Group migrations borrow their own connections: posted SQL runs under read-write client rules.
void ReadWriteAccess(storage::Connection& conn) {
  // A connection that cannot take the rules denies everything: the migration then fails.
  conn.SetAccess(storage::AccessMode::kReadWrite).PermitUncheckedError();
}

Result<json::object> ObjectBody(const http::Request& request) {
  if (request.body.empty()) {
    return Status(ErrorCode::kInvalidArgument, "request body must be a JSON object");
  }
  QUARRY_ASSIGN_OR_RETURN(json::value body, protocol::ParseJsonBody(request.body));
  if (!body.is_object()) {
    return Status(ErrorCode::kInvalidArgument, "request body must be a JSON object");
  }
  return std::move(body.get_object());
}

// A failed run: the error's HTTP status and {"message", "code", ...} plus `extra`.
http::Response FailureResponse(const Status& status, json::object extra) {
  json::object body = protocol::ErrorJson(status);
  for (auto& [key, value] : extra) {
    body[key] = std::move(value);
  }
  return JsonResponse(status.HttpStatus(), body);
}

// Every schema snapshot of `set` must bind: applying one records it as the schema the data API
// serves.
Status CheckSnapshots(const schema::MigrationSet& set) {
  for (const schema::Migration& migration : set.migrations) {
    if (migration.schema) {
      Result<schema::Schema> bound =
          schema::BindSelfContainedSchema(*migration.schema, migration.id + " (schema snapshot)");
      if (!bound.ok()) {
        return Status(ErrorCode::kInvalidArgument,
                      "migration " + migration.id +
                          " carries a schema snapshot that does not bind; nothing was applied:\n" +
                          bound.status().message());
      }
    }
  }
  return Status::Ok();
}

json::array Strings(const std::vector<std::string>& list) {
  json::array out;
  for (const auto& s : list) {
    out.push_back(json::value(s));
  }
  return out;
}

http::Response NamespaceMigrations(const http::Request& request, const std::string& ns,
                                   std::string_view action, storage::NamespaceStore& store,
                                   SchemaChanges& schema_changes) {
  if (action == "" && request.method == "GET") {
    auto lease = ReadWriteLease(store, ns);
    if (!lease.ok()) {
      return ErrorResponse(lease.status());
    }
    auto applied = schema::Migrator(**lease).Applied();
    if (!applied.ok()) {
      return ErrorResponse(applied.status());
    }
    return JsonResponse(200, {{"namespace", ns}, {"recorded", schema::RecordedJson(*applied)}});
  }
  if (request.method != "POST") {
    return ErrorResponse(
        Status(ErrorCode::kMethodNotAllowed, "use GET or POST on /namespaces/<name>/migrations"));
  }
  auto body = ObjectBody(request);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  bool force = false;
  auto set = schema::MigrationSetFromJson(*body, &force);
  if (!set.ok()) {
    return ErrorResponse(set.status());
  }
  if (Status snapshots = CheckSnapshots(*set); !snapshots.ok()) {
    return ErrorResponse(snapshots);
  }
  int count = 0;
  if (action == "/down") {
    const json::value* n = body->if_contains("count");
    if (n == nullptr || !n->is_int64() || n->get_int64() < 1 || n->get_int64() > 1'000'000) {
      return ErrorResponse(
          Status(ErrorCode::kInvalidArgument, "\"count\" must be a positive integer"));
    }
    count = static_cast<int>(n->get_int64());
  }
  auto lease = ReadWriteLease(store, ns);
  if (!lease.ok()) {
    return ErrorResponse(lease.status());
  }
  schema::Migrator migrator(**lease);
  schema::MigrationRun run = action == "/down" ? migrator.Down(*set, count, {.force = force})
                                               : migrator.Apply(*set, {.force = force});
  if (!run.done.empty()) {
    schema_changes.Notify(ns);
  }
  json::object out{{"namespace", ns},
                   {"format", schema::FormatName(set->format)},
                   {action == "/down" ? "undone" : "applied", Strings(run.done)}};
  auto statuses = migrator.Status(*set);
  out.emplace("migrations",
              statuses.ok() ? json::value(schema::StatusesJson(*statuses)) : json::value(nullptr));
  if (!run.status.ok()) {
    out.emplace("failure",
                run.failure ? json::value(schema::FailureJson(*run.failure)) : json::value());
    return FailureResponse(run.status, std::move(out));
  }
  return JsonResponse(200, out);
}

http::Response GroupRoutes(const http::Request& request, std::string_view rest,
                           storage::NamespaceStore& store, GroupStores& group_stores,
                           SchemaChanges& schema_changes) {
  auto groups = group_stores.Get();
  if (!groups.ok()) {
    return ErrorResponse(groups.status());
  }
  const std::string& method = request.method;
  if (rest.empty()) {
    if (method == "GET") {
      return JsonResponse(200, {{"groups", Strings((*groups)->List())}});
    }
    if (method != "POST") {
      return ErrorResponse(Status(ErrorCode::kMethodNotAllowed, "use GET or POST on /groups"));
    }
    auto body = ObjectBody(request);
    if (!body.ok()) {
      return ErrorResponse(body.status());
    }
    const json::value* name = body->if_contains("name");
    const json::value* members = body->if_contains("namespaces");
    if (name == nullptr || !name->is_string()) {
      return ErrorResponse(
          Status(ErrorCode::kInvalidArgument, "request body needs a string field \"name\""));
    }
    if (members == nullptr || !members->is_array()) {
      return ErrorResponse(Status(ErrorCode::kInvalidArgument,
                                  "request body needs \"namespaces\": an array of names"));
    }
    std::vector<std::string> list;
    for (const auto& item : members->get_array()) {
      if (!item.is_string()) {
        return ErrorResponse(
            Status(ErrorCode::kInvalidArgument, "\"namespaces\" must hold strings"));
      }
      std::string ns(item.get_string());
      if (!store.Exists(ns)) {
        return ErrorResponse(
            Status(ErrorCode::kNamespaceNotFound, "namespace '" + ns + "' does not exist"));
      }
      list.push_back(std::move(ns));
    }
    std::string group(name->get_string());
    if (Status put = (*groups)->Put(group, list); !put.ok()) {
      return ErrorResponse(put);
    }
    return JsonResponse(201,
                        {{"name", group}, {"namespaces", Strings(*(*groups)->Members(group))}});
  }
  // "/<group>" or "/<group>/migrations"
  std::string_view tail = rest.substr(1);
  size_t slash = tail.find('/');
  std::string group(tail.substr(0, slash));
  std::string_view action = slash == std::string_view::npos ? "" : tail.substr(slash);
  if (action.empty() && method == "DELETE") {
    Status deleted = (*groups)->Delete(group);
    return deleted.ok() ? JsonResponse(200, {{"deleted", group}}) : ErrorResponse(deleted);
  }
  if (action != "" && action != "/migrations") {
    return ErrorResponse(
        Status(ErrorCode::kNotFound,
               "no admin route " + method + " /admin/v1/groups/" + std::string(tail)));
  }
  auto members = (*groups)->Members(group);
  if (!members.ok()) {
    return ErrorResponse(members.status());
  }
  if (method == "GET") {
    json::array list;
    for (const auto& ns : schema::GroupStatus(store, *members, nullptr, ReadWriteAccess)) {
      list.push_back(schema::NamespaceMigrationsJson(ns));
    }
    return JsonResponse(200, {{"name", group}, {"namespaces", std::move(list)}});
  }
  if (method != "POST" || action != "/migrations") {
    return ErrorResponse(Status(ErrorCode::kMethodNotAllowed,
                                "use GET on /groups/<group>, GET or POST on its /migrations"));
  }
  auto body = ObjectBody(request);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  bool force = false;
  auto set = schema::MigrationSetFromJson(*body, &force);
  if (!set.ok()) {
    return ErrorResponse(set.status());
  }
  if (Status snapshots = CheckSnapshots(*set); !snapshots.ok()) {
    return ErrorResponse(snapshots);
  }
  std::lock_guard lock(group_stores.apply_mutex());
  schema::GroupRun run =
      schema::ApplyToGroup(store, *members, *set, {.force = force}, ReadWriteAccess);
  json::array list;
  for (const auto& ns : run.namespaces) {
    if (!ns.applied_now.empty()) {
      schema_changes.Notify(ns.ns);
    }
    list.push_back(schema::NamespaceMigrationsJson(ns));
  }
  json::object out{{"name", group},
                   {"format", schema::FormatName(set->format)},
                   {"namespaces", std::move(list)}};
  if (!run.status.ok()) {
    out.emplace("phase", run.phase);
    out.emplace("failed_namespace", run.failed_namespace);
    out.emplace("failure",
                run.failure ? json::value(schema::FailureJson(*run.failure)) : json::value());
    return FailureResponse(run.status, std::move(out));
  }
  return JsonResponse(200, out);
}

}  // namespace

GroupStores::GroupStores(std::filesystem::path file) : file_(std::move(file)) {}
GroupStores::~GroupStores() = default;

Result<schema::GroupStore*> GroupStores::Get() {
  std::lock_guard lock(mutex_);
  if (store_ == nullptr) {
    QUARRY_ASSIGN_OR_RETURN(store_, schema::GroupStore::Open(file_));
  }
  return store_.get();
}

void AddMigrationRoutes(AdminRoutes& routes, storage::NamespaceStore& store, GroupStores& groups,
                        SchemaChanges& schema_changes) {
  for (const char* method : {"GET", "POST"}) {
    routes.Add(method, "/namespaces/{ns}/migrations",
               [&store, &schema_changes](const http::Request& request, const PathParams& params) {
                 return NamespaceMigrations(request, params.Get("ns"), "", store, schema_changes);
               });
  }
  routes.Add("POST", "/namespaces/{ns}/migrations/down",
             [&store, &schema_changes](const http::Request& request, const PathParams& params) {
               return NamespaceMigrations(request, params.Get("ns"), "/down", store,
                                          schema_changes);
             });
  // GroupRoutes takes the path after "/groups".
  for (const char* method : {"GET", "POST"}) {
    routes.Add(method, "/groups",
               [&store, &groups, &schema_changes](const http::Request& request, const PathParams&) {
                 return GroupRoutes(request, "", store, groups, schema_changes);
               });
    routes.Add(
        method, "/groups/{group}/migrations",
        [&store, &groups, &schema_changes](const http::Request& request, const PathParams& params) {
          return GroupRoutes(request, "/" + params.Get("group") + "/migrations", store, groups,
                             schema_changes);
        });
  }
  for (const char* method : {"GET", "DELETE"}) {
    routes.Add(
        method, "/groups/{group}",
        [&store, &groups, &schema_changes](const http::Request& request, const PathParams& params) {
          return GroupRoutes(request, "/" + params.Get("group"), store, groups, schema_changes);
        });
  }
}

}  // namespace quarry::server
