#include "query/data_api.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "query/aggregate.h"
#include "query/plan_cache.h"
#include "query/read.h"
#include "query/write.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

constexpr std::pair<std::string_view, Operation> kOperations[] = {
    {"findMany", Operation::kFindMany},
    {"findFirst", Operation::kFindFirst},
    {"findUnique", Operation::kFindUnique},
    {"findFirstOrThrow", Operation::kFindFirstOrThrow},
    {"findUniqueOrThrow", Operation::kFindUniqueOrThrow},
    {"findManyAndCount", Operation::kFindManyAndCount},
    {"findManyCursor", Operation::kFindManyCursor},
    {"count", Operation::kCount},
    {"exists", Operation::kExists},
    {"aggregate", Operation::kAggregate},
    {"groupBy", Operation::kGroupBy},
    {"search", Operation::kSearch},
    {"create", Operation::kCreate},
    {"createMany", Operation::kCreateMany},
    {"update", Operation::kUpdate},
    {"updateMany", Operation::kUpdateMany},
    {"upsert", Operation::kUpsert},
    {"upsertMany", Operation::kUpsertMany},
    {"delete", Operation::kDelete},
    {"deleteMany", Operation::kDeleteMany},
    {"remove", Operation::kRemove},
    {"removeMany", Operation::kRemoveMany},
    {"restore", Operation::kRestore},
};

std::string OperationList() {
  std::string list;
  for (auto [name, op] : kOperations) {
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  return list;
}

std::optional<ReadOp> AsRead(Operation op) {
  switch (op) {
    case Operation::kFindMany:
      return ReadOp::kFindMany;
    case Operation::kFindFirst:
      return ReadOp::kFindFirst;
    case Operation::kFindUnique:
      return ReadOp::kFindUnique;
    case Operation::kFindFirstOrThrow:
      return ReadOp::kFindFirstOrThrow;
    case Operation::kFindUniqueOrThrow:
      return ReadOp::kFindUniqueOrThrow;
    case Operation::kFindManyAndCount:
      return ReadOp::kFindManyAndCount;
    case Operation::kFindManyCursor:
      return ReadOp::kFindManyCursor;
    case Operation::kCount:
      return ReadOp::kCount;
    case Operation::kExists:
      return ReadOp::kExists;
    default:
      return std::nullopt;
  }
}

std::optional<WriteOp> AsWrite(Operation op) {
  switch (op) {
    case Operation::kCreate:
      return WriteOp::kCreate;
    case Operation::kCreateMany:
      return WriteOp::kCreateMany;
    case Operation::kUpdate:
      return WriteOp::kUpdate;
    case Operation::kUpdateMany:
      return WriteOp::kUpdateMany;
    case Operation::kUpsert:
      return WriteOp::kUpsert;
    case Operation::kUpsertMany:
      return WriteOp::kUpsertMany;
    case Operation::kDelete:
      return WriteOp::kDelete;
    case Operation::kDeleteMany:
      return WriteOp::kDeleteMany;
    case Operation::kRemove:
      return WriteOp::kRemove;
    case Operation::kRemoveMany:
      return WriteOp::kRemoveMany;
    case Operation::kRestore:
      return WriteOp::kRestore;
    default:
      return std::nullopt;
  }
}

Result<std::string> Dispatch(CompileContext& ctx, const schema::Model& model, Operation op,
                             const json::object& args, SqlRunner& runner) {
  if (auto read = AsRead(op)) {
    QUARRY_ASSIGN_OR_RETURN(CompiledRead compiled,
                            ctx.plans != nullptr ? ctx.plans->CompileRead(ctx, model, *read, args)
                                                 : CompileRead(ctx, model, *read, args));
    return RunRead(ctx, compiled, runner);
  }
  if (auto write = AsWrite(op)) {
    return RunWrite(ctx, model, *write, args, runner);
  }
  switch (op) {
    case Operation::kAggregate:
      return RunAggregate(ctx, model, args, runner);
    case Operation::kGroupBy:
      return RunGroupBy(ctx, model, args, runner);
    case Operation::kSearch:
      return RunSearch(ctx, model, args, runner);
    default:
      return Status(ErrorCode::kInternal, "unhandled operation");
  }
}

Result<Operation> OperationArg(std::string_view name, const std::string& path) {
  auto op = ParseOperation(name);
  if (!op) {
    return ArgError(path,
                    "unknown operation '" + std::string(name) + "' (" + OperationList() + ")");
  }
  return *op;
}

bool IsAggregateKey(std::string_view key) { return key.size() > 1 && key[0] == '_'; }

}  // namespace

std::optional<Operation> ParseOperation(std::string_view name) {
  for (auto [n, op] : kOperations) {
    if (n == name) {
      return op;
    }
  }
  return std::nullopt;
}

std::string_view OperationName(Operation op) {
  for (auto [n, o] : kOperations) {
    if (o == op) {
      return n;
    }
  }
  return "?";
}

bool IsWrite(Operation op) { return AsWrite(op).has_value(); }

json::object ErrorObject(const Status& status) {
  json::object error;
  error["code"] = status.WireCode();
  error["message"] = status.message();
  if (status.path().empty()) {
    error["path"] = nullptr;
  } else {
    error["path"] = status.path();
  }
  return error;
}

Result<const schema::Model*> FindModel(const schema::Schema& schema, std::string_view name,
                                       const std::string& path) {
  if (const schema::Model* m = schema.FindModel(std::string(name))) {
    return m;
  }
  std::string list;
  for (const schema::Model& m : schema.models) {
    list += (list.empty() ? "" : ", ") + m.name;
  }
  return ArgError(path, "unknown model '" + std::string(name) +
                            "' (models: " + (list.empty() ? "none" : list) + ")");
}

Status PrefixPath(const Status& status, const std::string& prefix) {
  if (status.ok() || prefix.empty()) {
    return status;
  }
  std::string path = status.path().empty() ? prefix : prefix + "." + status.path();
  std::string message = status.message();
  if (!status.path().empty() && message.starts_with(status.path() + ": ")) {
    message = path + message.substr(status.path().size());
  } else {
    message = prefix + ": " + message;
  }
  return Status(status.code(), std::move(message), status.sqlite_code()).WithPath(path);
}

Result<std::string> RunOperation(CompileContext& ctx, std::string_view model_name,
                                 std::string_view op_name, const json::value& args,
                                 SqlRunner& runner) {
  QUARRY_ASSIGN_OR_RETURN(const schema::Model* model, FindModel(ctx.schema, model_name, ""));
  QUARRY_ASSIGN_OR_RETURN(Operation op, OperationArg(op_name, ""));
  static const json::object kNoArgs;
  if (!args.is_object() && !args.is_null()) {
    return ArgError("", "the body is the operation's arguments: a JSON object");
  }
  return Dispatch(ctx, *model, op, args.is_object() ? args.get_object() : kNoArgs, runner);
}

Result<std::string> RunQuerySpec(CompileContext& ctx, const json::value& spec, SqlRunner& runner) {
  if (!spec.is_object()) {
    return ArgError("", "expected {\"<name>\": {arguments}, ...}");
  }
  std::string out = "{";
  bool first = true;
  for (const auto& [key_view, entry] : spec.get_object()) {
    std::string key(key_view);
    if (!entry.is_object()) {
      return ArgError(key, "expected the entry's arguments object");
    }
    // The entry without model and op, in its own order (aggregates answer in request order;
    // json::object::erase would move the last member into the hole).
    json::object args;
    for (const auto& kv : entry.get_object()) {
      if (kv.key() != "model" && kv.key() != "op") {
        args.emplace(kv.key(), kv.value());
      }
    }
    const json::object& given = entry.get_object();
    std::string model_name = key;
    if (const json::value* m = given.if_contains("model")) {
      if (!m->is_string()) {
        return ArgError(JoinPath(key, "model"), "expected a model name");
      }
      model_name = std::string(m->get_string());
    }
    auto model =
        FindModel(ctx.schema, model_name, JoinPath(key, args.contains("model") ? "model" : ""));
    if (!model.ok()) {
      return PrefixPath(model.status(),
                        entry.get_object().contains("model") ? key + ".model" : key);
    }
    Operation op = Operation::kFindMany;
    if (const json::value* o = given.if_contains("op")) {
      if (!o->is_string()) {
        return ArgError(JoinPath(key, "op"), "expected an operation name");
      }
      QUARRY_ASSIGN_OR_RETURN(op, OperationArg(o->get_string(), JoinPath(key, "op")));
    } else if (args.contains("by")) {
      op = Operation::kGroupBy;
    } else if (std::any_of(args.begin(), args.end(),
                           [](const auto& kv) { return IsAggregateKey(kv.key()); })) {
      op = Operation::kAggregate;
    }
    if (IsWrite(op)) {
      return ArgError(JoinPath(key, "op"), "/v1/query reads; send writes to /v1/transaction");
    }
    auto result = Dispatch(ctx, **model, op, args, runner);
    if (!result.ok()) {
      return PrefixPath(result.status(), key);
    }
    out += first ? "" : ",";
    first = false;
    out += json::serialize(json::value(json::string_view(key))) + ":" + *result;
  }
  return out + "}";
}

Result<std::string> RunTransaction(CompileContext& ctx, const json::value& body,
                                   SqlRunner& runner) {
  const json::value* ops = body.is_object() ? body.get_object().if_contains("ops") : nullptr;
  if (ops == nullptr || !ops->is_array()) {
    return ArgError("ops", "expected {\"ops\": [{\"model\", \"op\", \"args\"}, ...]}");
  }
  std::string out = "[";
  const json::array& list = ops->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    std::string path = JoinPath("ops", std::to_string(i));
    if (!list[i].is_object()) {
      return ArgError(path, "expected {\"model\", \"op\", \"args\"}");
    }
    const json::object& entry = list[i].get_object();
    QUARRY_RETURN_IF_ERROR(CheckKeys(entry, {"model", "op", "args"}, path, "a transaction op"));
    const json::value* model_name = entry.if_contains("model");
    const json::value* op_name = entry.if_contains("op");
    if (model_name == nullptr || !model_name->is_string()) {
      return ArgError(JoinPath(path, "model"), "expected a model name");
    }
    if (op_name == nullptr || !op_name->is_string()) {
      return ArgError(JoinPath(path, "op"), "expected an operation name");
    }
    QUARRY_ASSIGN_OR_RETURN(
        const schema::Model* model,
        FindModel(ctx.schema, model_name->get_string(), JoinPath(path, "model")));
    QUARRY_ASSIGN_OR_RETURN(Operation op,
                            OperationArg(op_name->get_string(), JoinPath(path, "op")));
    static const json::object kNoArgs;
    const json::value* args = entry.if_contains("args");
    if (args != nullptr && !args->is_object() && !args->is_null()) {
      return ArgError(JoinPath(path, "args"), "expected the operation's arguments object");
    }
    auto result =
        Dispatch(ctx, *model, op,
                 args != nullptr && args->is_object() ? args->get_object() : kNoArgs, runner);
    if (!result.ok()) {
      return PrefixPath(result.status(), JoinPath(path, "args"));
    }
    out += (i ? "," : "") + *result;
  }
  return out + "]";
}

}  // namespace quarry::query
