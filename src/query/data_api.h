#pragma once

// The data API's operations: one model operation, a multi-model read in one snapshot, and an
// all-or-nothing list of writes. Each returns the `data` member's JSON text; errors carry the
// argument's path. Transactions are the caller's: RunOperation and RunQuerySpec expect a read
// transaction (or none) when nothing writes, RunTransaction and writes a write transaction, and
// every error means roll back.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "query/compile_context.h"
#include "query/sql_runner.h"

namespace quarry::query {

enum class Operation {
  kFindMany,
  kFindFirst,
  kFindUnique,
  kFindFirstOrThrow,
  kFindUniqueOrThrow,
  kFindManyAndCount,
  kFindManyCursor,
  kCount,
  kExists,
  kAggregate,
  kGroupBy,
  kSearch,
  kCreate,
  kCreateMany,
  kUpdate,
  kUpdateMany,
  kUpsert,
  kUpsertMany,
  kDelete,
  kDeleteMany,
  kRemove,
  kRemoveMany,
  kRestore,
};

std::optional<Operation> ParseOperation(std::string_view name);
std::string_view OperationName(Operation op);
bool IsWrite(Operation op);

// The data API's error object, {"code", "message", "path"} ("path" null when the error is not
// about one argument): the body of an HTTP error and of a realtime error message alike.
boost::json::object ErrorObject(const Status& status);

// kInvalidArgument naming the models when `name` is not one of the schema.
Result<const schema::Model*> FindModel(const schema::Schema& schema, std::string_view name,
                                       const std::string& path);

// POST /v1/<model>/<op>.
Result<std::string> RunOperation(CompileContext& ctx, std::string_view model, std::string_view op,
                                 const boost::json::value& args, SqlRunner& runner);

// POST /v1/query: {"<key>": {args, "model"?, "op"?}, ...}, every entry a read.
Result<std::string> RunQuerySpec(CompileContext& ctx, const boost::json::value& spec,
                                 SqlRunner& runner);

// POST /v1/transaction: {"ops": [{"model", "op", "args"}, ...]}.
Result<std::string> RunTransaction(CompileContext& ctx, const boost::json::value& body,
                                   SqlRunner& runner);

// `status` with `prefix` put before its path (and the path in its message).
Status PrefixPath(const Status& status, const std::string& prefix);

}  // namespace quarry::query
