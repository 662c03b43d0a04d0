#pragma once

// DataApi: the JSON data API's HTTP side (docs/data-api.md). It turns a request into an
// identity and a schema, opens the transaction the operation needs on a connection of the
// namespace, runs the query layer's compiled statements there, and answers
//   200 {"data": <result>}   or   <status> {"error": {"code", "message", "path"}}.
//
//   POST /db/<ns>/v1/<model>/<op>    one operation
//   POST /db/<ns>/v1/query           many reads in one read transaction (one snapshot)
//   POST /db/<ns>/v1/transaction     many writes, all or nothing
//
// Service tokens run with policies bypassed (an `ro` token only reads); user tokens run under
// the recorded schema's policies, and are refused where no schema is recorded. Runs on a
// worker thread; thread-safe.

#include <string>
#include <string_view>

#include "auth/token.h"
#include "common/clock.h"
#include "http/message.h"
#include "query/plan_cache.h"
#include "server/schema_registry.h"
#include "storage/namespace_store.h"

namespace quarry::server {

class DataApi {
 public:
  enum class Kind { kOperation, kQuery, kTransaction };

  // `cursor_key`: the secret findManyCursor cursors are signed with.
  DataApi(storage::NamespaceStore& store, SchemaRegistry& schemas, std::string cursor_key,
          const Clock& clock, size_t max_result_bytes);

  // `model`/`op` only for kOperation.
  http::Response Handle(Kind kind, const http::Request& request, const std::string& ns,
                        const auth::Claims& claims, std::string_view model = {},
                        std::string_view op = {});

  const query::PlanCache& plans() const { return plans_; }

 private:
  storage::NamespaceStore& store_;
  SchemaRegistry& schemas_;
  const std::string cursor_key_;
  const Clock& clock_;
  const size_t max_result_bytes_;
  query::PlanCache plans_;
};

// The data API's error body: {"error": {"code", "message", "path"}} ("path" null when the
// error is not about one argument).
http::Response DataErrorResponse(const Status& status);

}  // namespace quarry::server
