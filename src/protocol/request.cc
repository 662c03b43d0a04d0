#include "protocol/request.h"

#include <boost/json.hpp>

namespace quarry::protocol {
namespace json = boost::json;

namespace {

Status Invalid(const std::string& where, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, where + ": " + what);
}

Result<const json::object*> AsObject(const json::value& jv, const std::string& where) {
  const json::object* obj = jv.if_object();
  if (obj == nullptr) {
    return Invalid(where, std::string("expected an object, got ") + JsonTypeName(jv));
  }
  return obj;
}

// An optional field of the given JSON kind; null counts as absent.
Result<const json::value*> Field(const json::object& obj, std::string_view name, json::kind kind,
                                 const std::string& where) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) {
    return static_cast<const json::value*>(nullptr);
  }
  bool matches = v->kind() == kind || (kind == json::kind::int64 && v->is_uint64());
  if (!matches) {
    return Invalid(where + "." + std::string(name),
                   std::string("has the wrong type ") + JsonTypeName(*v));
  }
  return v;
}

Result<std::optional<std::string>> OptionalString(const json::object& obj, std::string_view name,
                                                  const std::string& where) {
  QUARRY_ASSIGN_OR_RETURN(const json::value* v, Field(obj, name, json::kind::string, where));
  if (v == nullptr) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<std::optional<int64_t>> OptionalInt(const json::object& obj, std::string_view name,
                                           const std::string& where) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) {
    return std::optional<int64_t>();
  }
  if (v->is_int64()) {
    return std::optional<int64_t>(v->get_int64());
  }
  if (v->is_uint64() && v->get_uint64() <= INT64_MAX) {
    return std::optional<int64_t>(static_cast<int64_t>(v->get_uint64()));
  }
  return Invalid(where + "." + std::string(name),
                 std::string("expected an integer, got ") + JsonTypeName(*v));
}

Result<StmtSpec> ParseStmt(const json::value& jv, const std::string& where) {
  QUARRY_ASSIGN_OR_RETURN(const json::object* obj, AsObject(jv, where));
  StmtSpec stmt;
  QUARRY_ASSIGN_OR_RETURN(stmt.sql, OptionalString(*obj, "sql", where));
  QUARRY_ASSIGN_OR_RETURN(stmt.sql_id, OptionalInt(*obj, "sql_id", where));
  if (stmt.sql.has_value() == stmt.sql_id.has_value()) {
    return Status(ErrorCode::kSqlConflict,
                  where + ": exactly one of \"sql\" and \"sql_id\" must be given");
  }
  QUARRY_ASSIGN_OR_RETURN(const json::value* args, Field(*obj, "args", json::kind::array, where));
  if (args != nullptr) {
    const json::array& arr = args->get_array();
    stmt.args.reserve(arr.size());
    for (size_t i = 0; i < arr.size(); ++i) {
      QUARRY_ASSIGN_OR_RETURN(Value value,
                              ValueFromJson(arr[i], where + ".args[" + std::to_string(i) + "]"));
      stmt.args.push_back(std::move(value));
    }
  }
  QUARRY_ASSIGN_OR_RETURN(const json::value* named,
                          Field(*obj, "named_args", json::kind::array, where));
  if (named != nullptr) {
    const json::array& arr = named->get_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string item_where = where + ".named_args[" + std::to_string(i) + "]";
      QUARRY_ASSIGN_OR_RETURN(const json::object* item, AsObject(arr[i], item_where));
      QUARRY_ASSIGN_OR_RETURN(auto name, OptionalString(*item, "name", item_where));
      if (!name) {
        return Invalid(item_where, "missing string field \"name\"");
      }
      const json::value* value = item->if_contains("value");
      if (value == nullptr) {
        return Invalid(item_where, "missing field \"value\"");
      }
      QUARRY_ASSIGN_OR_RETURN(Value parsed, ValueFromJson(*value, item_where + ".value"));
      stmt.named_args.emplace_back(std::move(*name), std::move(parsed));
    }
  }
  QUARRY_ASSIGN_OR_RETURN(const json::value* want_rows,
                          Field(*obj, "want_rows", json::kind::bool_, where));
  if (want_rows != nullptr) {
    stmt.want_rows = want_rows->get_bool();
  }
  return stmt;
}

Result<Condition> ParseCondition(const json::value& jv, const std::string& where, size_t step_index,
                                 int depth) {
  if (depth > 64) {
    return Invalid(where, "condition nested too deeply");
  }
  QUARRY_ASSIGN_OR_RETURN(const json::object* obj, AsObject(jv, where));
  QUARRY_ASSIGN_OR_RETURN(auto type, OptionalString(*obj, "type", where));
  if (!type) {
    return Invalid(where, "missing string field \"type\"");
  }
  Condition cond;
  if (*type == "ok" || *type == "error") {
    cond.kind = *type == "ok" ? Condition::Kind::kOk : Condition::Kind::kError;
    QUARRY_ASSIGN_OR_RETURN(auto step, OptionalInt(*obj, "step", where));
    if (!step) {
      return Invalid(where, "missing integer field \"step\"");
    }
    if (*step < 0 || static_cast<size_t>(*step) >= step_index) {
      return Invalid(
          where, "step " + std::to_string(*step) + " does not name an earlier step of the batch");
    }
    cond.step = static_cast<size_t>(*step);
  } else if (*type == "not") {
    cond.kind = Condition::Kind::kNot;
    const json::value* inner = obj->if_contains("cond");
    if (inner == nullptr) {
      return Invalid(where, "missing field \"cond\"");
    }
    QUARRY_ASSIGN_OR_RETURN(Condition parsed,
                            ParseCondition(*inner, where + ".cond", step_index, depth + 1));
    cond.conds.push_back(std::move(parsed));
  } else if (*type == "and" || *type == "or") {
    cond.kind = *type == "and" ? Condition::Kind::kAnd : Condition::Kind::kOr;
    QUARRY_ASSIGN_OR_RETURN(const json::value* conds,
                            Field(*obj, "conds", json::kind::array, where));
    if (conds == nullptr) {
      return Invalid(where, "missing array field \"conds\"");
    }
    const json::array& arr = conds->get_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      QUARRY_ASSIGN_OR_RETURN(Condition parsed,
                              ParseCondition(arr[i], where + ".conds[" + std::to_string(i) + "]",
                                             step_index, depth + 1));
      cond.conds.push_back(std::move(parsed));
    }
  } else if (*type == "is_autocommit") {
    cond.kind = Condition::Kind::kIsAutocommit;
  } else {
    return Invalid(where, "unknown condition type \"" + *type + "\"");
  }
  return cond;
}

}  // namespace

Result<BatchSpec> ParseBatch(const json::value& jv, const std::string& where) {
  QUARRY_ASSIGN_OR_RETURN(const json::object* obj, AsObject(jv, where));
  QUARRY_ASSIGN_OR_RETURN(const json::value* steps, Field(*obj, "steps", json::kind::array, where));
  if (steps == nullptr) {
    return Invalid(where, "missing array field \"steps\"");
  }
  BatchSpec batch;
  const json::array& arr = steps->get_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string step_where = where + ".steps[" + std::to_string(i) + "]";
    QUARRY_ASSIGN_OR_RETURN(const json::object* step_obj, AsObject(arr[i], step_where));
    BatchStep step;
    const json::value* cond = step_obj->if_contains("condition");
    if (cond != nullptr && !cond->is_null()) {
      QUARRY_ASSIGN_OR_RETURN(Condition parsed,
                              ParseCondition(*cond, step_where + ".condition", i, 0));
      step.condition = std::move(parsed);
    }
    const json::value* stmt = step_obj->if_contains("stmt");
    if (stmt == nullptr) {
      return Invalid(step_where, "missing field \"stmt\"");
    }
    QUARRY_ASSIGN_OR_RETURN(step.stmt, ParseStmt(*stmt, step_where + ".stmt"));
    batch.steps.push_back(std::move(step));
  }
  return batch;
}

Result<Request> ParseRequest(const json::value& jv, const std::string& where) {
  QUARRY_ASSIGN_OR_RETURN(const json::object* obj, AsObject(jv, where));
  QUARRY_ASSIGN_OR_RETURN(auto type, OptionalString(*obj, "type", where));
  if (!type) {
    return Invalid(where, "missing string field \"type\"");
  }
  Request req;
  auto sql_and_id = [&](bool need_one) -> Status {
    QUARRY_ASSIGN_OR_RETURN(req.sql, OptionalString(*obj, "sql", where));
    QUARRY_ASSIGN_OR_RETURN(req.sql_id, OptionalInt(*obj, "sql_id", where));
    if (need_one && req.sql.has_value() == req.sql_id.has_value()) {
      return Status(ErrorCode::kSqlConflict,
                    where + ": exactly one of \"sql\" and \"sql_id\" must be given");
    }
    return Status::Ok();
  };
  if (*type == "execute") {
    req.type = Request::Type::kExecute;
    const json::value* stmt = obj->if_contains("stmt");
    if (stmt == nullptr) {
      return Invalid(where, "missing field \"stmt\"");
    }
    QUARRY_ASSIGN_OR_RETURN(req.stmt, ParseStmt(*stmt, where + ".stmt"));
  } else if (*type == "batch") {
    req.type = Request::Type::kBatch;
    const json::value* batch = obj->if_contains("batch");
    if (batch == nullptr) {
      return Invalid(where, "missing field \"batch\"");
    }
    QUARRY_ASSIGN_OR_RETURN(req.batch, ParseBatch(*batch, where + ".batch"));
  } else if (*type == "sequence") {
    req.type = Request::Type::kSequence;
    QUARRY_RETURN_IF_ERROR(sql_and_id(true));
  } else if (*type == "describe") {
    req.type = Request::Type::kDescribe;
    QUARRY_RETURN_IF_ERROR(sql_and_id(true));
  } else if (*type == "store_sql") {
    req.type = Request::Type::kStoreSql;
    QUARRY_RETURN_IF_ERROR(sql_and_id(false));
    if (!req.sql || !req.sql_id) {
      return Invalid(where, "store_sql needs both \"sql_id\" and \"sql\"");
    }
  } else if (*type == "close_sql") {
    req.type = Request::Type::kCloseSql;
    QUARRY_RETURN_IF_ERROR(sql_and_id(false));
    if (!req.sql_id) {
      return Invalid(where, "close_sql needs \"sql_id\"");
    }
  } else if (*type == "close") {
    req.type = Request::Type::kClose;
  } else if (*type == "get_autocommit") {
    req.type = Request::Type::kGetAutocommit;
  } else {
    return Status(ErrorCode::kUnknownRequest, where + ": unknown request type \"" + *type + "\"");
  }
  return req;
}

namespace {

Result<const json::object*> BodyObject(const json::value& body) {
  return AsObject(body, "request body");
}

}  // namespace

const char* JsonTypeName(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "unknown";
}

Result<PipelineRequest> ParsePipelineRequest(const json::value& body) {
  QUARRY_ASSIGN_OR_RETURN(const json::object* obj, BodyObject(body));
  PipelineRequest pipeline;
  QUARRY_ASSIGN_OR_RETURN(pipeline.baton, OptionalString(*obj, "baton", "request body"));
  QUARRY_ASSIGN_OR_RETURN(const json::value* requests,
                          Field(*obj, "requests", json::kind::array, "request body"));
  if (requests == nullptr) {
    return Invalid("request body", "missing array field \"requests\"");
  }
  const json::array& arr = requests->get_array();
  pipeline.requests.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    QUARRY_ASSIGN_OR_RETURN(Request req,
                            ParseRequest(arr[i], "requests[" + std::to_string(i) + "]"));
    pipeline.requests.push_back(std::move(req));
  }
  return pipeline;
}

Result<CursorRequest> ParseCursorRequest(const json::value& body) {
  QUARRY_ASSIGN_OR_RETURN(const json::object* obj, BodyObject(body));
  CursorRequest cursor;
  QUARRY_ASSIGN_OR_RETURN(cursor.baton, OptionalString(*obj, "baton", "request body"));
  const json::value* batch = obj->if_contains("batch");
  if (batch == nullptr) {
    return Invalid("request body", "missing field \"batch\"");
  }
  QUARRY_ASSIGN_OR_RETURN(cursor.batch, ParseBatch(*batch, "batch"));
  return cursor;
}

Result<LegacyRequest> ParseLegacyRequest(const json::value& body) {
  QUARRY_ASSIGN_OR_RETURN(const json::object* obj, BodyObject(body));
  QUARRY_ASSIGN_OR_RETURN(const json::value* statements,
                          Field(*obj, "statements", json::kind::array, "request body"));
  if (statements == nullptr) {
    return Invalid("request body", "missing array field \"statements\"");
  }
  LegacyRequest legacy;
  const json::array& arr = statements->get_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string where = "statements[" + std::to_string(i) + "]";
    StmtSpec stmt;
    if (arr[i].is_string()) {
      stmt.sql = std::string(arr[i].get_string());
    } else {
      QUARRY_ASSIGN_OR_RETURN(const json::object* item, AsObject(arr[i], where));
      QUARRY_ASSIGN_OR_RETURN(stmt.sql, OptionalString(*item, "q", where));
      if (!stmt.sql) {
        return Invalid(where, "missing string field \"q\"");
      }
      const json::value* params = item->if_contains("params");
      if (params != nullptr && params->is_array()) {
        const json::array& ps = params->get_array();
        for (size_t k = 0; k < ps.size(); ++k) {
          QUARRY_ASSIGN_OR_RETURN(
              Value v, ValueFromPlainJson(ps[k], where + ".params[" + std::to_string(k) + "]"));
          stmt.args.push_back(std::move(v));
        }
      } else if (params != nullptr && params->is_object()) {
        for (const auto& [name, value] : params->get_object()) {
          QUARRY_ASSIGN_OR_RETURN(
              Value v, ValueFromPlainJson(value, where + ".params." + std::string(name)));
          stmt.named_args.emplace_back(std::string(name), std::move(v));
        }
      } else if (params != nullptr && !params->is_null()) {
        return Invalid(where + ".params", "expected an array or an object");
      }
    }
    legacy.statements.push_back(std::move(stmt));
  }
  return legacy;
}

}  // namespace quarry::protocol
