#include "query/recursive.h"

#include "query/read.h"
#include "query/where.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

// A recursive read's limits: no walk goes deeper than kRecursionLimit levels below the rows
// `where` matched; a nested one stops at kNestedDefaultDepth unless maxDepth says otherwise.
constexpr int64_t kRecursionLimit = 100;
constexpr int64_t kNestedDefaultDepth = 10;

// The CTE and its bookkeeping columns. The `$` keeps them apart from models' tables and columns
// (schema names are identifiers; only an odd @map or @@map could hold one).
constexpr std::string_view kTree = "\"quarry$tree\"";
constexpr std::string_view kDepth = "\"quarry$depth\"";
constexpr std::string_view kSeen = "\"quarry$seen\"";
constexpr std::string_view kPath = "\"quarry$path\"";
constexpr std::string_view kRoot = "\"quarry$root\"";

// findMany's `recursive`, resolved against the model.
struct RecursiveSpec {
  const schema::Field* parent = nullptr;  // the owning to-one relation to the model itself
  std::string nest_key;                   // nested: the member that holds the next level
  bool ancestors = false;
  bool nested = false;
  int64_t max_depth = kRecursionLimit;
};

// The model's self relations: owning to-one fields whose target is the model itself.
std::vector<const schema::Field*> SelfRelations(const schema::Model& model) {
  std::vector<const schema::Field*> out;
  for (const schema::Field& f : model.fields) {
    if (!f.stored() && !f.type.list && f.relation && f.relation->owning &&
        f.relation->target_model == model.name) {
      out.push_back(&f);
    }
  }
  return out;
}

// The back side of self relation `parent` (children), or null when the schema has none.
const schema::Field* ChildrenField(const schema::Model& model, const schema::Field& parent) {
  for (const schema::Field& f : model.fields) {
    if (!f.stored() && f.relation && !f.relation->owning &&
        f.relation->target_model == model.name && f.relation->back_field == parent.name) {
      return &f;
    }
  }
  return nullptr;
}

Result<std::optional<RecursiveSpec>> ParseRecursive(const schema::Model& model,
                                                    const json::object& args) {
  const json::value* v = args.if_contains("recursive");
  if (v == nullptr || v->is_null() || (v->is_bool() && !v->get_bool())) {
    return std::optional<RecursiveSpec>();
  }
  const std::string path = "recursive";
  static const json::object kDefaults;
  const json::object* spec = &kDefaults;
  if (v->is_object()) {
    spec = &v->get_object();
  } else if (!v->is_bool()) {
    return ArgError(path, "expected true or {direction, maxDepth, via, nested}");
  }
  QUARRY_RETURN_IF_ERROR(
      CheckKeys(*spec, {"direction", "maxDepth", "via", "nested"}, path, "recursive"));
  RecursiveSpec out;
  if (const json::value* d = spec->if_contains("direction"); d != nullptr && !d->is_null()) {
    if (!d->is_string() || (d->get_string() != "descendants" && d->get_string() != "ancestors")) {
      return ArgError(JoinPath(path, "direction"), "expected \"descendants\" or \"ancestors\"");
    }
    out.ancestors = d->get_string() == "ancestors";
  }
  QUARRY_ASSIGN_OR_RETURN(out.nested, BoolArg(*spec, "nested", false, path));
  QUARRY_ASSIGN_OR_RETURN(std::optional<int64_t> depth, CountArg(*spec, "maxDepth", path));
  if (depth && *depth > kRecursionLimit) {
    return ArgError(JoinPath(path, "maxDepth"),
                    "at most " + std::to_string(kRecursionLimit) + " levels");
  }
  out.max_depth = depth.value_or(out.nested ? kNestedDefaultDepth : kRecursionLimit);

  std::vector<const schema::Field*> relations = SelfRelations(model);
  if (relations.empty()) {
    return ArgError(path, "model '" + model.name +
                              "' has no relation to itself (a to-one field of type '" + model.name +
                              "' with @relation), so it has no tree to walk");
  }
  if (const json::value* via = spec->if_contains("via"); via != nullptr && !via->is_null()) {
    const std::string via_path = JoinPath(path, "via");
    if (!via->is_string()) {
      return ArgError(via_path, "expected the name of a relation field of '" + model.name + "'");
    }
    std::string name(via->get_string());
    for (const schema::Field* r : relations) {
      const schema::Field* children = ChildrenField(model, *r);
      if (r->name == name || (children != nullptr && children->name == name)) {
        out.parent = r;
      }
    }
    if (out.parent == nullptr) {
      return ArgError(via_path,
                      "'" + name + "' is not a relation of model '" + model.name + "' to itself");
    }
  } else if (relations.size() > 1) {
    std::string names;
    for (const schema::Field* r : relations) {
      names += (names.empty() ? "'" : ", '") + r->name + "'";
    }
    return ArgError(JoinPath(path, "via"), "model '" + model.name +
                                               "' relates to itself several ways (" + names +
                                               "): name one with via");
  } else {
    out.parent = relations[0];
  }
  if (out.ancestors) {
    out.nest_key = out.parent->name;
  } else if (const schema::Field* children = ChildrenField(model, *out.parent)) {
    out.nest_key = children->name;
  } else {
    out.nest_key = model.FindField("children") == nullptr ? "children" : "_children";
  }
  if (out.nested) {
    for (std::string_view key : {"select", "include"}) {
      const json::value* shape = args.if_contains(key);
      if (shape != nullptr && shape->is_object() && shape->get_object().contains(out.nest_key)) {
        return ArgError(JoinPath(std::string(key), out.nest_key),
                        "a nested recursive read fills '" + out.nest_key + "' itself");
      }
    }
    for (std::string_view key : {"orderBy", "limit", "offset", "distinct", "window"}) {
      if (args.contains(key)) {
        return ArgError(std::string(key), "a nested recursive read takes no " + std::string(key) +
                                              " (each level comes in primary-key order)");
      }
    }
  }
  return std::optional<RecursiveSpec>(std::move(out));
}

// A text that sorts a row's primary key among its siblings, and never is a prefix of another
// key's text: integers as a sign digit and 16 hex digits (two's complement, so negatives sort
// first), other types as their text ended by char(1).
void AppendTreeKey(SqlBuilder& sql, const schema::Field& pk, std::string_view alias) {
  if (pk.type.kind == schema::FieldType::Kind::kScalar &&
      pk.type.scalar == schema::ScalarType::kInteger) {
    sql << "(CASE WHEN ";
    sql.Column(alias, pk.column);
    sql << " < 0 THEN '0' ELSE '1' END || printf('%016X', ";
    sql.Column(alias, pk.column);
    sql << "))";
    return;
  }
  sql << "(CAST(";
  sql.Column(alias, pk.column);
  sql << " AS TEXT) || char(1))";
}

// WITH RECURSIVE "quarry$tree": the rows `where` matched (depth 0) and every row reached from
// them through the self relation, each step only to rows the caller may read, never back to a
// row already on the path (a cycle), at most spec.max_depth steps.
Status AppendTree(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                  const RecursiveSpec& spec, const json::object& args, bool with_deleted,
                  bool only_deleted) {
  const schema::Field& pk = *model.PrimaryKey();
  const std::string root = ctx.NewAlias();
  sql << "WITH RECURSIVE " << kTree << " AS (SELECT " << root << ".*, 0 AS " << kDepth
      << ", json_array(quote(";
  sql.Column(root, pk.column);
  sql << ")) AS " << kSeen << ", ";
  AppendTreeKey(sql, pk, root);
  sql << " AS " << kPath << ", ";
  AppendTreeKey(sql, pk, root);
  sql << " AS " << kRoot << " FROM ";
  sql.Ident(model.table);
  sql << " AS " << root << " WHERE ";
  AppendReadScope(ctx, sql, model, root, with_deleted, only_deleted);
  sql << " AND ";
  QUARRY_RETURN_IF_ERROR(AppendWhere(ctx, sql, model, root, args.if_contains("where"), "where"));

  const std::string prev = ctx.NewAlias();
  const std::string next = ctx.NewAlias();
  sql << " UNION ALL SELECT " << next << ".*, " << prev << "." << kDepth << " + 1, json_insert("
      << prev << "." << kSeen << ", '$[#]', quote(";
  sql.Column(next, pk.column);
  sql << ")), " << prev << "." << kPath << " || ";
  AppendTreeKey(sql, pk, next);
  sql << ", " << prev << "." << kRoot << " FROM " << kTree << " AS " << prev << " JOIN ";
  sql.Ident(model.table);
  sql << " AS " << next << " ON ";
  if (spec.ancestors) {
    JoinCondition(ctx, sql, model, *spec.parent, prev, next);
  } else {
    JoinCondition(ctx, sql, model, *spec.parent, next, prev);
  }
  sql << " WHERE " << prev << "." << kDepth << " < ";
  sql.Param(IntValue(spec.max_depth));
  sql << " AND NOT EXISTS (SELECT 1 FROM json_each(" << prev << "." << kSeen
      << ") WHERE value = quote(";
  sql.Column(next, pk.column);
  sql << ")) AND ";
  AppendReadScope(ctx, sql, model, next, with_deleted, only_deleted);
  sql << ")";
  return Status::Ok();
}

// `k` copies of `text` (a SQL literal): SQLite has no repeat().
void AppendRepeat(SqlBuilder& sql, std::string_view count_sql, std::string_view text) {
  sql << "replace(hex(zeroblob(" << count_sql << ")), '00', " << text << ")";
}

// findMany with `recursive`: one statement, a recursive CTE (AppendTree) and the result built
// from it. Flat results list each reached row once (at its smallest depth) with `_depth`;
// nested ones are built as text in one ordered pass over the tree (each row's JSON, opened
// where its next level follows and closed where it ends), since a level's JSON cannot be
// aggregated inside the recursion.
Status CompileRecursive(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                        const RecursiveSpec& spec, const json::object& args, bool with_deleted,
                        bool only_deleted, const json::object* select,
                        const json::object* include) {
  QUARRY_RETURN_IF_ERROR(AppendTree(ctx, sql, model, spec, args, with_deleted, only_deleted));
  const schema::Field& pk = *model.PrimaryKey();
  const std::string row = ctx.NewAlias();
  const std::string depth = row + "." + std::string(kDepth);
  if (!spec.nested) {
    QUARRY_ASSIGN_OR_RETURN(bool distinct, BoolArg(args, "distinct", false, ""));
    const json::value* window = args.if_contains("window");
    if (window != nullptr && !window->is_object()) {
      return ArgError("window", "expected {name: {function spec}, ...}");
    }
    SqlBuilder extra;
    extra << " || " << MemberPrefix("_depth") << " || " << depth;
    sql << " SELECT '[' || coalesce(group_concat(j, ','), '') || ']' FROM (SELECT "
        << (distinct ? "DISTINCT " : "");
    QUARRY_RETURN_IF_ERROR(AppendRowJson(ctx, sql, model, row, select, include, true, "",
                                         window ? &window->get_object() : nullptr, &extra));
    // A row reached twice (from two matched rows) is listed once, at its smallest depth: the
    // bare columns of a min() query come from the row holding the minimum.
    sql << " AS j FROM (SELECT *, min(" << kDepth << ") FROM " << kTree << " GROUP BY ";
    sql.Ident(pk.column);
    sql << ") AS " << row;
    const json::value* order_by = args.if_contains("orderBy");
    if (order_by != nullptr && !order_by->is_null()) {
      QUARRY_RETURN_IF_ERROR(AppendOrderBy(ctx, sql, model, row, order_by, "orderBy"));
    } else {
      // Descendants from the matched rows down; ancestors from the root down to them.
      sql << " ORDER BY " << depth << (spec.ancestors ? " DESC, " : " ASC, ");
      sql.Column(row, pk.column);
    }
    QUARRY_RETURN_IF_ERROR(AppendLimitOffset(sql, args, ""));
    sql << ")";
    return Status::Ok();
  }
  SqlBuilder extra;
  extra << " || CASE WHEN " << depth << " < ";
  extra.Param(IntValue(spec.max_depth));
  std::string member = MemberPrefix(spec.nest_key);
  // The placeholder of the next level, which the pass below opens or leaves as it is; rows at
  // maxDepth have none (their next level was not read).
  member.insert(member.size() - 1, spec.ancestors ? "null" : "[]");
  extra << " THEN " << member << " ELSE '' END";
  if (spec.ancestors) {
    // Per matched row, its chain in depth order: each row's JSON opened at "parent":null, the
    // chain's last row closing every brace opened before it.
    sql << " SELECT '[' || coalesce(group_concat(CASE WHEN NOT chain_end THEN substr(j, 1, "
           "length(j) - 5) ELSE j || ";
    AppendRepeat(sql, "d", "'}'");
    sql << " || CASE WHEN last THEN '' ELSE ',' END END, ''), '') || ']' FROM (SELECT ";
    QUARRY_RETURN_IF_ERROR(
        AppendRowJson(ctx, sql, model, row, select, include, true, "", nullptr, &extra));
    sql << " AS j, " << depth << " AS d, lead(" << row << "." << kRoot << ") OVER w IS NOT " << row
        << "." << kRoot << " AS chain_end, lead(" << depth << ") OVER w IS NULL AS last FROM "
        << kTree << " AS " << row << " WINDOW w AS (ORDER BY " << row << "." << kRoot << ", "
        << depth << ") ORDER BY " << row << "." << kRoot << ", " << depth << ")";
    return Status::Ok();
  }
  // Pre-order (by path): a row followed by a deeper one opens its children array; any other row
  // closes the arrays of the levels the next row climbs back to.
  sql << " SELECT '[' || coalesce(group_concat(CASE WHEN n > d THEN substr(j, 1, length(j) - 2) "
         "ELSE j || ";
  AppendRepeat(sql, "d - n", "']}'");
  sql << " || CASE WHEN last THEN '' ELSE ',' END END, ''), '') || ']' FROM (SELECT ";
  QUARRY_RETURN_IF_ERROR(
      AppendRowJson(ctx, sql, model, row, select, include, true, "", nullptr, &extra));
  sql << " AS j, " << depth << " AS d, coalesce(lead(" << depth << ") OVER w, 0) AS n, lead("
      << depth << ") OVER w IS NULL AS last FROM " << kTree << " AS " << row
      << " WINDOW w AS (ORDER BY " << row << "." << kPath << ") ORDER BY " << row << "." << kPath
      << ")";
  return Status::Ok();
}

}  // namespace

Result<bool> AppendRecursiveRead(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                                 const json::object& args, bool with_deleted, bool only_deleted,
                                 const json::object* select, const json::object* include) {
  QUARRY_ASSIGN_OR_RETURN(std::optional<RecursiveSpec> spec, ParseRecursive(model, args));
  if (!spec) {
    return false;
  }
  QUARRY_RETURN_IF_ERROR(
      CompileRecursive(ctx, sql, model, *spec, args, with_deleted, only_deleted, select, include));
  return true;
}

}  // namespace quarry::query
