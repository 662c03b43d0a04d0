#include "query/aggregate.h"

#include <boost/json/serialize.hpp>
#include <map>
#include <optional>
#include <vector>

#include "query/policy_sql.h"
#include "query/read.h"
#include "query/time_bucket.h"
#include "query/values.h"
#include "query/where.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

// fillGaps never makes more buckets than this; past it the request fails (a wider interval or a
// narrower where fits).
constexpr int64_t kMaxBuckets = 100000;

// Names of the statement's own columns and tables. The `$` keeps them apart from models' tables
// and columns (schema names are identifiers; only an odd @map or @@map could hold one).
std::string ColumnName(std::string_view kind, size_t n) {
  return "quarry$" + std::string(kind) + std::to_string(n);
}
constexpr std::string_view kGrouped = "\"quarry$g\"";
constexpr std::string_view kBounds = "\"quarry$bounds\"";
constexpr std::string_view kBuckets = "\"quarry$buckets\"";
constexpr std::string_view kFilled = "\"quarry$filled\"";

enum class Fn { kCountAll, kCount, kCountDistinct, kSum, kAvg, kMin, kMax };

const char* FnName(Fn fn) {
  switch (fn) {
    case Fn::kCountAll:
    case Fn::kCount:
    case Fn::kCountDistinct:
      return "count";
    case Fn::kSum:
      return "sum";
    case Fn::kAvg:
      return "avg";
    case Fn::kMin:
      return "min";
    case Fn::kMax:
      return "max";
  }
  return "count";
}

bool IsScalar(const schema::Field& f, schema::ScalarType type) {
  return !f.type.list && f.type.kind == schema::FieldType::Kind::kScalar && f.type.scalar == type;
}

bool IsNumeric(const schema::Field& f) {
  return IsScalar(f, schema::ScalarType::kInteger) || IsScalar(f, schema::ScalarType::kReal);
}

// Types whose values min/max compare meaningfully.
bool IsOrderable(const schema::Field& f) {
  if (f.type.list) {
    return false;
  }
  if (f.type.kind == schema::FieldType::Kind::kEnum) {
    return true;
  }
  return f.type.kind == schema::FieldType::Kind::kScalar &&
         f.type.scalar != schema::ScalarType::kJson && f.type.scalar != schema::ScalarType::kBlob;
}

std::string TypeText(const schema::Field& f) {
  std::string text = f.type.kind == schema::FieldType::Kind::kScalar
                         ? schema::ScalarTypeName(f.type.scalar)
                         : f.type.name;
  return text + (f.type.list ? "[]" : "");
}

// A stored field of `model` named by `name`, for aggregating.
Result<const schema::Field*> StoredField(const schema::Model& model, std::string_view name,
                                         const std::string& path) {
  const schema::Field* f = model.FindField(std::string(name));
  if (f == nullptr) {
    return ArgError(path,
                    "unknown field '" + std::string(name) + "' of model '" + model.name + "'");
  }
  if (!f->stored()) {
    return ArgError(path, "'" + f->name + "' is a relation; aggregates take fields");
  }
  return f;
}

Status CheckFnType(Fn fn, const schema::Field& f, const std::string& path) {
  if ((fn == Fn::kSum || fn == Fn::kAvg) && !IsNumeric(f)) {
    return ArgError(path, std::string(FnName(fn)) + " takes Integer or Real fields; '" + f.name +
                              "' is " + TypeText(f));
  }
  if ((fn == Fn::kMin || fn == Fn::kMax) && !IsOrderable(f)) {
    return ArgError(path, std::string(FnName(fn)) + " does not compare " + TypeText(f) +
                              " values ('" + f.name + "')");
  }
  return Status::Ok();
}

// Whether an aggregate of `fn` over `field` may be in this caller's result. Beyond the filter
// rules (FilterAccess), a @secret field's value never leaves, so only counting it is allowed.
FieldReadAccess AggregateAccess(const CompileContext& ctx, const schema::Field& field, Fn fn) {
  FieldReadAccess access = FilterAccess(ctx, field);
  if (field.secret && fn != Fn::kCount && fn != Fn::kCountDistinct) {
    access.visible = false;
  }
  return access;
}

// The field's value on rows where the caller may read it, NULL elsewhere.
void AppendOperand(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                   const schema::Field& field, std::string_view alias,
                   const FieldReadAccess& access) {
  if (!access.conditional) {
    sql.Column(alias, field.column);
    return;
  }
  sql << "CASE WHEN ";
  AppendFieldReadCondition(ctx, sql, model, field, alias);
  sql << " THEN ";
  sql.Column(alias, field.column);
  sql << " END";
}

// A synthetic field: how a computed column `column` renders (OutputExpression).
schema::Field OutField(const std::string& column, schema::FieldType type) {
  schema::Field f;
  f.name = column;
  f.column = column;
  f.type = std::move(type);
  f.type.optional = true;
  return f;
}

schema::FieldType ScalarOf(schema::ScalarType scalar) {
  schema::FieldType t;
  t.kind = schema::FieldType::Kind::kScalar;
  t.scalar = scalar;
  return t;
}

// One column computed over the model's scanned rows: a group key or an aggregate.
struct Column {
  std::string name;
  SqlBuilder expr;
  schema::Field out;   // how it renders
  bool count = false;  // a count: 0 (not null) in a bucket fillGaps made
};

// A member of the result object: a computed column, or an object of members.
struct Member {
  std::string key;
  std::optional<size_t> column;
  std::vector<Member> members;
};

// A group key of groupBy: a by-field, or its interval bucket.
struct Key {
  const schema::Field* field = nullptr;
  FieldReadAccess access;
  std::optional<Interval> interval;
  size_t column = 0;
};

// Compiles one aggregate or groupBy request: the requested aggregates (in request order), the
// group keys, having and orderBy, into columns of one scan of the model and the result's shape.
class AggregateCompiler {
 public:
  AggregateCompiler(CompileContext& ctx, const schema::Model& model, const json::object& args)
      : ctx_(ctx), model_(model), args_(args), scan_(ctx.NewAlias()) {}

  Status Parse(std::string_view op, std::initializer_list<std::string_view> allowed) {
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model_, RowOperation::kRead));
    json::object plain;
    for (const auto& kv : args_) {
      if (!IsAggregateKey(kv.key())) {
        plain.emplace(kv.key(), kv.value());
      }
    }
    QUARRY_RETURN_IF_ERROR(CheckKeys(plain, allowed, "", op));
    QUARRY_ASSIGN_OR_RETURN(with_deleted_, BoolArg(args_, "withDeleted", false, ""));
    QUARRY_ASSIGN_OR_RETURN(only_deleted_, BoolArg(args_, "onlyDeleted", false, ""));
    where_ = args_.if_contains("where");
    return Status::Ok();
  }

  static bool IsAggregateKey(std::string_view key) { return key.size() > 1 && key[0] == '_'; }

  // groupBy's by (and interval): the group keys, in order.
  Status ParseKeys() {
    const json::value* by = args_.if_contains("by");
    std::vector<const json::value*> names;
    if (by != nullptr && by->is_string()) {
      names.push_back(by);
    } else if (by != nullptr && by->is_array()) {
      for (const json::value& v : by->get_array()) {
        names.push_back(&v);
      }
    } else {
      return ArgError("by", "expected an array of field names");
    }
    if (names.empty()) {
      return ArgError("by", "groupBy needs at least one field");
    }
    const json::value* interval = args_.if_contains("interval");
    if (interval != nullptr && !interval->is_null() && !interval->is_object()) {
      return ArgError("interval",
                      "expected {field: \"year\"|\"quarter\"|\"month\"|\"week\"|"
                      "\"day\"|\"hour\"}");
    }
    const json::object* intervals =
        interval != nullptr && interval->is_object() ? &interval->get_object() : nullptr;
    for (size_t i = 0; i < names.size(); ++i) {
      std::string path = by->is_array() ? JoinPath("by", std::to_string(i)) : "by";
      if (!names[i]->is_string()) {
        return ArgError(path, "expected a field name");
      }
      QUARRY_ASSIGN_OR_RETURN(const schema::Field* f,
                              StoredField(model_, names[i]->get_string(), path));
      for (const Key& k : keys_) {
        if (k.field == f) {
          return ArgError(path, "'" + f->name + "' is already in by");
        }
      }
      QUARRY_ASSIGN_OR_RETURN(FieldReadAccess access, ReferenceAccess(*f, path));
      Key key;
      key.field = f;
      key.access = access;
      if (intervals != nullptr) {
        if (const json::value* unit = intervals->if_contains(f->name)) {
          std::string unit_path = JoinPath("interval", f->name);
          // Text too: ISO-8601 text is what a DateTime holds, and what an introspected schema
          // (no recorded one) sees a DateTime column as.
          if (!IsScalar(*f, schema::ScalarType::kDateTime) &&
              !IsScalar(*f, schema::ScalarType::kText)) {
            return ArgError(unit_path, "interval buckets DateTime fields; '" + f->name + "' is " +
                                           TypeText(*f));
          }
          key.interval = unit->is_string() ? ParseInterval(unit->get_string()) : std::nullopt;
          if (!key.interval) {
            return ArgError(unit_path,
                            "expected \"year\", \"quarter\", \"month\", \"week\", \"day\" or "
                            "\"hour\"");
          }
          if (interval_key_) {
            return ArgError(unit_path, "groupBy buckets one field by interval");
          }
          interval_key_ = keys_.size();
        }
      }
      SqlBuilder operand;
      AppendOperand(ctx_, operand, model_, *f, scan_, access);
      SqlBuilder expr;
      schema::FieldType type = f->type;
      if (key.interval) {
        AppendLabel(expr, *key.interval, operand);
        type = ScalarOf(schema::ScalarType::kText);
      } else {
        expr = std::move(operand);
      }
      key.column = AddColumn("k", std::move(expr), type, false);
      keys_.push_back(key);
    }
    if (intervals != nullptr) {
      for (const auto& kv : *intervals) {
        bool found = false;
        for (const Key& k : keys_) {
          found = found || k.field->name == kv.key();
        }
        if (!found) {
          return ArgError(JoinPath("interval", kv.key()),
                          "'" + std::string(kv.key()) + "' is not in by");
        }
      }
    }
    QUARRY_ASSIGN_OR_RETURN(fill_, BoolArg(args_, "fillGaps", interval_key_.has_value(), ""));
    if (fill_ && !interval_key_) {
      return ArgError("fillGaps", "fillGaps needs an interval");
    }
    return Status::Ok();
  }

  // The requested aggregates, as result members in request order.
  Status ParseAggregates() {
    for (const auto& [key_view, value] : args_) {
      std::string key(key_view);
      if (!IsAggregateKey(key)) {
        continue;
      }
      if (key == "_count") {
        QUARRY_RETURN_IF_ERROR(CountMember(value));
      } else if (key == "_sum" || key == "_avg" || key == "_min" || key == "_max") {
        QUARRY_RETURN_IF_ERROR(FieldsMember(key, value));
      } else if (key == "_stringAgg") {
        QUARRY_RETURN_IF_ERROR(StringAggMember(value));
      } else {
        QUARRY_RETURN_IF_ERROR(NamedMember(key, value));
      }
    }
    return Status::Ok();
  }

  // having: a condition over the groups, compiled over alias `alias` of the grouped rows.
  Status ParseHaving(const std::string& alias) {
    const json::value* having = args_.if_contains("having");
    if (having == nullptr || having->is_null()) {
      having_ << "1";
      return Status::Ok();
    }
    return HavingObject(having_, *having, "having", alias);
  }

  // groupBy's orderBy over the grouped rows (alias `alias`); by the keys in order when absent.
  Status ParseOrderBy(const std::string& alias) {
    const json::value* order_by = args_.if_contains("orderBy");
    order_ << " ORDER BY ";
    if (order_by == nullptr || order_by->is_null()) {
      for (size_t i = 0; i < keys_.size(); ++i) {
        order_ << (i ? ", " : "");
        order_.Column(alias, columns_[keys_[i].column].name);
      }
      return Status::Ok();
    }
    std::vector<std::pair<const json::object*, std::string>> items;
    if (order_by->is_object()) {
      items.emplace_back(&order_by->get_object(), "orderBy");
    } else if (order_by->is_array()) {
      for (size_t i = 0; i < order_by->get_array().size(); ++i) {
        const json::value& item = order_by->get_array()[i];
        std::string path = JoinPath("orderBy", std::to_string(i));
        if (!item.is_object()) {
          return ArgError(path, "expected an object such as {\"_count\": \"desc\"}");
        }
        items.emplace_back(&item.get_object(), path);
      }
    } else {
      return ArgError("orderBy", "expected an object or an array of objects");
    }
    bool first = true;
    for (const auto& [object, path] : items) {
      for (const auto& [key_view, value] : *object) {
        std::string key(key_view);
        std::string sub = JoinPath(path, key);
        std::vector<std::pair<size_t, OrderDirection>> terms;
        QUARRY_RETURN_IF_ERROR(OrderTerm(key, value, sub, terms));
        for (const auto& [column, dir] : terms) {
          order_ << (first ? "" : ", ");
          first = false;
          order_.Column(alias, columns_[column].name);
          AppendOrderDirection(order_, dir);
        }
      }
    }
    // Groups that tie on every term come in key order.
    for (const Key& k : keys_) {
      order_ << (first ? "" : ", ");
      first = false;
      order_.Column(alias, columns_[k.column].name);
    }
    return Status::Ok();
  }

  // SELECT <columns> FROM <model> AS <scan> WHERE <scope> AND <where> [GROUP BY <keys>].
  Status AppendScan(SqlBuilder& sql) {
    sql << "SELECT ";
    if (columns_.empty()) {
      sql << "NULL";
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      sql << (i ? ", " : "");
      sql.Append(columns_[i].expr);
      sql << " AS ";
      sql.Ident(columns_[i].name);
    }
    QUARRY_RETURN_IF_ERROR(AppendFromWhere(sql, scan_));
    if (!keys_.empty()) {
      sql << " GROUP BY ";
      for (size_t i = 0; i < keys_.size(); ++i) {
        sql << (i ? ", " : "") << std::to_string(keys_[i].column + 1);
      }
    }
    return Status::Ok();
  }

  // The JSON object of one result row over alias `alias`: the keys, then the members.
  void AppendObject(SqlBuilder& sql, const std::string& alias) const {
    std::vector<Member> all;
    for (const Key& k : keys_) {
      all.push_back(Member{k.field->name, k.column, {}});
    }
    for (const Member& m : members_) {
      all.push_back(m);
    }
    AppendMembers(sql, all, alias);
  }

  // groupBy's statement: the JSON array of the groups, and (with fillGaps) whether there were
  // too many buckets.
  Status AppendGroupBy(SqlBuilder& sql) {
    const std::string alias = ctx_.NewAlias();
    QUARRY_RETURN_IF_ERROR(ParseHaving(alias));
    QUARRY_RETURN_IF_ERROR(ParseOrderBy(alias));
    if (!fill_) {
      sql << "SELECT '[' || coalesce(group_concat(j, ','), '') || ']' FROM (SELECT ";
      AppendObject(sql, alias);
      sql << " AS j FROM (";
      QUARRY_RETURN_IF_ERROR(AppendScan(sql));
      sql << ") AS " << alias << " WHERE ";
      sql.Append(std::move(having_));
      sql.Append(std::move(order_));
      QUARRY_RETURN_IF_ERROR(AppendLimitOffset(sql, args_, ""));
      sql << ")";
      return Status::Ok();
    }
    const Key& bucketed = keys_[*interval_key_];
    Interval interval = *bucketed.interval;
    // The bucket starts of each group's first and last row, for the range to fill.
    SqlBuilder operand;
    AppendOperand(ctx_, operand, model_, *bucketed.field, scan_, bucketed.access);
    SqlBuilder lo;
    SqlBuilder hi;
    lo << "min(";
    AppendBucketStart(lo, interval, operand);
    lo << ")";
    hi << "max(";
    AppendBucketStart(hi, interval, operand);
    hi << ")";
    std::string lo_column = columns_[AddColumn("lo", std::move(lo), {}, false)].name;
    std::string hi_column = columns_[AddColumn("hi", std::move(hi), {}, false)].name;

    sql << "WITH RECURSIVE " << kGrouped << " AS MATERIALIZED (";
    QUARRY_RETURN_IF_ERROR(AppendScan(sql));
    sql << "), " << kBounds << "(lo, hi) AS (SELECT ";
    QUARRY_RETURN_IF_ERROR(AppendBound(sql, *bucketed.field, interval, true, lo_column));
    sql << ", ";
    QUARRY_RETURN_IF_ERROR(AppendBound(sql, *bucketed.field, interval, false, hi_column));
    sql << " FROM " << kGrouped << "), " << kBuckets << "(s) AS (SELECT lo FROM " << kBounds
        << " WHERE lo <= hi UNION ALL SELECT " << NextBucket(interval, "b.s") << " FROM "
        << kBuckets << " AS b, " << kBounds << " WHERE " << NextBucket(interval, "b.s")
        << " <= hi LIMIT " << std::to_string(kMaxBuckets + 1) << "), " << kFilled << " AS (SELECT ";
    // Every bucket for every combination of the other keys that has rows, and the groups whose
    // bucket is NULL (no date-time) as they are.
    std::vector<size_t> others;
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (i != *interval_key_) {
        others.push_back(i);
      }
    }
    for (size_t c = 0; c < columns_.size(); ++c) {
      sql << (c ? ", " : "");
      const std::string& name = columns_[c].name;
      if (c == bucketed.column) {
        sql << "b.k";
      } else if (IsKeyColumn(c)) {
        sql.Column("o", name);
      } else if (columns_[c].count) {
        sql << "coalesce(";
        sql.Column("g", name);
        sql << ", 0)";
      } else {
        sql.Column("g", name);
      }
      sql << " AS ";
      sql.Ident(name);
    }
    sql << " FROM (SELECT ";
    SqlBuilder start;
    start << "s";
    AppendLabel(sql, interval, start);
    sql << " AS k FROM " << kBuckets << ") AS b";
    if (!others.empty()) {
      sql << " CROSS JOIN (SELECT DISTINCT ";
      for (size_t i = 0; i < others.size(); ++i) {
        sql << (i ? ", " : "");
        sql.Ident(columns_[keys_[others[i]].column].name);
      }
      sql << " FROM " << kGrouped << ") AS o";
    }
    sql << " LEFT JOIN " << kGrouped << " AS g ON ";
    sql.Column("g", columns_[bucketed.column].name);
    sql << " = b.k";
    for (size_t i : others) {
      sql << " AND ";
      sql.Column("g", columns_[keys_[i].column].name);
      sql << " IS ";
      sql.Column("o", columns_[keys_[i].column].name);
    }
    sql << " UNION ALL SELECT ";
    for (size_t c = 0; c < columns_.size(); ++c) {
      sql << (c ? ", " : "");
      sql.Ident(columns_[c].name);
    }
    sql << " FROM " << kGrouped << " WHERE ";
    sql.Ident(columns_[bucketed.column].name);
    sql << " IS NULL) SELECT '[' || coalesce(group_concat(j, ','), '') || ']', (SELECT count(*) "
           "FROM "
        << kBuckets << ") > " << std::to_string(kMaxBuckets) << " FROM (SELECT ";
    AppendObject(sql, alias);
    sql << " AS j FROM " << kFilled << " AS " << alias << " WHERE ";
    sql.Append(std::move(having_));
    sql.Append(std::move(order_));
    QUARRY_RETURN_IF_ERROR(AppendLimitOffset(sql, args_, ""));
    sql << ")";
    return Status::Ok();
  }

 private:
  // How a field named in by, having or orderBy may be used: like a filter (403 for a field the
  // caller may not read), and never a @secret one, whose values would be the result.
  Result<FieldReadAccess> ReferenceAccess(const schema::Field& f, const std::string& path) {
    FieldReadAccess access = FilterAccess(ctx_, f);
    if (!access.visible || f.secret) {
      return Status(ErrorCode::kForbidden,
                    path + ": field '" + f.name + "' cannot be read by this caller")
          .WithPath(path);
    }
    return access;
  }

  size_t AddColumn(std::string_view kind, SqlBuilder expr, schema::FieldType type, bool count) {
    size_t n = columns_.size();
    std::string name = ColumnName(kind, n);
    columns_.push_back(Column{name, std::move(expr), OutField(name, std::move(type)), count});
    return n;
  }

  bool IsKeyColumn(size_t column) const {
    for (const Key& k : keys_) {
      if (k.column == column) {
        return true;
      }
    }
    return false;
  }

  // The column of `fn` over `field` (null for count(*)), made once however often it is named;
  // nullopt when the caller may not see that aggregate.
  Result<std::optional<size_t>> Aggregate(Fn fn, const schema::Field* field,
                                          const std::string& path, bool forbid_hidden = false) {
    FieldReadAccess access;
    if (field != nullptr) {
      QUARRY_RETURN_IF_ERROR(CheckFnType(fn, *field, path));
      access = AggregateAccess(ctx_, *field, fn);
      if (!access.visible) {
        if (forbid_hidden) {
          return Status(ErrorCode::kForbidden,
                        path + ": field '" + field->name + "' cannot be read by this caller")
              .WithPath(path);
        }
        return std::optional<size_t>();
      }
    }
    std::string key = std::to_string(static_cast<int>(fn)) + ":" + (field ? field->name : "");
    if (auto it = aggregates_.find(key); it != aggregates_.end()) {
      return std::optional<size_t>(it->second);
    }
    SqlBuilder expr;
    QUARRY_RETURN_IF_ERROR(AppendAggregate(expr, fn, field, access, nullptr, path));
    size_t column = AddColumn("a", std::move(expr), ResultType(fn, field), IsCount(fn));
    aggregates_[key] = column;
    return std::optional<size_t>(column);
  }

  static bool IsCount(Fn fn) {
    return fn == Fn::kCountAll || fn == Fn::kCount || fn == Fn::kCountDistinct;
  }

  static schema::FieldType ResultType(Fn fn, const schema::Field* field) {
    if (IsCount(fn)) {
      return ScalarOf(schema::ScalarType::kInteger);
    }
    if (fn == Fn::kAvg) {
      return ScalarOf(schema::ScalarType::kReal);
    }
    return field->type;
  }

  // fn(operand) [FILTER (WHERE filter)] over the scanned rows.
  Status AppendAggregate(SqlBuilder& expr, Fn fn, const schema::Field* field,
                         const FieldReadAccess& access, const json::value* filter,
                         const std::string& filter_path) {
    expr << FnName(fn) << "(";
    if (fn == Fn::kCountAll) {
      expr << "*";
    } else {
      expr << (fn == Fn::kCountDistinct ? "DISTINCT " : "");
      AppendOperand(ctx_, expr, model_, *field, scan_, access);
    }
    expr << ")";
    if (filter != nullptr) {
      expr << " FILTER (WHERE ";
      QUARRY_RETURN_IF_ERROR(AppendWhere(ctx_, expr, model_, scan_, filter, filter_path));
      expr << ")";
    }
    return Status::Ok();
  }

  // _count: true | {distinct: "field"} | {_all: true, field: true, ...}
  Status CountMember(const json::value& value) {
    const std::string path = "_count";
    if (value.is_bool()) {
      if (value.get_bool()) {
        QUARRY_ASSIGN_OR_RETURN(std::optional<size_t> c, Aggregate(Fn::kCountAll, nullptr, path));
        members_.push_back(Member{path, c, {}});
      }
      return Status::Ok();
    }
    if (!value.is_object()) {
      return ArgError(path, "expected true, {\"distinct\": \"field\"} or {field: true, ...}");
    }
    const json::object& spec = value.get_object();
    if (const json::value* distinct = spec.if_contains("distinct");
        distinct != nullptr && distinct->is_string()) {
      if (spec.size() != 1) {
        return ArgError(path, "{\"distinct\": \"field\"} takes nothing else");
      }
      std::string sub = JoinPath(path, "distinct");
      QUARRY_ASSIGN_OR_RETURN(const schema::Field* f,
                              StoredField(model_, distinct->get_string(), sub));
      QUARRY_ASSIGN_OR_RETURN(std::optional<size_t> c, Aggregate(Fn::kCountDistinct, f, sub));
      if (c) {
        members_.push_back(Member{path, c, {}});
      }
      return Status::Ok();
    }
    Member member{path, std::nullopt, {}};
    for (const auto& [name_view, on] : spec) {
      std::string name(name_view);
      std::string sub = JoinPath(path, name);
      if (!on.is_bool()) {
        return ArgError(sub, "expected true or false");
      }
      if (!on.get_bool()) {
        continue;
      }
      std::optional<size_t> c;
      if (name == "_all") {
        QUARRY_ASSIGN_OR_RETURN(c, Aggregate(Fn::kCountAll, nullptr, sub));
      } else {
        QUARRY_ASSIGN_OR_RETURN(const schema::Field* f, StoredField(model_, name, sub));
        QUARRY_ASSIGN_OR_RETURN(c, Aggregate(Fn::kCount, f, sub));
      }
      if (c) {
        member.members.push_back(Member{name, c, {}});
      }
    }
    members_.push_back(std::move(member));
    return Status::Ok();
  }

  static Fn FnOf(std::string_view key) {
    if (key == "_sum" || key == "sum") {
      return Fn::kSum;
    }
    if (key == "_avg" || key == "avg") {
      return Fn::kAvg;
    }
    if (key == "_min" || key == "min") {
      return Fn::kMin;
    }
    return Fn::kMax;
  }

  // _sum / _avg / _min / _max: {field: true, ...}
  Status FieldsMember(const std::string& key, const json::value& value) {
    if (!value.is_object()) {
      return ArgError(key, "expected {field: true, ...}");
    }
    Member member{key, std::nullopt, {}};
    for (const auto& [name_view, on] : value.get_object()) {
      std::string name(name_view);
      std::string sub = JoinPath(key, name);
      if (!on.is_bool()) {
        return ArgError(sub, "expected true or false");
      }
      QUARRY_ASSIGN_OR_RETURN(const schema::Field* f, StoredField(model_, name, sub));
      if (!on.get_bool()) {
        continue;
      }
      QUARRY_ASSIGN_OR_RETURN(std::optional<size_t> c, Aggregate(FnOf(key), f, sub));
      if (c) {
        member.members.push_back(Member{name, c, {}});
      }
    }
    members_.push_back(std::move(member));
    return Status::Ok();
  }

  // _<name>: {count: true | "field", sum|avg|min|max: "field", filter: {where}}
  Status NamedMember(const std::string& key, const json::value& value) {
    if (!value.is_object()) {
      return ArgError(key,
                      "a named aggregate takes {count: true | \"field\", sum | avg | min | "
                      "max: \"field\", filter: {...}}");
    }
    const json::object& spec = value.get_object();
    std::optional<Fn> fn;
    const schema::Field* field = nullptr;
    std::string fn_path;
    for (const auto& [name_view, arg] : spec) {
      std::string name(name_view);
      std::string sub = JoinPath(key, name);
      if (name == "filter") {
        continue;
      }
      if (name != "count" && name != "sum" && name != "avg" && name != "min" && name != "max") {
        return ArgError(sub, "unknown aggregate function '" + name +
                                 "' (count, sum, avg, min, max, and filter)");
      }
      if (fn) {
        return ArgError(sub, "a named aggregate computes one function");
      }
      fn_path = sub;
      if (name == "count" && arg.is_bool()) {
        if (!arg.get_bool()) {
          return ArgError(sub, "expected true or a field name");
        }
        fn = Fn::kCountAll;
        continue;
      }
      if (!arg.is_string()) {
        return ArgError(
            sub, name == "count" ? "expected true or a field name" : "expected a field name");
      }
      QUARRY_ASSIGN_OR_RETURN(field, StoredField(model_, arg.get_string(), sub));
      fn = name == "count" ? Fn::kCount : FnOf(name);
    }
    if (!fn) {
      return ArgError(key, "a named aggregate needs one of count, sum, avg, min, max");
    }
    FieldReadAccess access;
    if (field != nullptr) {
      QUARRY_RETURN_IF_ERROR(CheckFnType(*fn, *field, fn_path));
      access = AggregateAccess(ctx_, *field, *fn);
      if (!access.visible) {
        return Status::Ok();
      }
    }
    const json::value* filter = spec.if_contains("filter");
    if (filter != nullptr && !filter->is_null() && !filter->is_object()) {
      return ArgError(JoinPath(key, "filter"), "expected a where object");
    }
    SqlBuilder expr;
    QUARRY_RETURN_IF_ERROR(AppendAggregate(
        expr, *fn, field, access, filter != nullptr && filter->is_object() ? filter : nullptr,
        JoinPath(key, "filter")));
    size_t column = AddColumn("a", std::move(expr), ResultType(*fn, field), IsCount(*fn));
    named_[key] = column;
    members_.push_back(Member{key, column, {}});
    return Status::Ok();
  }

  // _stringAgg: {field, separator, orderBy} (or an array of them): the field's non-null values
  // joined by separator (default ","), in orderBy's order. SQLite 3.40's group_concat takes no
  // ORDER BY, so the values come from an ordered subquery of the same rows (of the group).
  Status StringAggMember(const json::value& value) {
    const std::string path = "_stringAgg";
    std::vector<std::pair<const json::object*, std::string>> specs;
    if (value.is_object()) {
      specs.emplace_back(&value.get_object(), path);
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.get_array().size(); ++i) {
        std::string sub = JoinPath(path, std::to_string(i));
        if (!value.get_array()[i].is_object()) {
          return ArgError(sub, "expected {field, separator, orderBy}");
        }
        specs.emplace_back(&value.get_array()[i].get_object(), sub);
      }
    } else {
      return ArgError(path, "expected {field, separator, orderBy}");
    }
    Member member{path, std::nullopt, {}};
    for (const auto& [spec, spec_path] : specs) {
      QUARRY_RETURN_IF_ERROR(
          CheckKeys(*spec, {"field", "separator", "orderBy"}, spec_path, "_stringAgg"));
      const json::value* name = spec->if_contains("field");
      std::string field_path = JoinPath(spec_path, "field");
      if (name == nullptr || !name->is_string()) {
        return ArgError(field_path, "expected a field name");
      }
      QUARRY_ASSIGN_OR_RETURN(const schema::Field* f,
                              StoredField(model_, name->get_string(), field_path));
      if (IsScalar(*f, schema::ScalarType::kBlob)) {
        return ArgError(field_path, "_stringAgg does not join Blob values ('" + f->name + "')");
      }
      FieldReadAccess access = AggregateAccess(ctx_, *f, Fn::kMin);
      if (!access.visible) {
        continue;
      }
      std::string separator = ",";
      if (const json::value* sep = spec->if_contains("separator"); sep != nullptr) {
        if (!sep->is_string()) {
          return ArgError(JoinPath(spec_path, "separator"), "expected a string");
        }
        separator = std::string(sep->get_string());
      }
      json::value order;
      if (const json::value* o = spec->if_contains("orderBy"); o != nullptr && !o->is_null()) {
        if (o->is_string()) {
          json::object term;
          term[o->get_string()] = "asc";
          order = std::move(term);
        } else {
          order = *o;
        }
      }
      std::string inner = ctx_.NewAlias();
      SqlBuilder expr;
      expr << "(SELECT group_concat(v, ";
      expr.Param(TextValue(separator));
      expr << ") FROM (SELECT ";
      SqlBuilder operand;
      AppendOperand(ctx_, operand, model_, *f, inner, access);
      if (IsScalar(*f, schema::ScalarType::kBoolean)) {
        expr << "CASE WHEN ";
        expr.Append(operand);
        expr << " THEN 'true' WHEN NOT ";
        expr.Append(operand);
        expr << " THEN 'false' END";
      } else {
        expr.Append(std::move(operand));
      }
      expr << " AS v";
      QUARRY_RETURN_IF_ERROR(AppendFromWhere(expr, inner));
      // Within groupBy, the rows of this group: its keys, computed on the inner row, match the
      // outer row's (a key column of the grouped select).
      for (const Key& k : keys_) {
        SqlBuilder inner_operand;
        AppendOperand(ctx_, inner_operand, model_, *k.field, inner, k.access);
        expr << " AND ";
        if (k.interval) {
          AppendLabel(expr, *k.interval, inner_operand);
        } else {
          expr.Append(std::move(inner_operand));
        }
        expr << " IS ";
        expr.Append(columns_[k.column].expr);
      }
      QUARRY_RETURN_IF_ERROR(AppendOrderBy(ctx_, expr, model_, inner,
                                           order.is_null() ? nullptr : &order,
                                           JoinPath(spec_path, "orderBy")));
      expr << "))";
      size_t column = AddColumn("a", std::move(expr), ScalarOf(schema::ScalarType::kText), false);
      member.members.push_back(Member{f->name, column, {}});
    }
    members_.push_back(std::move(member));
    return Status::Ok();
  }

  // FROM <model> AS <alias> WHERE <read scope> AND <where>.
  Status AppendFromWhere(SqlBuilder& sql, const std::string& alias) {
    sql << " FROM ";
    sql.Ident(model_.table);
    sql << " AS " << alias << " WHERE ";
    AppendReadScope(ctx_, sql, model_, alias, with_deleted_, only_deleted_);
    sql << " AND ";
    return AppendWhere(ctx_, sql, model_, alias, where_, "where");
  }

  // `'{' || substr('' || ',"key":' || <value> ..., 2) || '}'` over the computed columns.
  void AppendMembers(SqlBuilder& sql, const std::vector<Member>& members,
                     const std::string& alias) const {
    sql << "('{' || substr(''";
    for (const Member& m : members) {
      sql << " || " << MemberPrefix(m.key) << " || ";
      if (m.column) {
        OutputExpression(sql, columns_[*m.column].out, alias);
      } else {
        AppendMembers(sql, m.members, alias);
      }
    }
    sql << ", 2) || '}')";
  }

  // The first (`low`) or last bucket fillGaps makes: where's own bound on the field when it has
  // one (gte/gt, lte/lt), else the bucket of the first or last row.
  Status AppendBound(SqlBuilder& sql, const schema::Field& field, Interval interval, bool low,
                     const std::string& data_column) {
    const json::value* bound = nullptr;
    bool exclusive = false;
    if (where_ != nullptr && where_->is_object()) {
      if (const json::value* ops = where_->get_object().if_contains(field.name);
          ops != nullptr && ops->is_object()) {
        static constexpr std::string_view kLow[] = {"gte", "gt"};
        static constexpr std::string_view kHigh[] = {"lte", "lt"};
        for (std::string_view op : low ? kLow : kHigh) {
          if (bound == nullptr && ops->get_object().contains(op)) {
            bound = &ops->get_object().at(op);
            exclusive = op == "lt";
          }
        }
      }
    }
    if (bound != nullptr && bound->is_string()) {
      sql << "coalesce(";
      SqlBuilder x;
      if (exclusive) {
        // The last bucket is the one holding the last instant before `lt`.
        x << "strftime('%Y-%m-%d %H:%M:%f', ";
        x.Param(TextValue(std::string(bound->get_string())));
        x << ", '-0.001 seconds')";
      } else {
        x.Param(TextValue(std::string(bound->get_string())));
      }
      AppendBucketStart(sql, interval, x);
      sql << ", ";
    }
    sql << (low ? "min(" : "max(");
    sql.Ident(data_column);
    sql << (bound != nullptr && bound->is_string() ? "))" : ")");
    return Status::Ok();
  }

  // having: {AND|OR|NOT, by-field: condition, _count: condition | {field: condition},
  // _sum|_avg|_min|_max: {field: condition}, _<named>: condition}.
  Status HavingObject(SqlBuilder& sql, const json::value& having, const std::string& path,
                      const std::string& alias) {
    if (!having.is_object()) {
      return ArgError(path, "expected an object of conditions on aggregates or by-fields");
    }
    sql << "(1";
    for (const auto& [key_view, value] : having.get_object()) {
      std::string key(key_view);
      std::string sub = JoinPath(path, key);
      sql << " AND ";
      if (key == "AND" || key == "OR" || key == "NOT") {
        std::vector<std::pair<const json::value*, std::string>> items;
        if (value.is_array()) {
          for (size_t i = 0; i < value.get_array().size(); ++i) {
            items.emplace_back(&value.get_array()[i], JoinPath(sub, std::to_string(i)));
          }
        } else {
          items.emplace_back(&value, sub);
        }
        if (items.empty()) {
          sql << (key == "OR" ? "0" : "1");
          continue;
        }
        sql << (key == "NOT" ? "NOT coalesce((" : "(");
        for (size_t i = 0; i < items.size(); ++i) {
          sql << (i == 0 ? "" : key == "OR" ? " OR " : " AND ");
          QUARRY_RETURN_IF_ERROR(HavingObject(sql, *items[i].first, items[i].second, alias));
        }
        sql << (key == "NOT" ? "), 0)" : ")");
        continue;
      }
      if (!IsAggregateKey(key)) {
        const Key* k = FindKey(key);
        if (k == nullptr) {
          return ArgError(sub,
                          "having takes aggregates and fields of by; '" + key + "' is not in by");
        }
        QUARRY_RETURN_IF_ERROR(Condition(sql, alias, k->column, value, sub));
        continue;
      }
      if (auto it = named_.find(key); it != named_.end()) {
        QUARRY_RETURN_IF_ERROR(Condition(sql, alias, it->second, value, sub));
        continue;
      }
      if (key == "_count" && !IsFieldMap(value)) {
        QUARRY_ASSIGN_OR_RETURN(std::optional<size_t> c, Aggregate(Fn::kCountAll, nullptr, sub));
        QUARRY_RETURN_IF_ERROR(Condition(sql, alias, *c, value, sub));
        continue;
      }
      if (key != "_count" && key != "_sum" && key != "_avg" && key != "_min" && key != "_max") {
        return ArgError(sub, "unknown aggregate '" + key +
                                 "' (_count, _sum, _avg, _min, _max, or a named aggregate of "
                                 "this request)");
      }
      if (!value.is_object()) {
        return ArgError(sub, "expected {field: condition}");
      }
      sql << "(1";
      for (const auto& [name_view, condition] : value.get_object()) {
        std::string name(name_view);
        std::string field_path = JoinPath(sub, name);
        std::optional<size_t> c;
        if (key == "_count" && name == "_all") {
          QUARRY_ASSIGN_OR_RETURN(c, Aggregate(Fn::kCountAll, nullptr, field_path));
        } else {
          QUARRY_ASSIGN_OR_RETURN(const schema::Field* f, StoredField(model_, name, field_path));
          QUARRY_ASSIGN_OR_RETURN(
              c, Aggregate(key == "_count" ? Fn::kCount : FnOf(key), f, field_path, true));
        }
        sql << " AND ";
        QUARRY_RETURN_IF_ERROR(Condition(sql, alias, *c, condition, field_path));
      }
      sql << ")";
    }
    sql << ")";
    return Status::Ok();
  }

  // Whether `value` is {field: ...} rather than a condition ({gt: 5}) or a direction.
  bool IsFieldMap(const json::value& value) const {
    if (!value.is_object() || value.get_object().empty()) {
      return false;
    }
    for (const auto& kv : value.get_object()) {
      if (model_.FindField(std::string(kv.key())) == nullptr && kv.key() != "_all") {
        return false;
      }
    }
    return true;
  }

  const Key* FindKey(std::string_view name) const {
    for (const Key& k : keys_) {
      if (k.field->name == name) {
        return &k;
      }
    }
    return nullptr;
  }

  // A condition on one computed column: a value (equality) or {equals, not, in, notIn, lt, lte,
  // gt, gte}.
  Status Condition(SqlBuilder& sql, const std::string& alias, size_t column,
                   const json::value& value, const std::string& path) {
    auto operand = [&] { sql.Column(alias, columns_[column].name); };
    auto equals = [&](const json::value& v, bool negate) {
      operand();
      if (v.is_null()) {
        sql << (negate ? " IS NOT NULL" : " IS NULL");
        return;
      }
      sql << (negate ? " IS NOT " : " = ");
      sql.Param(JsonScalarValue(v));
    };
    if (!value.is_object()) {
      equals(value, false);
      return Status::Ok();
    }
    sql << "(1";
    for (const auto& [op_view, v] : value.get_object()) {
      std::string op(op_view);
      std::string sub = JoinPath(path, op);
      sql << " AND ";
      if (op == "equals" || op == "not") {
        if (v.is_object() || v.is_array()) {
          return ArgError(sub, "expected a value");
        }
        equals(v, op == "not");
      } else if (op == "in" || op == "notIn") {
        if (!v.is_array()) {
          return ArgError(sub, op + " takes an array of values");
        }
        if (op == "notIn") {
          sql << "(";
          operand();
          sql << " IS NULL OR ";
        }
        operand();
        sql << (op == "in" ? " IN" : " NOT IN") << " (SELECT value FROM json_each(";
        sql.Param(TextValue(json::serialize(v)));
        sql << "))" << (op == "notIn" ? ")" : "");
      } else if (op == "lt" || op == "lte" || op == "gt" || op == "gte") {
        if (v.is_null() || v.is_object() || v.is_array()) {
          return ArgError(sub, op + " takes a number or a string");
        }
        operand();
        sql << (op == "lt" ? " < " : op == "lte" ? " <= " : op == "gt" ? " > " : " >= ");
        sql.Param(JsonScalarValue(v));
      } else {
        return ArgError(sub,
                        "unknown operator '" + op + "' (equals, not, in, notIn, lt, lte, gt, gte)");
      }
    }
    sql << ")";
    return Status::Ok();
  }

  // One orderBy entry of groupBy: a by-field, _count (count(*), or {field: dir}), _sum/_avg/
  // _min/_max {field: dir}, or a named aggregate.
  Status OrderTerm(const std::string& key, const json::value& value, const std::string& path,
                   std::vector<std::pair<size_t, OrderDirection>>& terms) {
    if (!IsAggregateKey(key)) {
      const Key* k = FindKey(key);
      if (k == nullptr) {
        return ArgError(
            path, "groupBy orders by aggregates and fields of by; '" + key + "' is not in by");
      }
      QUARRY_ASSIGN_OR_RETURN(OrderDirection dir, ParseOrderDirection(value, path));
      terms.emplace_back(k->column, dir);
      return Status::Ok();
    }
    if (auto it = named_.find(key); it != named_.end()) {
      QUARRY_ASSIGN_OR_RETURN(OrderDirection dir, ParseOrderDirection(value, path));
      terms.emplace_back(it->second, dir);
      return Status::Ok();
    }
    if (key == "_count" && !IsFieldMap(value)) {
      QUARRY_ASSIGN_OR_RETURN(OrderDirection dir, ParseOrderDirection(value, path));
      QUARRY_ASSIGN_OR_RETURN(std::optional<size_t> c, Aggregate(Fn::kCountAll, nullptr, path));
      terms.emplace_back(*c, dir);
      return Status::Ok();
    }
    if (key != "_count" && key != "_sum" && key != "_avg" && key != "_min" && key != "_max") {
      return ArgError(path, "unknown aggregate '" + key +
                                "' (_count, _sum, _avg, _min, _max, or a named aggregate of this "
                                "request)");
    }
    if (!value.is_object()) {
      return ArgError(path, "expected {field: \"asc\" | \"desc\"}");
    }
    for (const auto& [name_view, dir_value] : value.get_object()) {
      std::string name(name_view);
      std::string sub = JoinPath(path, name);
      std::optional<size_t> c;
      if (key == "_count" && name == "_all") {
        QUARRY_ASSIGN_OR_RETURN(c, Aggregate(Fn::kCountAll, nullptr, sub));
      } else {
        QUARRY_ASSIGN_OR_RETURN(const schema::Field* f, StoredField(model_, name, sub));
        QUARRY_ASSIGN_OR_RETURN(c,
                                Aggregate(key == "_count" ? Fn::kCount : FnOf(key), f, sub, true));
      }
      QUARRY_ASSIGN_OR_RETURN(OrderDirection dir, ParseOrderDirection(dir_value, sub));
      terms.emplace_back(*c, dir);
    }
    return Status::Ok();
  }

  CompileContext& ctx_;
  const schema::Model& model_;
  const json::object& args_;
  const std::string scan_;  // the alias of the model's rows
  const json::value* where_ = nullptr;
  bool with_deleted_ = false;
  bool only_deleted_ = false;
  std::vector<Column> columns_;
  std::vector<Member> members_;
  std::vector<Key> keys_;
  std::optional<size_t> interval_key_;
  bool fill_ = false;
  std::map<std::string, size_t> aggregates_;  // "fn:field" -> column
  std::map<std::string, size_t> named_;       // "_countPaid" -> column
  SqlBuilder having_;
  SqlBuilder order_;
};

}  // namespace

Result<std::string> RunAggregate(CompileContext& ctx, const schema::Model& model,
                                 const json::object& args, SqlRunner& runner) {
  AggregateCompiler compiler(ctx, model, args);
  QUARRY_RETURN_IF_ERROR(compiler.Parse("aggregate", {"where", "withDeleted", "onlyDeleted"}));
  QUARRY_RETURN_IF_ERROR(compiler.ParseAggregates());
  SqlBuilder sql;
  const std::string alias = ctx.NewAlias();
  sql << "SELECT ";
  compiler.AppendObject(sql, alias);
  sql << " FROM (";
  QUARRY_RETURN_IF_ERROR(compiler.AppendScan(sql));
  sql << ") AS " << alias;
  QUARRY_ASSIGN_OR_RETURN(std::vector<Row> rows, runner.Run(sql.sql(), sql.params()));
  return std::move(rows.at(0).at(0).bytes);
}

Result<std::string> RunGroupBy(CompileContext& ctx, const schema::Model& model,
                               const json::object& args, SqlRunner& runner) {
  AggregateCompiler compiler(ctx, model, args);
  QUARRY_RETURN_IF_ERROR(
      compiler.Parse("groupBy", {"by", "where", "having", "orderBy", "limit", "offset", "interval",
                                 "fillGaps", "withDeleted", "onlyDeleted"}));
  QUARRY_RETURN_IF_ERROR(compiler.ParseKeys());
  QUARRY_RETURN_IF_ERROR(compiler.ParseAggregates());
  SqlBuilder sql;
  QUARRY_RETURN_IF_ERROR(compiler.AppendGroupBy(sql));
  QUARRY_ASSIGN_OR_RETURN(std::vector<Row> rows, runner.Run(sql.sql(), sql.params()));
  const Row& row = rows.at(0);
  if (row.size() > 1 && row[1].integer != 0) {
    return ArgError("fillGaps", "filling the gaps would make more than " +
                                    std::to_string(kMaxBuckets) +
                                    " buckets; use a wider interval or bound the range with "
                                    "where");
  }
  return std::move(rows.at(0).at(0).bytes);
}

}  // namespace quarry::query
