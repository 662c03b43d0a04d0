#include "server/admin_schema.h"

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "auth/sql_authorizer.h"
#include "protocol/json_body.h"
#include "protocol/stream.h"
#include "schema/binder.h"
#include "schema/diff.h"
#include "schema/introspect.h"
#include "schema/parser.h"
#include "schema/recorded_schema.h"
#include "schema/schema_text.h"
#include "server/routes.h"

namespace quarry::server {

namespace json = boost::json;

namespace {

json::array Strings(const std::vector<std::string>& list) {
  json::array out;
  for (const auto& s : list) {
    out.push_back(json::value(s));
  }
  return out;
}

struct PlanRequest {
  std::string text;  // the posted schema, as posted: what push records
  schema::Schema target;
  bool allow_data_loss = false;
};

// {"schema": text, "allow_data_loss": bool} -> the bound target schema.
Result<PlanRequest> ParsePlanRequest(const http::Request& request) {
  if (request.body.empty()) {
    return Status(ErrorCode::kInvalidArgument, "request body must be a JSON object");
  }
  QUARRY_ASSIGN_OR_RETURN(json::value body, protocol::ParseJsonBody(request.body));
  if (!body.is_object()) {
    return Status(ErrorCode::kInvalidArgument, "request body must be a JSON object");
  }
  const json::object& object = body.get_object();
  const json::value* text = object.if_contains("schema");
  if (text == nullptr || !text->is_string()) {
    return Status(ErrorCode::kInvalidArgument, "request body needs a string field \"schema\"");
  }
  PlanRequest out;
  if (const json::value* loss = object.if_contains("allow_data_loss"); loss != nullptr) {
    if (!loss->is_bool()) {
      return Status(ErrorCode::kInvalidArgument, "\"allow_data_loss\" must be true or false");
    }
    out.allow_data_loss = loss->get_bool();
  }
  out.text = std::string(text->get_string());
  QUARRY_ASSIGN_OR_RETURN(out.target, schema::BindSelfContainedSchema(out.text, "schema"));
  return out;
}

// The plan from the namespace's database to the posted schema, computed on `lease`.
Result<schema::MigrationPlan> Plan(storage::Connection& conn, const PlanRequest& request) {
  QUARRY_ASSIGN_OR_RETURN(schema::IntrospectedSchema live, schema::IntrospectSchema(conn.handle()));
  schema::DiffOptions options;
  options.allow_data_loss = request.allow_data_loss;
  return schema::DiffSchemas(live.schema, request.target, options, conn.handle());
}

// GET /namespaces/<ns>/schema[?source=live]: the recorded schema when there is one (unless
// ?source=live), else the live database introspected.
http::Response GetSchema(const http::Request& request, const std::string& ns,
                         storage::NamespaceStore& store) {
  if (!request.query.empty() && request.query != "source=live") {
    return ErrorResponse(Status(ErrorCode::kInvalidArgument,
                                "unknown query \"" + request.query +
                                    "\" on /namespaces/<name>/schema (only source=live, which "
                                    "introspects the database even when a schema is recorded)"));
  }
  auto lease = ReadWriteLease(store, ns);
  if (!lease.ok()) {
    return ErrorResponse(lease.status());
  }
  if (request.query.empty()) {
    auto recorded = schema::LoadRecordedSchema((*lease)->handle());
    if (!recorded.ok()) {
      return ErrorResponse(recorded.status());
    }
    if (recorded->has_value()) {
      return JsonResponse(200, {{"namespace", ns},
                                {"schema", **recorded},
                                {"warnings", json::array()},
                                {"recorded", true}});
    }
  }
  auto live = schema::IntrospectSchema((*lease)->handle());
  if (!live.ok()) {
    return ErrorResponse(live.status());
  }
  return JsonResponse(200, {{"namespace", ns},
                            {"schema", schema::SchemaText(live->schema)},
                            {"warnings", Strings(live->warnings)},
                            {"recorded", false}});
}

http::Response SchemaRoute(const http::Request& request, const std::string& ns,
                           std::string_view action, storage::NamespaceStore& store,
                           SchemaChanges& schema_changes) {
  auto parsed = ParsePlanRequest(request);
  if (!parsed.ok()) {
    return ErrorResponse(parsed.status());
  }
  auto lease = ReadWriteLease(store, ns);
  if (!lease.ok()) {
    return ErrorResponse(lease.status());
  }
  if (action == "/plan") {
    auto plan = Plan(**lease, *parsed);
    if (!plan.ok()) {
      return ErrorResponse(plan.status());
    }
    return JsonResponse(200, {{"namespace", ns},
                              {"statements", Strings(plan->statements)},
                              {"changes", Strings(plan->changes)},
                              {"destructive", Strings(plan->destructive)}});
  }
  // Push plans, applies and records the schema under one write lock: no schema change can slip
  // in between, and the recorded schema changes with the tables or not at all.
  schema::DiffOptions options;
  options.allow_data_loss = parsed->allow_data_loss;
  sqlite3* db = (*lease)->handle();
  auto pushed = schema::PushSchema(db, parsed->target, options, nullptr,
                                   [&] { return schema::RecordSchema(db, parsed->text); });
  if (!pushed.ok()) {
    return ErrorResponse(pushed.status());
  }
  schema_changes.Notify(ns);
  return JsonResponse(
      200, {{"namespace", ns}, {"changes", Strings(pushed->changes)}, {"recorded", true}});
}

}  // namespace

void AddSchemaRoutes(AdminRoutes& routes, storage::NamespaceStore& store,
                     SchemaChanges& schema_changes) {
  routes.Add("GET", "/namespaces/{ns}/schema",
             [&store](const http::Request& request, const PathParams& params) {
               return GetSchema(request, params.Get("ns"), store);
             });
  for (const char* action : {"plan", "push"}) {
    routes.Add(
        "POST", std::string("/namespaces/{ns}/schema/") + action,
        [&store, &schema_changes, action](const http::Request& request, const PathParams& params) {
          return SchemaRoute(request, params.Get("ns"), std::string("/") + action, store,
                             schema_changes);
        });
  }
}

}  // namespace quarry::server
