#include "query/where.h"

#include <boost/json/serialize.hpp>

#include "common/sql_tokenizer.h"
#include "query/policy_sql.h"
#include "query/values.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

bool IsOperatorKey(std::string_view key) {
  static constexpr std::string_view kOperators[] = {
      "equals", "not",      "in",         "notIn",    "lt",   "lte", "gt",
      "gte",    "contains", "startsWith", "endsWith", "mode", "path"};
  for (std::string_view op : kOperators) {
    if (op == key) {
      return true;
    }
  }
  return false;
}

// The operand's SQL: the column, or a value inside a Json column.
struct Operand {
  const schema::Field* field = nullptr;
  std::string alias;
  std::optional<std::string> json_path;  // "$.a.b" when filtering inside a Json field
};

void AppendOperand(SqlBuilder& sql, const Operand& operand) {
  if (operand.json_path) {
    sql << "json_extract(";
    sql.Column(operand.alias, operand.field->column);
    sql << ", ";
    sql.Param(TextValue(*operand.json_path), ParamSource{ParamSource::Kind::kConstant});
    sql << ")";
    return;
  }
  sql.Column(operand.alias, operand.field->column);
}

bool IsJsonWhole(const Operand& operand) {
  return !operand.json_path && !operand.field->type.list &&
         operand.field->type.kind == schema::FieldType::Kind::kScalar &&
         operand.field->type.scalar == schema::ScalarType::kJson;
}

class WhereCompiler {
 public:
  WhereCompiler(CompileContext& ctx) : ctx_(ctx) {}

  Status Object(SqlBuilder& sql, const schema::Model& model, std::string_view alias,
                const json::value& where, const std::string& path) {
    if (where.is_null()) {
      sql << "1";
      return Status::Ok();
    }
    if (!where.is_object()) {
      return ArgError(path, "expected an object of conditions, got " + json::serialize(where));
    }
    const json::object& object = where.get_object();
    if (object.empty()) {
      sql << "1";
      return Status::Ok();
    }
    sql << "(";
    bool first = true;
    for (const auto& [key_view, value] : object) {
      std::string key(key_view);
      std::string sub = JoinPath(path, key);
      sql << (first ? "" : " AND ");
      first = false;
      if (key == "AND" || key == "OR" || key == "NOT") {
        QUARRY_RETURN_IF_ERROR(Logical(sql, model, alias, key, value, sub));
      } else if (key == "$raw") {
        QUARRY_RETURN_IF_ERROR(Raw(sql, value, sub));
      } else {
        const schema::Field* field = model.FindField(key);
        if (field == nullptr) {
          return ArgError(sub, "unknown field '" + key + "' of model '" + model.name + "'");
        }
        if (!field->stored()) {
          QUARRY_RETURN_IF_ERROR(Relation(sql, model, alias, *field, value, sub));
        } else {
          QUARRY_RETURN_IF_ERROR(Field(sql, model, alias, *field, value, sub));
        }
      }
    }
    sql << ")";
    return Status::Ok();
  }

 private:
  Status Logical(SqlBuilder& sql, const schema::Model& model, std::string_view alias,
                 const std::string& key, const json::value& value, const std::string& path) {
    std::vector<const json::value*> items;
    if (value.is_array()) {
      for (const json::value& item : value.get_array()) {
        items.push_back(&item);
      }
    } else if (value.is_object()) {
      items.push_back(&value);
    } else {
      return ArgError(path, key + " takes an object or an array of objects");
    }
    if (items.empty()) {
      sql << (key == "OR" ? "0" : "1");
      return Status::Ok();
    }
    sql << (key == "NOT" ? "NOT (" : "(");
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) {
        sql << (key == "OR" ? " OR " : " AND ");
      }
      std::string item_path = value.is_array() ? JoinPath(path, std::to_string(i)) : path;
      QUARRY_RETURN_IF_ERROR(Object(sql, model, alias, *items[i], item_path));
    }
    sql << ")";
    return Status::Ok();
  }

  // $raw: SQL text, ANDed in as it is, with `params` bound to its `?` placeholders in order.
  // Numbered and named placeholders are refused: they would bind out of order with the
  // statement's own parameters. So are unbalanced fragments (a `;`, an unterminated string).
  Status Raw(SqlBuilder& sql, const json::value& value, const std::string& path) {
    if (!ctx_.identity.system()) {
      return Status(ErrorCode::kForbidden,
                    path + ": $raw is SQL, and only service tokens may send SQL")
          .WithPath(path);
    }
    std::string_view text;
    const json::array* params = nullptr;
    if (value.is_string()) {
      text = value.get_string();
    } else if (value.is_object() && value.get_object().contains("sql") &&
               value.get_object().at("sql").is_string()) {
      text = value.get_object().at("sql").get_string();
      if (const json::value* p = value.get_object().if_contains("params")) {
        if (!p->is_array()) {
          return ArgError(JoinPath(path, "params"), "expected an array of values");
        }
        params = &p->get_array();
      }
    } else {
      return ArgError(path, "expected a SQL string or {\"sql\": \"...\", \"params\": [...]}");
    }
    size_t placeholders = 0;
    int depth = 0;
    sql::SqlTokenizer tokens(text);
    while (auto token = tokens.Next()) {
      if (!token->complete || token->kind == sql::TokenKind::kSemicolon) {
        return ArgError(path, "$raw must be one complete SQL expression");
      }
      if (token->kind == sql::TokenKind::kParameter) {
        if (token->text != "?") {
          return ArgError(path, "$raw takes only ? placeholders, bound from params in order");
        }
        ++placeholders;
      }
      if (token->kind == sql::TokenKind::kOperator) {
        depth += token->text == "(" ? 1 : token->text == ")" ? -1 : 0;
        if (depth < 0) {
          return ArgError(path, "$raw has an unbalanced ')'");
        }
      }
    }
    if (depth != 0) {
      return ArgError(path, "$raw has an unbalanced '('");
    }
    size_t given = params == nullptr ? 0 : params->size();
    if (given != placeholders) {
      return ArgError(path, "$raw has " + std::to_string(placeholders) + " ? placeholders but " +
                                std::to_string(given) + " params");
    }
    std::vector<storage::Value> values;
    if (params != nullptr) {
      for (const json::value& p : *params) {
        values.push_back(JsonScalarValue(p));
      }
    }
    sql << "(";
    sql.Raw(text, std::move(values));
    sql << ")";
    return Status::Ok();
  }

  Status Field(SqlBuilder& sql, const schema::Model& model, std::string_view alias,
               const schema::Field& field, const json::value& value, const std::string& path) {
    FieldReadAccess access = FilterAccess(ctx_, field);
    if (!access.visible) {
      return Status(ErrorCode::kForbidden,
                    path + ": field '" + field.name + "' cannot be read by this caller")
          .WithPath(path);
    }
    if (access.conditional) {
      sql << "(";
      AppendFieldReadCondition(ctx_, sql, model, field, alias);
      sql << " AND ";
    }
    Operand operand{&field, std::string(alias), std::nullopt};
    Status st;
    if (value.is_object() && !value.get_object().empty() &&
        std::all_of(value.get_object().begin(), value.get_object().end(),
                    [](const auto& kv) { return IsOperatorKey(kv.key()); }) &&
        !(field.type.kind == schema::FieldType::Kind::kScalar &&
          field.type.scalar == schema::ScalarType::kBlob && value.get_object().size() == 1 &&
          value.get_object().contains("$base64"))) {
      st = Operators(sql, operand, value.get_object(), path);
    } else if (value.is_object() && !IsJsonWhole(operand) && !field.type.list &&
               !(field.type.kind == schema::FieldType::Kind::kScalar &&
                 field.type.scalar == schema::ScalarType::kBlob)) {
      // An object for a plain column is an operator object with a key that is no operator.
      for (const auto& kv : value.get_object()) {
        if (!IsOperatorKey(kv.key())) {
          std::string sub = JoinPath(path, kv.key());
          return ArgError(sub, "unknown operator '" + std::string(kv.key()) +
                                   "' (equals, not, in, notIn, lt, lte, gt, gte, contains, "
                                   "startsWith, endsWith, mode, path)");
        }
      }
      return ArgError(path, "expected a value or an object of operators");
    } else {
      st = Equals(sql, operand, value, path, /*negate=*/false);
    }
    QUARRY_RETURN_IF_ERROR(st);
    if (access.conditional) {
      sql << ")";
    }
    return Status::Ok();
  }

  Result<storage::Value> Convert(const Operand& operand, const json::value& value,
                                 const std::string& path) {
    return ArgumentValue(ctx_.schema, ArgSource(operand, path), value);
  }

  // Where Convert's value came from, for plan_cache.h.
  static ParamSource ArgSource(const Operand& operand, const std::string& path) {
    ParamSource source{ParamSource::Kind::kArg, path};
    source.field = operand.field;
    source.transform = operand.json_path      ? ParamSource::Transform::kJsonScalar
                       : IsJsonWhole(operand) ? ParamSource::Transform::kJsonText
                                              : ParamSource::Transform::kColumn;
    return source;
  }

  Status Equals(SqlBuilder& sql, const Operand& operand, const json::value& value,
                const std::string& path, bool negate) {
    if (value.is_null()) {
      AppendOperand(sql, operand);
      sql << (negate ? " IS NOT NULL" : " IS NULL");
      return Status::Ok();
    }
    QUARRY_ASSIGN_OR_RETURN(storage::Value v, Convert(operand, value, path));
    if (IsJsonWhole(operand)) {
      sql << "json(";
      AppendOperand(sql, operand);
      sql << (negate ? ") IS NOT json(" : ") = json(");
      sql.Param(std::move(v), ArgSource(operand, path));
      sql << ")";
      return Status::Ok();
    }
    AppendOperand(sql, operand);
    sql << (negate ? " IS NOT " : " = ");
    sql.Param(std::move(v), ArgSource(operand, path));
    return Status::Ok();
  }

  Status Operators(SqlBuilder& sql, Operand operand, const json::object& ops,
                   const std::string& path) {
    bool insensitive = false;
    if (const json::value* mode = ops.if_contains("mode")) {
      if (!mode->is_string() ||
          (mode->get_string() != "insensitive" && mode->get_string() != "default")) {
        return ArgError(JoinPath(path, "mode"), "expected \"default\" or \"insensitive\"");
      }
      insensitive = mode->get_string() == "insensitive";
    }
    if (const json::value* json_path = ops.if_contains("path")) {
      const schema::Field& f = *operand.field;
      if (f.type.list || f.type.kind != schema::FieldType::Kind::kScalar ||
          f.type.scalar != schema::ScalarType::kJson) {
        return ArgError(JoinPath(path, "path"), "path filters apply to Json fields only");
      }
      std::string p;
      if (json_path->is_string() && json_path->get_string().starts_with("$")) {
        p = std::string(json_path->get_string());
      } else if (json_path->is_array()) {
        p = "$";
        for (const json::value& step : json_path->get_array()) {
          if (step.is_string()) {
            p += ".\"" + std::string(step.get_string()) + "\"";
          } else if (step.is_int64() && step.get_int64() >= 0) {
            p += "[" + std::to_string(step.get_int64()) + "]";
          } else {
            return ArgError(JoinPath(path, "path"), "path steps are keys or array indexes");
          }
        }
      } else {
        return ArgError(JoinPath(path, "path"),
                        "expected a JSON path (\"$.a.b\") or an array of keys");
      }
      operand.json_path = std::move(p);
    }
    sql << "(";
    bool first = true;
    for (const auto& [key_view, value] : ops) {
      std::string key(key_view);
      if (key == "mode" || key == "path") {
        continue;
      }
      std::string sub = JoinPath(path, key);
      sql << (first ? "" : " AND ");
      first = false;
      if (key == "equals") {
        QUARRY_RETURN_IF_ERROR(Equals(sql, operand, value, sub, false));
      } else if (key == "not") {
        if (value.is_object() && !value.get_object().empty() &&
            std::all_of(value.get_object().begin(), value.get_object().end(),
                        [](const auto& kv) { return IsOperatorKey(kv.key()); })) {
          sql << "NOT coalesce(";
          QUARRY_RETURN_IF_ERROR(Operators(sql, operand, value.get_object(), sub));
          sql << ", 0)";
        } else {
          QUARRY_RETURN_IF_ERROR(Equals(sql, operand, value, sub, true));
        }
      } else if (key == "in" || key == "notIn") {
        if (!value.is_array()) {
          return ArgError(sub, key + " takes an array of values");
        }
        // A null item matches NULL rows, as {field: null} does; the others go to SQLite as one
        // JSON array (ArgumentValue).
        ParamSource list_source = ArgSource(operand, sub);
        list_source.transform = list_source.transform == ParamSource::Transform::kJsonScalar
                                    ? ParamSource::Transform::kInListJsonScalar
                                : list_source.transform == ParamSource::Transform::kJsonText
                                    ? ParamSource::Transform::kInListJsonText
                                    : ParamSource::Transform::kInListColumn;
        const json::array& items = value.get_array();
        const bool has_null = std::any_of(items.begin(), items.end(),
                                          [](const json::value& v) { return v.is_null(); });
        QUARRY_ASSIGN_OR_RETURN(storage::Value list,
                                ArgumentValue(ctx_.schema, list_source, value));
        sql << "(";
        AppendOperand(sql, operand);
        if (key == "notIn") {
          sql << (has_null ? " IS NOT NULL AND " : " IS NULL OR ");
          AppendOperand(sql, operand);
          sql << " NOT IN (SELECT value FROM json_each(";
        } else {
          if (has_null) {
            sql << " IS NULL OR ";
            AppendOperand(sql, operand);
          }
          sql << " IN (SELECT value FROM json_each(";
        }
        sql.Param(std::move(list), list_source);
        sql << ")))";
      } else if (key == "lt" || key == "lte" || key == "gt" || key == "gte") {
        if (value.is_null()) {
          return ArgError(sub, key + " does not take null");
        }
        QUARRY_ASSIGN_OR_RETURN(storage::Value v, Convert(operand, value, sub));
        AppendOperand(sql, operand);
        sql << (key == "lt" ? " < " : key == "lte" ? " <= " : key == "gt" ? " > " : " >= ");
        sql.Param(std::move(v), ArgSource(operand, sub));
      } else if (key == "contains" || key == "startsWith" || key == "endsWith") {
        if (!value.is_string()) {
          return ArgError(sub, key + " takes a string");
        }
        std::string text(value.get_string());
        const int like = key == "contains" ? 0 : key == "startsWith" ? 1 : 2;
        ParamSource text_source{ParamSource::Kind::kArg, sub, ParamSource::Transform::kText};
        ParamSource length_source{ParamSource::Kind::kArg, sub,
                                  ParamSource::Transform::kUtf8Length};
        ParamSource like_source{ParamSource::Kind::kArg, sub, ParamSource::Transform::kLikePattern};
        like_source.like = like;
        if (insensitive) {
          QUARRY_ASSIGN_OR_RETURN(storage::Value pattern,
                                  ArgumentValue(ctx_.schema, like_source, value));
          AppendOperand(sql, operand);
          sql << " LIKE ";
          sql.Param(std::move(pattern), like_source);
          sql << " ESCAPE '\\'";
        } else if (key == "contains") {
          sql << "instr(";
          AppendOperand(sql, operand);
          sql << ", ";
          sql.Param(TextValue(std::move(text)), text_source);
          sql << ") > 0";
        } else if (key == "startsWith") {
          // A range on the column keeps an index usable: prefix <= x < prefix + U+10FFFF.
          sql << "substr(";
          AppendOperand(sql, operand);
          sql << ", 1, ";
          sql.Param(IntValue(static_cast<int64_t>(Utf8Length(text))), length_source);
          sql << ") = ";
          sql.Param(TextValue(std::move(text)), text_source);
        } else {
          int64_t n = static_cast<int64_t>(Utf8Length(text));
          sql << "(length(";
          AppendOperand(sql, operand);
          sql << ") >= ";
          sql.Param(IntValue(n), length_source);
          // The last n characters start at length - n + 1: substr(x, -n) would be all of x
          // for n = 0, so that endsWith "" matched only empty strings.
          sql << " AND substr(";
          AppendOperand(sql, operand);
          sql << ", length(";
          AppendOperand(sql, operand);
          sql << ") + 1 - ";
          sql.Param(IntValue(n), length_source);
          sql << ") = ";
          sql.Param(TextValue(std::move(text)), text_source);
          sql << ")";
        }
      }
    }
    if (first) {
      sql << "1";
    }
    sql << ")";
    return Status::Ok();
  }

  Status Relation(SqlBuilder& sql, const schema::Model& model, std::string_view alias,
                  const schema::Field& field, const json::value& value, const std::string& path) {
    const schema::Model& target = Target(ctx_, field);
    QUARRY_RETURN_IF_ERROR(CheckReadGate(ctx_, target));
    bool to_many = field.type.list;
    if (value.is_null()) {
      if (to_many) {
        return ArgError(path, "a to-many relation filter takes {some|every|none: {...}}");
      }
      return Exists(sql, model, alias, field, target, nullptr, path, /*negate=*/true, false);
    }
    if (!value.is_object()) {
      return ArgError(path, "expected a relation filter object");
    }
    const json::object& object = value.get_object();
    if (to_many) {
      if (object.empty()) {
        sql << "1";
        return Status::Ok();
      }
      sql << "(";
      bool first = true;
      for (const auto& [key_view, sub_where] : object) {
        std::string key(key_view);
        std::string sub = JoinPath(path, key);
        sql << (first ? "" : " AND ");
        first = false;
        if (key == "some") {
          QUARRY_RETURN_IF_ERROR(
              Exists(sql, model, alias, field, target, &sub_where, sub, false, false));
        } else if (key == "none") {
          QUARRY_RETURN_IF_ERROR(
              Exists(sql, model, alias, field, target, &sub_where, sub, true, false));
        } else if (key == "every") {
          QUARRY_RETURN_IF_ERROR(
              Exists(sql, model, alias, field, target, &sub_where, sub, true, true));
        } else {
          return ArgError(sub, "unknown relation filter '" + key +
                                   "'; a to-many relation takes some, every or none");
        }
      }
      sql << ")";
      return Status::Ok();
    }
    bool has_is = object.contains("is") || object.contains("isNot");
    if (!has_is) {
      return Exists(sql, model, alias, field, target, &value, path, false, false);
    }
    sql << "(";
    bool first = true;
    for (const auto& [key_view, sub_where] : object) {
      std::string key(key_view);
      std::string sub = JoinPath(path, key);
      sql << (first ? "" : " AND ");
      first = false;
      if (key == "is" || key == "isNot") {
        bool negate = key == "isNot";
        if (sub_where.is_null()) {
          QUARRY_RETURN_IF_ERROR(
              Exists(sql, model, alias, field, target, nullptr, sub, !negate, false));
        } else {
          QUARRY_RETURN_IF_ERROR(
              Exists(sql, model, alias, field, target, &sub_where, sub, negate, false));
        }
      } else {
        return ArgError(
            sub, "unknown relation filter '" + key + "'; a to-one relation takes is or isNot");
      }
    }
    sql << ")";
    return Status::Ok();
  }

  // [NOT] EXISTS (related rows the caller may read [that (do not) match `where`]).
  Status Exists(SqlBuilder& sql, const schema::Model& model, std::string_view alias,
                const schema::Field& field, const schema::Model& target, const json::value* where,
                const std::string& path, bool negate, bool negate_inner) {
    std::string related = ctx_.NewAlias();
    sql << (negate ? "NOT EXISTS (SELECT 1 FROM " : "EXISTS (SELECT 1 FROM ");
    sql.Ident(target.table);
    sql << " AS " << related << " WHERE ";
    JoinCondition(ctx_, sql, model, field, alias, related);
    sql << " AND ";
    AppendReadScope(ctx_, sql, target, related);
    if (where != nullptr) {
      sql << (negate_inner ? " AND NOT coalesce(" : " AND (");
      QUARRY_RETURN_IF_ERROR(Object(sql, target, related, *where, path));
      sql << (negate_inner ? ", 0)" : ")");
    }
    sql << ")";
    return Status::Ok();
  }

  CompileContext& ctx_;
};

}  // namespace

Status AppendWhere(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                   std::string_view alias, const boost::json::value* where,
                   const std::string& path) {
  if (where == nullptr) {
    sql << "1";
    return Status::Ok();
  }
  WhereCompiler compiler(ctx);
  return compiler.Object(sql, model, alias, *where, path);
}

void AppendReadScope(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                     std::string_view alias, bool with_deleted, bool only_deleted) {
  AppendRowPolicy(ctx, sql, model, alias, RowOperation::kRead);
  const schema::Field* deleted_at = SoftDeleteField(model);
  if (deleted_at != nullptr && !with_deleted) {
    sql << " AND ";
    sql.Column(alias, deleted_at->column);
    sql << (only_deleted ? " IS NOT NULL" : " IS NULL");
  }
}

}  // namespace quarry::query
