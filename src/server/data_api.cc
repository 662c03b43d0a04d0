#include "server/data_api.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "auth/hmac.h"
#include "protocol/json_body.h"
#include "query/connection_runner.h"
#include "query/data_api.h"
#include "server/routes.h"
#include "storage/execute.h"

namespace quarry::server {
namespace {

namespace json = boost::json;

query::Identity IdentityOf(const auth::Claims& claims) {
  if (claims.user) {
    return query::Identity::User(*claims.user);
  }
  return query::Identity::Service(claims.CanWrite());
}

}  // namespace

http::Response DataErrorResponse(const Status& status) {
  json::object body;
  body["error"] = query::ErrorObject(status);
  return JsonResponse(status.HttpStatus(), body);
}

DataApi::DataApi(storage::NamespaceStore& store, SchemaRegistry& schemas, std::string cursor_key,
                 const Clock& clock, size_t max_result_bytes)
    : store_(store),
      schemas_(schemas),
      cursor_key_(std::move(cursor_key)),
      clock_(clock),
      max_result_bytes_(max_result_bytes) {}

http::Response DataApi::Handle(Kind kind, const http::Request& request, const std::string& ns,
                               const auth::Claims& claims, std::string_view model,
                               std::string_view op) {
  json::value args;
  if (!request.body.empty()) {
    auto parsed = protocol::ParseJsonBody(request.body);
    if (!parsed.ok()) {
      return DataErrorResponse(parsed.status());
    }
    args = std::move(*parsed);
  }
  bool writes = kind == Kind::kTransaction;
  if (kind == Kind::kOperation) {
    auto parsed_op = query::ParseOperation(op);
    writes = parsed_op && query::IsWrite(*parsed_op);
  }
  query::Identity identity = IdentityOf(claims);
  if (writes && identity.system() && !identity.can_write) {
    return DataErrorResponse(Status(ErrorCode::kForbidden, "a read-only token cannot write"));
  }
  auto db = store_.Get(ns);
  if (!db.ok()) {
    return DataErrorResponse(db.status());
  }
  auto lease =
      (*db)->Acquire(writes ? storage::AccessMode::kReadWrite : storage::AccessMode::kReadOnly);
  if (!lease.ok()) {
    return DataErrorResponse(lease.status());
  }
  storage::Connection& conn = **lease;
  auto served = schemas_.Get(ns, conn);
  if (!served.ok()) {
    return DataErrorResponse(served.status());
  }
  if (!(*served)->recorded && !identity.system()) {
    return DataErrorResponse(
        Status(ErrorCode::kForbidden,
               "namespace '" + ns +
                   "' has no recorded schema, so it has no policies a user token could run under; "
                   "record one with `quarry migrate push --schema FILE --db " +
                   ns + "`"));
  }
  const std::string key = cursor_key_;
  query::CompileContext ctx{
      (*served)->schema, identity, query::IsoNow(clock_.SystemNow()),
      [key](std::string_view payload) { return auth::HmacSha256(key, payload).substr(0, 16); }};
  ctx.plans = &plans_;
  ctx.schema_generation = (*served)->generation;
  query::ConnectionRunner runner(conn, max_result_bytes_);
  const bool transaction = writes || kind == Kind::kQuery;
  if (transaction) {
    Status begin = conn.Exec(writes ? "BEGIN IMMEDIATE" : "BEGIN");
    if (!begin.ok()) {
      return DataErrorResponse(begin);
    }
  }
  Result<std::string> result = Status(ErrorCode::kInternal, "unreachable");
  switch (kind) {
    case Kind::kOperation:
      result = query::RunOperation(ctx, model, op, args, runner);
      break;
    case Kind::kQuery:
      result = query::RunQuerySpec(ctx, args, runner);
      break;
    case Kind::kTransaction:
      result = query::RunTransaction(ctx, args, runner);
      break;
  }
  if (transaction) {
    if (result.ok()) {
      Status commit = conn.Exec("COMMIT");
      if (!commit.ok()) {
        conn.RollbackIfOpen().PermitUncheckedError();
        return DataErrorResponse(commit);
      }
    } else {
      conn.RollbackIfOpen().PermitUncheckedError();
    }
  }
  if (!result.ok()) {
    return DataErrorResponse(result.status());
  }
  std::string body;
  body.reserve(result->size() + 10);
  body += "{\"data\":";
  body += *result;
  body += "}";
  return JsonResponse(200, std::move(body));
}

}  // namespace quarry::server
