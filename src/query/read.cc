#include "query/read.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>

#include "common/base64.h"
#include "common/sql_statement.h"
#include "query/policy_sql.h"
#include "query/recursive.h"
#include "query/values.h"
#include "query/where.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

constexpr int64_t kDefaultPageSize = 50;

const json::object* ObjectArg(const json::object& args, std::string_view key) {
  const json::value* v = args.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

Status ExpectObjectOrAbsent(const json::object& args, std::string_view key,
                            const std::string& path) {
  const json::value* v = args.if_contains(key);
  if (v != nullptr && !v->is_object() && !v->is_null()) {
    return ArgError(JoinPath(path, key), "expected an object");
  }
  return Status::Ok();
}

struct OrderTerm {
  SqlBuilder expr;
  bool desc = false;
  std::optional<bool> nulls_first;       // unset: SQLite's default (first for asc, last for desc)
  const schema::Field* field = nullptr;  // set for a plain field of the model
};

Result<std::pair<bool, std::optional<bool>>> Direction(const json::value& v,
                                                       const std::string& path) {
  auto parse_dir = [&](const json::value& d) -> Result<bool> {
    if (d.is_string() && (d.get_string() == "asc" || d.get_string() == "desc")) {
      return d.get_string() == "desc";
    }
    return ArgError(path, "expected \"asc\" or \"desc\", got " + json::serialize(d));
  };
  if (v.is_string()) {
    QUARRY_ASSIGN_OR_RETURN(bool desc, parse_dir(v));
    return std::make_pair(desc, std::optional<bool>());
  }
  if (v.is_object()) {
    const json::object& o = v.get_object();
    QUARRY_RETURN_IF_ERROR(CheckKeys(o, {"dir", "sort", "nulls"}, path, "an order term"));
    const json::value* d = o.if_contains("dir");
    if (d == nullptr) {
      d = o.if_contains("sort");
    }
    bool desc = false;
    if (d != nullptr) {
      QUARRY_ASSIGN_OR_RETURN(desc, parse_dir(*d));
    }
    std::optional<bool> nulls;
    if (const json::value* n = o.if_contains("nulls")) {
      if (!n->is_string() || (n->get_string() != "first" && n->get_string() != "last")) {
        return ArgError(JoinPath(path, "nulls"), "expected \"first\" or \"last\"");
      }
      nulls = n->get_string() == "first";
    }
    return std::make_pair(desc, nulls);
  }
  return ArgError(path, "expected \"asc\", \"desc\" or {\"dir\", \"nulls\"}");
}

Status FieldOperand(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                    const schema::Field& field, std::string_view alias, const std::string& path) {
  FieldReadAccess access = FilterAccess(ctx, field);
  if (!access.visible) {
    return Status(ErrorCode::kForbidden,
                  path + ": field '" + field.name + "' cannot be read by this caller")
        .WithPath(path);
  }
  if (access.conditional) {
    sql << "CASE WHEN ";
    AppendFieldReadCondition(ctx, sql, model, field, alias);
    sql << " THEN ";
    sql.Column(alias, field.column);
    sql << " END";
  } else {
    sql.Column(alias, field.column);
  }
  return Status::Ok();
}

// A field whose values the SQL returns (a window function's argument): as FieldOperand, and
// only when the caller may read the field in results, which rules out @secret fields for
// everyone and @guarded ones for users (who may still order and filter by them).
Status ValueOperand(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                    const schema::Field& field, std::string_view alias, const std::string& path) {
  if (!ReadAccess(ctx, field, /*explicitly_selected=*/true, /*list_read=*/true).visible) {
    return Status(ErrorCode::kForbidden,
                  path + ": field '" + field.name + "' cannot be read by this caller")
        .WithPath(path);
  }
  return FieldOperand(ctx, sql, model, field, alias, path);
}

Status OrderTerms(CompileContext& ctx, const schema::Model& model, std::string_view alias,
                  const json::object& spec, const std::string& path, std::vector<OrderTerm>& terms);

// A to-one relation's field (through a scalar subquery) or a to-many relation's aggregate.
Status RelationOrder(CompileContext& ctx, const schema::Model& model, std::string_view alias,
                     const schema::Field& field, const json::value& value, const std::string& path,
                     std::vector<OrderTerm>& terms) {
  const schema::Model& target = Target(ctx, field);
  QUARRY_RETURN_IF_ERROR(CheckReadGate(ctx, target));
  if (!value.is_object()) {
    return ArgError(path, "ordering by a relation takes an object");
  }
  const json::object& spec = value.get_object();
  if (!field.type.list) {
    std::vector<OrderTerm> inner;
    std::string related = ctx.NewAlias();
    QUARRY_RETURN_IF_ERROR(OrderTerms(ctx, target, related, spec, path, inner));
    for (OrderTerm& t : inner) {
      OrderTerm term;
      term.desc = t.desc;
      term.nulls_first = t.nulls_first;
      term.expr << "(SELECT ";
      term.expr.Append(std::move(t.expr));
      term.expr << " FROM ";
      term.expr.Ident(target.table);
      term.expr << " AS " << related << " WHERE ";
      JoinCondition(ctx, term.expr, model, field, alias, related);
      term.expr << " AND ";
      AppendReadScope(ctx, term.expr, target, related);
      term.expr << ")";
      terms.push_back(std::move(term));
    }
    return Status::Ok();
  }
  for (const auto& [key_view, v] : spec) {
    std::string key(key_view);
    std::string sub = JoinPath(path, key);
    std::string related = ctx.NewAlias();
    OrderTerm term;
    if (key == "_count") {
      QUARRY_ASSIGN_OR_RETURN(auto dir, Direction(v, sub));
      term.desc = dir.first;
      term.nulls_first = dir.second;
      term.expr << "(SELECT count(*)";
    } else if (key == "_sum" || key == "_avg" || key == "_min" || key == "_max") {
      if (!v.is_object() || v.get_object().size() != 1) {
        return ArgError(sub, key + " takes {field: \"asc\" | \"desc\"}");
      }
      const auto& entry = *v.get_object().begin();
      const schema::Field* f = target.FindField(std::string(entry.key()));
      if (f == nullptr || !f->stored()) {
        return ArgError(JoinPath(sub, entry.key()), "unknown field '" + std::string(entry.key()) +
                                                        "' of model '" + target.name + "'");
      }
      QUARRY_ASSIGN_OR_RETURN(auto dir, Direction(entry.value(), JoinPath(sub, entry.key())));
      term.desc = dir.first;
      term.nulls_first = dir.second;
      term.expr << "(SELECT " << key.substr(1) << "(";
      QUARRY_RETURN_IF_ERROR(
          FieldOperand(ctx, term.expr, target, *f, related, JoinPath(sub, entry.key())));
      term.expr << ")";
    } else {
      return ArgError(sub, "a to-many relation orders by _count, _sum, _avg, _min or _max");
    }
    term.expr << " FROM ";
    term.expr.Ident(target.table);
    term.expr << " AS " << related << " WHERE ";
    JoinCondition(ctx, term.expr, model, field, alias, related);
    term.expr << " AND ";
    AppendReadScope(ctx, term.expr, target, related);
    term.expr << ")";
    terms.push_back(std::move(term));
  }
  return Status::Ok();
}

Status OrderTerms(CompileContext& ctx, const schema::Model& model, std::string_view alias,
                  const json::object& spec, const std::string& path,
                  std::vector<OrderTerm>& terms) {
  for (const auto& [key_view, value] : spec) {
    std::string key(key_view);
    std::string sub = JoinPath(path, key);
    const schema::Field* field = model.FindField(key);
    if (field == nullptr) {
      return ArgError(sub, "unknown field '" + key + "' of model '" + model.name + "'");
    }
    if (!field->stored()) {
      QUARRY_RETURN_IF_ERROR(RelationOrder(ctx, model, alias, *field, value, sub, terms));
      continue;
    }
    QUARRY_ASSIGN_OR_RETURN(auto dir, Direction(value, sub));
    OrderTerm term;
    term.desc = dir.first;
    term.nulls_first = dir.second;
    term.field = field;
    QUARRY_RETURN_IF_ERROR(FieldOperand(ctx, term.expr, model, *field, alias, sub));
    terms.push_back(std::move(term));
  }
  return Status::Ok();
}

Result<std::vector<OrderTerm>> ParseOrderBy(CompileContext& ctx, const schema::Model& model,
                                            std::string_view alias, const json::value* order_by,
                                            const std::string& path) {
  std::vector<OrderTerm> terms;
  if (order_by == nullptr || order_by->is_null()) {
    return terms;
  }
  if (order_by->is_object()) {
    QUARRY_RETURN_IF_ERROR(OrderTerms(ctx, model, alias, order_by->get_object(), path, terms));
  } else if (order_by->is_array()) {
    const json::array& items = order_by->get_array();
    for (size_t i = 0; i < items.size(); ++i) {
      std::string sub = JoinPath(path, std::to_string(i));
      if (!items[i].is_object()) {
        return ArgError(sub, "expected an object such as {\"createdAt\": \"desc\"}");
      }
      QUARRY_RETURN_IF_ERROR(OrderTerms(ctx, model, alias, items[i].get_object(), sub, terms));
    }
  } else {
    return ArgError(path, "expected an object or an array of objects");
  }
  return terms;
}

void AppendTerms(SqlBuilder& sql, std::vector<OrderTerm>& terms) {
  if (terms.empty()) {
    return;
  }
  sql << " ORDER BY ";
  for (size_t i = 0; i < terms.size(); ++i) {
    sql << (i ? ", " : "");
    sql.Append(std::move(terms[i].expr));
    sql << (terms[i].desc ? " DESC" : " ASC");
    if (terms[i].nulls_first) {
      sql << (*terms[i].nulls_first ? " NULLS FIRST" : " NULLS LAST");
    }
  }
}

Status AppendLimit(SqlBuilder& sql, const json::object& args, const std::string& path,
                   std::optional<int64_t> forced = std::nullopt) {
  QUARRY_ASSIGN_OR_RETURN(std::optional<int64_t> limit, CountArg(args, "limit", path));
  QUARRY_ASSIGN_OR_RETURN(std::optional<int64_t> offset, CountArg(args, "offset", path));
  ParamSource limit_source{ParamSource::Kind::kConstant};
  if (forced) {
    limit = forced;
  } else if (limit) {
    limit_source = ParamSource{ParamSource::Kind::kArg, JoinPath(path, "limit"),
                               ParamSource::Transform::kCount};
  }
  if (limit || offset) {
    sql << " LIMIT ";
    sql.Param(IntValue(limit.value_or(-1)), limit_source);
    if (offset) {
      sql << " OFFSET ";
      sql.Param(IntValue(*offset), ParamSource{ParamSource::Kind::kArg, JoinPath(path, "offset"),
                                               ParamSource::Transform::kCount});
    }
  }
  return Status::Ok();
}

}  // namespace

std::string MemberPrefix(std::string_view key) {
  std::string member = ",";
  member += json::serialize(json::value(json::string_view(key.data(), key.size())));
  member += ":";
  return sql::QuoteString(member);
}

namespace {

Status AppendWindow(CompileContext& ctx, SqlBuilder& members, const schema::Model& model,
                    std::string_view alias, const json::object& window, const std::string& path);

Status AppendCounts(CompileContext& ctx, SqlBuilder& members, const schema::Model& model,
                    std::string_view alias, const json::value& spec, const std::string& path) {
  const json::object* relations = nullptr;
  json::object all;
  std::string base = path;  // where `relations` sits in the arguments
  if (spec.is_bool() && spec.get_bool()) {
    for (const schema::Field& f : model.fields) {
      if (!f.stored() && f.type.list) {
        all[f.name] = true;
      }
    }
    relations = &all;
  } else if (spec.is_object()) {
    relations = &spec.get_object();
    if (const json::value* select = relations->if_contains("select")) {
      if (!select->is_object()) {
        return ArgError(JoinPath(path, "select"), "expected {relation: true, ...}");
      }
      relations = &select->get_object();
      base = JoinPath(path, "select");
    }
  } else if (spec.is_bool()) {
    return Status::Ok();
  } else {
    return ArgError(path, "expected true or {\"select\": {relation: true}}");
  }
  members << " || " << MemberPrefix("_count") << " || '{' || substr(''";
  for (const auto& [key_view, v] : *relations) {
    std::string key(key_view);
    std::string sub = JoinPath(base, key);
    const schema::Field* f = model.FindField(key);
    if (f == nullptr || f->stored() || !f->type.list) {
      return ArgError(sub, "_count takes to-many relations of model '" + model.name + "'");
    }
    if (v.is_bool() && !v.get_bool()) {
      continue;
    }
    const json::value* where = nullptr;
    if (v.is_object()) {
      QUARRY_RETURN_IF_ERROR(CheckKeys(v.get_object(), {"where"}, sub, "a _count entry"));
      where = v.get_object().if_contains("where");
    } else if (!v.is_bool()) {
      return ArgError(sub, "expected true or {\"where\": {...}}");
    }
    const schema::Model& target = Target(ctx, *f);
    QUARRY_RETURN_IF_ERROR(CheckReadGate(ctx, target));
    std::string related = ctx.NewAlias();
    members << " || " << MemberPrefix(key) << " || (SELECT count(*) FROM ";
    members.Ident(target.table);
    members << " AS " << related << " WHERE ";
    JoinCondition(ctx, members, model, *f, alias, related);
    members << " AND ";
    AppendReadScope(ctx, members, target, related);
    members << " AND ";
    QUARRY_RETURN_IF_ERROR(
        AppendWhere(ctx, members, target, related, where, JoinPath(sub, "where")));
    members << ")";
  }
  members << ", 2) || '}'";
  return Status::Ok();
}

Status AppendRelation(CompileContext& ctx, SqlBuilder& members, const schema::Model& model,
                      std::string_view alias, const schema::Field& field, const json::value& spec,
                      const std::string& path) {
  if (spec.is_bool() && !spec.get_bool()) {
    return Status::Ok();
  }
  const json::object empty;
  const json::object* args = &empty;
  if (spec.is_object()) {
    args = &spec.get_object();
  } else if (!spec.is_bool()) {
    return ArgError(path, "expected true, false or an object of arguments");
  }
  const schema::Model& target = Target(ctx, field);
  QUARRY_RETURN_IF_ERROR(CheckReadGate(ctx, target));
  std::string related = ctx.NewAlias();
  const json::object* select = ObjectArg(*args, "select");
  const json::object* include = ObjectArg(*args, "include");
  QUARRY_RETURN_IF_ERROR(ExpectObjectOrAbsent(*args, "select", path));
  QUARRY_RETURN_IF_ERROR(ExpectObjectOrAbsent(*args, "include", path));
  QUARRY_ASSIGN_OR_RETURN(bool with_deleted, BoolArg(*args, "withDeleted", false, path));
  members << " || " << MemberPrefix(field.name) << " || ";
  if (!field.type.list) {
    QUARRY_RETURN_IF_ERROR(
        CheckKeys(*args, {"select", "include", "withDeleted"}, path, "a to-one include"));
    members << "coalesce((SELECT ";
    QUARRY_RETURN_IF_ERROR(
        AppendRowJson(ctx, members, target, related, select, include, true, path));
    members << " FROM ";
    members.Ident(target.table);
    members << " AS " << related << " WHERE ";
    JoinCondition(ctx, members, model, field, alias, related);
    members << " AND ";
    AppendReadScope(ctx, members, target, related, with_deleted);
    members << "), 'null')";
    return Status::Ok();
  }
  QUARRY_RETURN_IF_ERROR(CheckKeys(
      *args,
      {"select", "include", "where", "orderBy", "limit", "offset", "withDeleted", "onlyDeleted"},
      path, "a to-many include"));
  QUARRY_ASSIGN_OR_RETURN(bool only_deleted, BoolArg(*args, "onlyDeleted", false, path));
  members << "(SELECT '[' || coalesce(group_concat(j, ','), '') || ']' FROM (SELECT ";
  QUARRY_RETURN_IF_ERROR(AppendRowJson(ctx, members, target, related, select, include, true, path));
  members << " AS j FROM ";
  members.Ident(target.table);
  members << " AS " << related << " WHERE ";
  JoinCondition(ctx, members, model, field, alias, related);
  members << " AND ";
  AppendReadScope(ctx, members, target, related, with_deleted, only_deleted);
  members << " AND ";
  QUARRY_RETURN_IF_ERROR(AppendWhere(ctx, members, target, related, args->if_contains("where"),
                                     JoinPath(path, "where")));
  QUARRY_RETURN_IF_ERROR(AppendOrderBy(ctx, members, target, related, args->if_contains("orderBy"),
                                       JoinPath(path, "orderBy")));
  QUARRY_RETURN_IF_ERROR(AppendLimit(members, *args, path));
  members << "))";
  return Status::Ok();
}

// One term of a window's frame: null is unbounded, a negative number n PRECEDING, 0 the
// current row, a positive number n FOLLOWING.
Result<std::string> FrameBound(const json::value& v, bool start, const std::string& path) {
  if (v.is_null()) {
    return std::string(start ? "UNBOUNDED PRECEDING" : "UNBOUNDED FOLLOWING");
  }
  // -2^63 has no positive counterpart to write before PRECEDING.
  if (!v.is_int64() || v.get_int64() == std::numeric_limits<int64_t>::min()) {
    return ArgError(path, "a frame bound is null or an integer of at most 2^63 - 1 either way");
  }
  int64_t n = v.get_int64();
  if (n == 0) {
    return std::string("CURRENT ROW");
  }
  return std::to_string(n < 0 ? -n : n) + (n < 0 ? " PRECEDING" : " FOLLOWING");
}

Result<const schema::Field*> StoredField(const schema::Model& model, const json::value& v,
                                         const std::string& path) {
  if (!v.is_string()) {
    return ArgError(path, "expected a field name");
  }
  const schema::Field* f = model.FindField(std::string(v.get_string()));
  if (f == nullptr || !f->stored()) {
    return ArgError(
        path, "unknown field '" + std::string(v.get_string()) + "' of model '" + model.name + "'");
  }
  return f;
}

Status AppendWindow(CompileContext& ctx, SqlBuilder& members, const schema::Model& model,
                    std::string_view alias, const json::object& window, const std::string& path) {
  static constexpr std::pair<std::string_view, std::string_view> kRanking[] = {
      {"rowNumber", "row_number"},
      {"rank", "rank"},
      {"denseRank", "dense_rank"},
      {"cumeDist", "cume_dist"},
      {"percentRank", "percent_rank"}};
  static constexpr std::pair<std::string_view, std::string_view> kValue[] = {
      {"lag", "lag"},
      {"lead", "lead"},
      {"firstValue", "first_value"},
      {"lastValue", "last_value"},
      {"nthValue", "nth_value"}};
  static constexpr std::string_view kAggregates[] = {"sum", "avg", "min", "max", "count"};
  for (const auto& [name_view, spec_value] : window) {
    std::string name(name_view);
    std::string sub = JoinPath(path, name);
    if (model.FindField(name) != nullptr) {
      return ArgError(sub, "a window column may not be named like a field of the model");
    }
    if (!spec_value.is_object()) {
      return ArgError(sub, "expected {rowNumber: true, partitionBy, orderBy, ...}");
    }
    const json::object& spec = spec_value.get_object();
    SqlBuilder call;
    bool aggregate = false;
    int functions = 0;
    for (const auto& [fn, arg] : spec) {
      std::string key(fn);
      std::string fn_path = JoinPath(sub, key);
      if (key == "partitionBy" || key == "orderBy" || key == "rows" || key == "range" ||
          key == "filter" || key == "offset" || key == "default" || key == "n") {
        continue;
      }
      ++functions;
      bool handled = false;
      for (auto [api, sqlname] : kRanking) {
        if (api == key) {
          call << sqlname << "()";
          handled = true;
        }
      }
      if (key == "ntile") {
        if (!arg.is_int64() || arg.get_int64() < 1) {
          return ArgError(fn_path, "ntile takes a positive number of buckets");
        }
        call << "ntile(" << std::to_string(arg.get_int64()) << ")";
        handled = true;
      }
      for (auto [api, sqlname] : kValue) {
        if (api != key) {
          continue;
        }
        QUARRY_ASSIGN_OR_RETURN(const schema::Field* f, StoredField(model, arg, fn_path));
        call << sqlname << "(";
        QUARRY_RETURN_IF_ERROR(ValueOperand(ctx, call, model, *f, alias, fn_path));
        if (key == "lag" || key == "lead") {
          QUARRY_ASSIGN_OR_RETURN(std::optional<int64_t> offset, CountArg(spec, "offset", sub));
          call << ", " << std::to_string(offset.value_or(1)) << ", ";
          const json::value* dflt = spec.if_contains("default");
          if (dflt != nullptr) {
            call.Param(JsonScalarValue(*dflt),
                       ParamSource{ParamSource::Kind::kArg, JoinPath(sub, "default"),
                                   ParamSource::Transform::kJsonScalar});
          } else {
            call << "NULL";
          }
        } else if (key == "nthValue") {
          QUARRY_ASSIGN_OR_RETURN(std::optional<int64_t> n, CountArg(spec, "n", sub));
          if (!n || *n < 1) {
            return ArgError(JoinPath(sub, "n"), "nthValue needs n, a positive row number");
          }
          call << ", " << std::to_string(*n);
        }
        call << ")";
        handled = true;
      }
      for (std::string_view agg : kAggregates) {
        if (agg != key) {
          continue;
        }
        aggregate = true;
        handled = true;
        if (key == "count" && arg.is_bool()) {
          call << "count(*)";
          continue;
        }
        QUARRY_ASSIGN_OR_RETURN(const schema::Field* f, StoredField(model, arg, fn_path));
        call << key << "(";
        QUARRY_RETURN_IF_ERROR(ValueOperand(ctx, call, model, *f, alias, fn_path));
        call << ")";
      }
      if (!handled) {
        return ArgError(fn_path, "unknown window function '" + key + "'");
      }
    }
    if (functions != 1) {
      return ArgError(sub, "a window column names exactly one function");
    }
    if (const json::value* filter = spec.if_contains("filter")) {
      if (!aggregate) {
        return ArgError(JoinPath(sub, "filter"), "filter applies to sum, avg, min, max, count");
      }
      call << " FILTER (WHERE ";
      QUARRY_RETURN_IF_ERROR(AppendWhere(ctx, call, model, alias, filter, JoinPath(sub, "filter")));
      call << ")";
    }
    call << " OVER (";
    if (const json::value* partition = spec.if_contains("partitionBy")) {
      std::vector<const json::value*> fields;
      if (partition->is_array()) {
        for (const json::value& f : partition->get_array()) {
          fields.push_back(&f);
        }
      } else {
        fields.push_back(partition);
      }
      call << "PARTITION BY ";
      for (size_t i = 0; i < fields.size(); ++i) {
        std::string p = JoinPath(sub, "partitionBy");
        QUARRY_ASSIGN_OR_RETURN(const schema::Field* f, StoredField(model, *fields[i], p));
        call << (i ? ", " : "");
        QUARRY_RETURN_IF_ERROR(FieldOperand(ctx, call, model, *f, alias, p));
      }
    }
    QUARRY_ASSIGN_OR_RETURN(
        std::vector<OrderTerm> order,
        ParseOrderBy(ctx, model, alias, spec.if_contains("orderBy"), JoinPath(sub, "orderBy")));
    const size_t order_terms = order.size();
    AppendTerms(call, order);
    if (spec.contains("rows") && spec.contains("range")) {
      return ArgError(sub, "a window's frame is rows or range, not both");
    }
    for (std::string_view frame : {"rows", "range"}) {
      const json::value* bounds = spec.if_contains(frame);
      if (bounds == nullptr) {
        continue;
      }
      std::string p = JoinPath(sub, frame);
      if (!bounds->is_array() || bounds->get_array().size() != 2) {
        return ArgError(p, "a frame is [start, end]: null, or rows before (-n) or after (n)");
      }
      const json::value& first = bounds->get_array()[0];
      const json::value& last = bounds->get_array()[1];
      QUARRY_ASSIGN_OR_RETURN(std::string start, FrameBound(first, true, p));
      QUARRY_ASSIGN_OR_RETURN(std::string end, FrameBound(last, false, p));
      // What SQLite refuses, said in the request's terms: where a bound lies (before the
      // current row, on it, after it, or a partition's end) may not go backwards, and a range
      // measured in values needs the one value it is measured in.
      auto side = [](const json::value& bound, int unbounded) {
        return bound.is_null() ? unbounded : (bound.get_int64() > 0) - (bound.get_int64() < 0);
      };
      if (side(first, -2) > side(last, 2)) {
        return ArgError(p, "a frame cannot start after it ends");
      }
      bool offset = side(first, 0) != 0 || side(last, 0) != 0;
      if (frame == "range" && offset && order_terms != 1) {
        return ArgError(p, "a range frame with offsets needs exactly one orderBy term");
      }
      call << (frame == "rows" ? " ROWS" : " RANGE") << " BETWEEN " << start << " AND " << end;
    }
    call << ")";
    // quarry_json: integers past 2^53 as decimal strings, as Integer fields (values.h).
    members << " || " << MemberPrefix(name) << " || quarry_json(";
    members.Append(std::move(call));
    members << ")";
  }
  return Status::Ok();
}

Result<std::string> Decode(std::string_view s) {
  auto bytes = Base64UrlDecode(s);
  if (!bytes) {
    return Status(ErrorCode::kInvalidArgument, "bad base64");
  }
  return *bytes;
}

}  // namespace

Result<std::optional<int64_t>> CountArg(const json::object& args, std::string_view key,
                                        const std::string& path) {
  const json::value* v = args.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return std::optional<int64_t>();
  }
  if (v->is_int64() && v->get_int64() >= 0) {
    return std::optional<int64_t>(v->get_int64());
  }
  if (v->is_uint64()) {
    return std::optional<int64_t>(std::numeric_limits<int64_t>::max());
  }
  return ArgError(JoinPath(path, key),
                  "expected a non-negative integer, got " + json::serialize(*v));
}

Result<int64_t> CursorPageSize(const json::object& args) {
  QUARRY_ASSIGN_OR_RETURN(std::optional<int64_t> limit, CountArg(args, "limit", ""));
  if (limit && *limit == 0) {
    return ArgError("limit", "a page holds at least one row");
  }
  return limit.value_or(kDefaultPageSize);
}

storage::Value CursorLimit(int64_t page_size) {
  // One row more than a page tells whether another follows; a page of 2^63 - 1 rows (a limit
  // past it reads as that) is all rows, and adding one would overflow.
  return IntValue(page_size == std::numeric_limits<int64_t>::max() ? page_size : page_size + 1);
}

Result<json::array> CursorKeys(const CompileContext& ctx, const json::value& cursor,
                               std::string_view scope, size_t count) {
  if (!cursor.is_string()) {
    return ArgError("cursor", "expected the nextCursor string of an earlier page");
  }
  std::string_view text = cursor.get_string();
  size_t dot = text.find('.');
  auto payload =
      dot == std::string_view::npos ? Result<std::string>(Status()) : Decode(text.substr(0, dot));
  if (dot == std::string_view::npos || !payload.ok() ||
      Base64UrlEncode(ctx.sign_cursor(*payload)) != text.substr(dot + 1)) {
    return ArgError("cursor", "not a cursor this server issued (or it was altered)");
  }
  json::error_code ec;
  json::value parsed = json::parse(*payload, ec);
  if (ec || !parsed.is_object() || !parsed.get_object().contains("s") ||
      !parsed.get_object().contains("k") || !parsed.get_object().at("k").is_array()) {
    return ArgError("cursor", "malformed cursor");
  }
  if (parsed.get_object().at("s") != json::value(json::string_view(scope))) {
    return ArgError("cursor", "the cursor belongs to a query with another model or orderBy");
  }
  json::array keys = std::move(parsed.get_object().at("k").get_array());
  if (keys.size() != count) {
    return ArgError("cursor", "malformed cursor");
  }
  return keys;
}

std::string CursorNulls(const json::value& cursor) {
  if (!cursor.is_string()) {
    return "?";
  }
  std::string_view text = cursor.get_string();
  auto payload = Decode(text.substr(0, text.find('.')));
  json::error_code ec;
  json::value parsed = payload.ok() ? json::parse(*payload, ec) : json::value();
  const json::value* keys =
      !ec && parsed.is_object() ? parsed.get_object().if_contains("k") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return "?";
  }
  std::string nulls;
  for (const json::value& key : keys->get_array()) {
    nulls += key.is_null() ? '0' : 'v';
  }
  return nulls;
}

Result<bool> BoolArg(const json::object& args, std::string_view key, bool fallback,
                     const std::string& path) {
  const json::value* v = args.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return fallback;
  }
  if (!v->is_bool()) {
    return ArgError(JoinPath(path, key), "expected true or false, got " + json::serialize(*v));
  }
  return v->get_bool();
}

Status CheckKeys(const json::object& args, std::initializer_list<std::string_view> allowed,
                 const std::string& path, std::string_view what) {
  for (const auto& kv : args) {
    bool known = false;
    for (std::string_view a : allowed) {
      known = known || a == kv.key();
    }
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) {
        list += (list.empty() ? "" : ", ") + std::string(a);
      }
      return ArgError(JoinPath(path, kv.key()), "unknown argument '" + std::string(kv.key()) +
                                                    "' of " + std::string(what) + " (takes " +
                                                    list + ")");
    }
  }
  return Status::Ok();
}

Status AppendLimitOffset(SqlBuilder& sql, const json::object& args, const std::string& path) {
  return AppendLimit(sql, args, path);
}

Result<OrderDirection> ParseOrderDirection(const json::value& v, const std::string& path) {
  QUARRY_ASSIGN_OR_RETURN(auto dir, Direction(v, path));
  return OrderDirection{dir.first, dir.second};
}

void AppendOrderDirection(SqlBuilder& sql, const OrderDirection& dir) {
  sql << (dir.desc ? " DESC" : " ASC");
  if (dir.nulls_first) {
    sql << (*dir.nulls_first ? " NULLS FIRST" : " NULLS LAST");
  }
}

Status AppendOrderBy(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                     std::string_view alias, const json::value* order_by, const std::string& path) {
  QUARRY_ASSIGN_OR_RETURN(std::vector<OrderTerm> terms,
                          ParseOrderBy(ctx, model, alias, order_by, path));
  AppendTerms(sql, terms);
  return Status::Ok();
}

Status AppendRowJson(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                     std::string_view alias, const json::object* select,
                     const json::object* include, bool list_read, const std::string& path,
                     const json::object* window, const SqlBuilder* extra_members) {
  if (select != nullptr && include != nullptr) {
    return ArgError(JoinPath(path, "include"), "use select or include, not both");
  }
  SqlBuilder members;
  members << "''";
  // Stored fields first, in schema order.
  for (const schema::Field& field : model.fields) {
    if (!field.stored()) {
      continue;
    }
    bool explicitly = false;
    if (select != nullptr) {
      const json::value* v = select->if_contains(field.name);
      if (v == nullptr || (v->is_bool() && !v->get_bool())) {
        continue;
      }
      if (!v->is_bool()) {
        return ArgError(JoinPath(JoinPath(path, "select"), field.name), "expected true or false");
      }
      explicitly = true;
    }
    FieldReadAccess access = ReadAccess(ctx, field, explicitly, list_read);
    if (!access.visible) {
      continue;
    }
    if (access.conditional) {
      members << " || CASE WHEN ";
      AppendFieldReadCondition(ctx, members, model, field, alias);
      members << " THEN " << MemberPrefix(field.name) << " || ";
      OutputExpression(members, field, alias);
      members << " ELSE '' END";
    } else {
      members << " || " << MemberPrefix(field.name) << " || ";
      OutputExpression(members, field, alias);
    }
  }
  const json::object* relations = select != nullptr ? select : include;
  if (relations != nullptr) {
    const std::string rel_path = JoinPath(path, select != nullptr ? "select" : "include");
    for (const auto& [key_view, value] : *relations) {
      std::string key(key_view);
      std::string sub = JoinPath(rel_path, key);
      if (key == "_count") {
        QUARRY_RETURN_IF_ERROR(AppendCounts(ctx, members, model, alias, value, sub));
        continue;
      }
      const schema::Field* field = model.FindField(key);
      if (field == nullptr) {
        return ArgError(sub, "unknown field '" + key + "' of model '" + model.name + "'");
      }
      if (field->stored()) {
        if (select == nullptr) {
          return ArgError(sub, "include takes relations; '" + key + "' is a field (use select)");
        }
        continue;
      }
      QUARRY_RETURN_IF_ERROR(AppendRelation(ctx, members, model, alias, *field, value, sub));
    }
  }
  if (window != nullptr) {
    QUARRY_RETURN_IF_ERROR(
        AppendWindow(ctx, members, model, alias, *window, JoinPath(path, "window")));
  }
  if (extra_members != nullptr) {
    members.Append(*extra_members);
  }
  sql << "('{' || substr(";
  sql.Append(std::move(members));
  sql << ", 2) || '}')";
  return Status::Ok();
}

Result<CompiledRead> CompileRead(CompileContext& ctx, const schema::Model& model, ReadOp op,
                                 const json::object& args) {
  const std::string path;
  CompiledRead read;
  read.op = op;
  read.model = &model;
  QUARRY_RETURN_IF_ERROR(CheckGate(ctx, model, RowOperation::kRead));
  const size_t gates_before = ctx.read_gates.size();
  ctx.read_gates.push_back(&model);
  switch (op) {
    case ReadOp::kFindMany:
      QUARRY_RETURN_IF_ERROR(
          CheckKeys(args,
                    {"where", "orderBy", "select", "include", "limit", "offset", "distinct",
                     "withDeleted", "onlyDeleted", "window", "recursive"},
                    path, "findMany"));
      break;
    case ReadOp::kFindManyAndCount:
      QUARRY_RETURN_IF_ERROR(CheckKeys(args,
                                       {"where", "orderBy", "select", "include", "limit", "offset",
                                        "distinct", "withDeleted", "onlyDeleted", "window"},
                                       path, "findManyAndCount"));
      break;
    case ReadOp::kFindFirst:
    case ReadOp::kFindFirstOrThrow:
      QUARRY_RETURN_IF_ERROR(CheckKeys(
          args, {"where", "orderBy", "select", "include", "offset", "withDeleted", "onlyDeleted"},
          path, "findFirst"));
      break;
    case ReadOp::kFindUnique:
    case ReadOp::kFindUniqueOrThrow:
      QUARRY_RETURN_IF_ERROR(CheckKeys(
          args, {"where", "select", "include", "withDeleted", "onlyDeleted"}, path, "findUnique"));
      if (!args.contains("where")) {
        return ArgError("where", "findUnique needs a where naming a unique field");
      }
      break;
    case ReadOp::kFindManyCursor:
      QUARRY_RETURN_IF_ERROR(CheckKeys(args,
                                       {"where", "orderBy", "select", "include", "limit", "cursor",
                                        "withDeleted", "onlyDeleted"},
                                       path, "findManyCursor"));
      break;
    case ReadOp::kCount:
    case ReadOp::kExists:
      QUARRY_RETURN_IF_ERROR(
          CheckKeys(args, {"where", "withDeleted", "onlyDeleted"}, path, "count"));
      break;
  }
  QUARRY_RETURN_IF_ERROR(ExpectObjectOrAbsent(args, "select", path));
  QUARRY_RETURN_IF_ERROR(ExpectObjectOrAbsent(args, "include", path));
  QUARRY_ASSIGN_OR_RETURN(bool with_deleted, BoolArg(args, "withDeleted", false, path));
  QUARRY_ASSIGN_OR_RETURN(bool only_deleted, BoolArg(args, "onlyDeleted", false, path));
  const json::object* select = ObjectArg(args, "select");
  const json::object* include = ObjectArg(args, "include");
  const json::value* where = args.if_contains("where");
  const bool list_read = op != ReadOp::kFindUnique && op != ReadOp::kFindUniqueOrThrow;

  // FROM ... WHERE ..., for an alias.
  auto from_where = [&](SqlBuilder& sql, const std::string& alias) -> Status {
    sql << " FROM ";
    sql.Ident(model.table);
    sql << " AS " << alias << " WHERE ";
    AppendReadScope(ctx, sql, model, alias, with_deleted, only_deleted);
    sql << " AND ";
    return AppendWhere(ctx, sql, model, alias, where, "where");
  };

  SqlBuilder sql;
  const std::string alias = ctx.NewAlias();
  switch (op) {
    case ReadOp::kCount:
      sql << "SELECT count(*)";
      QUARRY_RETURN_IF_ERROR(from_where(sql, alias));
      break;
    case ReadOp::kExists:
      sql << "SELECT EXISTS (SELECT 1";
      QUARRY_RETURN_IF_ERROR(from_where(sql, alias));
      sql << ")";
      break;
    case ReadOp::kFindFirst:
    case ReadOp::kFindFirstOrThrow:
    case ReadOp::kFindUnique:
    case ReadOp::kFindUniqueOrThrow:
      sql << "SELECT ";
      QUARRY_RETURN_IF_ERROR(AppendRowJson(ctx, sql, model, alias, select, include, list_read, ""));
      QUARRY_RETURN_IF_ERROR(from_where(sql, alias));
      QUARRY_RETURN_IF_ERROR(
          AppendOrderBy(ctx, sql, model, alias, args.if_contains("orderBy"), "orderBy"));
      QUARRY_RETURN_IF_ERROR(AppendLimit(sql, args, path, 1));
      break;
    case ReadOp::kFindMany:
    case ReadOp::kFindManyAndCount: {
      QUARRY_ASSIGN_OR_RETURN(
          bool recursive,
          AppendRecursiveRead(ctx, sql, model, args, with_deleted, only_deleted, select, include));
      if (recursive) {
        break;
      }
      QUARRY_ASSIGN_OR_RETURN(bool distinct, BoolArg(args, "distinct", false, path));
      SqlBuilder rows;
      rows << "(SELECT '[' || coalesce(group_concat(j, ','), '') || ']' FROM (SELECT ";
      rows << (distinct ? "DISTINCT " : "");
      const json::value* window = args.if_contains("window");
      if (window != nullptr && !window->is_object()) {
        return ArgError("window", "expected {name: {function spec}, ...}");
      }
      QUARRY_RETURN_IF_ERROR(AppendRowJson(ctx, rows, model, alias, select, include, list_read, "",
                                           window ? &window->get_object() : nullptr));
      rows << " AS j";
      QUARRY_RETURN_IF_ERROR(from_where(rows, alias));
      QUARRY_RETURN_IF_ERROR(
          AppendOrderBy(ctx, rows, model, alias, args.if_contains("orderBy"), "orderBy"));
      QUARRY_RETURN_IF_ERROR(AppendLimit(rows, args, path));
      rows << "))";
      if (op == ReadOp::kFindMany) {
        sql << "SELECT ";
        sql.Append(std::move(rows));
      } else {
        std::string count_alias = ctx.NewAlias();
        sql << "SELECT '{\"rows\":' || ";
        sql.Append(std::move(rows));
        sql << " || ',\"total\":' || (SELECT count(*)";
        QUARRY_RETURN_IF_ERROR(from_where(sql, count_alias));
        sql << ") || '}'";
      }
      break;
    }
    case ReadOp::kFindManyCursor: {
      QUARRY_ASSIGN_OR_RETURN(read.page_size, CursorPageSize(args));
      QUARRY_ASSIGN_OR_RETURN(
          std::vector<OrderTerm> terms,
          ParseOrderBy(ctx, model, alias, args.if_contains("orderBy"), "orderBy"));
      const schema::Field* pk = model.PrimaryKey();
      bool has_pk = false;
      std::string scope = model.name;
      for (const OrderTerm& t : terms) {
        if (t.field == nullptr) {
          return ArgError("orderBy", "findManyCursor orders by fields of the model only");
        }
        // The next cursor carries the last row's sort keys, readable by whoever holds it.
        std::string sub = JoinPath("orderBy", t.field->name);
        if (!ReadAccess(ctx, *t.field, /*explicitly_selected=*/true, /*list_read=*/true).visible) {
          return Status(ErrorCode::kForbidden,
                        sub + ": findManyCursor cannot order by field '" + t.field->name +
                            "': its values would be in the cursor, and this caller may not read "
                            "them")
              .WithPath(sub);
        }
        if (!t.field->type.list && t.field->type.kind == schema::FieldType::Kind::kScalar &&
            t.field->type.scalar == schema::ScalarType::kBlob) {
          return ArgError(sub, "findManyCursor cannot order by Blob field '" + t.field->name + "'");
        }
        has_pk = has_pk || t.field == pk;
        scope += "|" + t.field->name + (t.desc ? ":d" : ":a") +
                 (t.nulls_first ? (*t.nulls_first ? "f" : "l") : "");
      }
      if (!has_pk) {
        // The tie-break follows the last term's direction, so that (k, id) stays one index
        // range for the row-value comparison below.
        OrderTerm tie;
        tie.field = pk;
        tie.desc = !terms.empty() && terms.back().desc;
        tie.expr.Column(alias, pk->column);
        terms.push_back(std::move(tie));
        scope += "|" + pk->name + (tie.desc ? ":d" : ":a");
      }
      read.cursor_scope = scope;
      read.cursor_keys = terms.size();
      sql << "SELECT ";
      QUARRY_RETURN_IF_ERROR(AppendRowJson(ctx, sql, model, alias, select, include, true, ""));
      // The sort keys as the ORDER BY sees them: a field readable only on some rows is NULL on
      // the others, in the cursor and in the comparisons with it.
      sql << ", json_array(";
      for (size_t i = 0; i < terms.size(); ++i) {
        sql << (i ? ", " : "");
        sql.Append(terms[i].expr);
      }
      sql << ")";
      QUARRY_RETURN_IF_ERROR(from_where(sql, alias));
      if (const json::value* cursor = args.if_contains("cursor");
          cursor != nullptr && !cursor->is_null()) {
        QUARRY_ASSIGN_OR_RETURN(const json::array keys,
                                CursorKeys(ctx, *cursor, scope, terms.size()));
        // The keys are slots 1.. (the limit is slot 0): a cached plan binds another cursor's.
        auto key = [&](size_t i) {
          ParamSource source;
          source.kind = ParamSource::Kind::kSlot;
          source.slot = 1 + i;
          return source;
        };
        // Rows after the cursor's. When every key is a required field sorted the same way,
        // a row-value comparison (k0, k1, ...) > (?, ?, ...), which SQLite answers with an
        // index range: a page costs the same wherever it is.
        bool same_way = true;
        for (size_t i = 0; i < terms.size(); ++i) {
          same_way = same_way && !terms[i].nulls_first && terms[i].desc == terms[0].desc &&
                     !terms[i].field->type.optional && !keys[i].is_null();
        }
        if (same_way) {
          sql << " AND (";
          for (size_t i = 0; i < terms.size(); ++i) {
            sql << (i ? ", " : "");
            sql.Append(terms[i].expr);
          }
          sql << (terms[0].desc ? ") < (" : ") > (");
          for (size_t i = 0; i < terms.size(); ++i) {
            sql << (i ? ", " : "");
            sql.Param(JsonScalarValue(keys[i]), key(i));
          }
          sql << ")";
        } else {
          // Otherwise (k0 after) OR (k0 = AND k1 after) OR ..., minding where NULLs sort.
          sql << " AND (0";
          for (size_t i = 0; i < terms.size(); ++i) {
            sql << " OR (1";
            for (size_t j = 0; j < i; ++j) {
              sql << " AND ";
              sql.Append(terms[j].expr);
              if (keys[j].is_null()) {
                sql << " IS NULL";
              } else {
                sql << " = ";
                sql.Param(JsonScalarValue(keys[j]), key(j));
              }
            }
            const OrderTerm& t = terms[i];
            bool nulls_first = t.nulls_first.value_or(!t.desc);
            sql << " AND ";
            if (keys[i].is_null()) {
              if (nulls_first) {
                sql.Append(t.expr);
                sql << " IS NOT NULL";
              } else {
                sql << "0";
              }
            } else {
              sql << "(";
              sql.Append(t.expr);
              sql << (t.desc ? " < " : " > ");
              sql.Param(JsonScalarValue(keys[i]), key(i));
              if (!nulls_first) {
                sql << " OR ";
                sql.Append(t.expr);
                sql << " IS NULL";
              }
              sql << ")";
            }
            sql << ")";
          }
          sql << ")";
        }
      }
      AppendTerms(sql, terms);
      sql << " LIMIT ";
      ParamSource limit_source;
      limit_source.kind = ParamSource::Kind::kSlot;
      limit_source.slot = 0;
      sql.Param(CursorLimit(read.page_size), limit_source);
      break;
    }
  }
  read.sql = sql.TakeSql();
  read.params = sql.TakeParams();
  read.sources = sql.TakeSources();
  read.gated.assign(ctx.read_gates.begin() + static_cast<std::ptrdiff_t>(gates_before),
                    ctx.read_gates.end());
  return read;
}

Result<std::string> RunRead(CompileContext& ctx, const CompiledRead& read, SqlRunner& runner) {
  QUARRY_ASSIGN_OR_RETURN(std::vector<Row> rows, runner.Run(read.sql, read.params));
  switch (read.op) {
    case ReadOp::kCount:
      return std::to_string(rows.at(0).at(0).integer);
    case ReadOp::kExists:
      return std::string(rows.at(0).at(0).integer != 0 ? "true" : "false");
    case ReadOp::kFindMany:
    case ReadOp::kFindManyAndCount:
      return std::move(rows.at(0).at(0).bytes);
    case ReadOp::kFindFirst:
    case ReadOp::kFindUnique:
      return rows.empty() ? std::string("null") : std::move(rows[0][0].bytes);
    case ReadOp::kFindFirstOrThrow:
    case ReadOp::kFindUniqueOrThrow:
      if (rows.empty()) {
        return Status(ErrorCode::kNotFound, "no " + read.model->name +
                                                " row matches the where (or the caller may "
                                                "not read it)");
      }
      return std::move(rows[0][0].bytes);
    case ReadOp::kFindManyCursor: {
      bool has_more = static_cast<int64_t>(rows.size()) > read.page_size;
      size_t n = has_more ? static_cast<size_t>(read.page_size) : rows.size();
      std::string out = "{\"items\":[";
      for (size_t i = 0; i < n; ++i) {
        out += i ? "," : "";
        out += rows[i][0].bytes;
      }
      out += "],\"nextCursor\":";
      if (has_more && n > 0) {
        json::object payload;
        payload["s"] = read.cursor_scope;
        payload["k"] = json::parse(rows[n - 1][1].bytes);
        std::string text = json::serialize(payload);
        out += "\"" + Base64UrlEncode(text) + "." + Base64UrlEncode(ctx.sign_cursor(text)) + "\"";
      } else {
        out += "null";
      }
      out += has_more ? ",\"hasMore\":true}" : ",\"hasMore\":false}";
      return out;
    }
  }
  return Status(ErrorCode::kInternal, "unknown read");
}

}  // namespace quarry::query
