// search: full-text search over a model's @@fts index (see aggregate.h and docs/data-api.md).

#include "query/aggregate.h"
#include "query/policy_sql.h"
#include "query/read.h"
#include "query/where.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

// FTS5's query syntax: whether the parentheses outside "strings" balance, so that the query
// can be wrapped in a column filter it cannot close early.
bool BalancedParentheses(std::string_view query) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < query.size(); ++i) {
    char c = query[i];
    if (in_string) {
      if (c == '"') {
        if (i + 1 < query.size() && query[i + 1] == '"') {
          ++i;
        } else {
          in_string = false;
        }
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth < 0) {
      return false;
    }
  }
  return depth == 0;
}

// A failure SQLite reports for the MATCH operand: FTS5's own syntax errors, an unterminated
// string, a column filter naming no column of the index.
bool IsFtsQueryError(const Status& status) {
  if (status.code() != ErrorCode::kSqlite) {
    return false;
  }
  const std::string& m = status.message();
  return m.find("fts5:") != std::string::npos ||
         m.find("unterminated string") != std::string::npos ||
         m.find("no such column") != std::string::npos ||
         m.find("unknown special query") != std::string::npos;
}

// highlight: {field, open, close}; snippet: {field, open, close, ellipsis, tokens}. Appends the
// member (`_highlight` / `_snippet`) to `extra` when the caller may read the field.
Status AuxiliaryMember(CompileContext& ctx, SqlBuilder& extra, const schema::Model& model,
                       const std::string& fts_table, std::string_view alias,
                       const json::value& spec, bool snippet) {
  const std::string path = snippet ? "snippet" : "highlight";
  if (!spec.is_object()) {
    return ArgError(path, snippet ? "expected {field, open, close, ellipsis, tokens}"
                                  : "expected {field, open, close}");
  }
  const json::object& o = spec.get_object();
  if (snippet) {
    QUARRY_RETURN_IF_ERROR(
        CheckKeys(o, {"field", "open", "close", "ellipsis", "tokens"}, path, "snippet"));
  } else {
    QUARRY_RETURN_IF_ERROR(CheckKeys(o, {"field", "open", "close"}, path, "highlight"));
  }
  const json::value* name = o.if_contains("field");
  const std::string field_path = JoinPath(path, "field");
  if (name == nullptr || !name->is_string()) {
    return ArgError(field_path, "expected a field of the model's @@fts");
  }
  int64_t column = -1;
  for (size_t i = 0; i < model.fts_fields.size(); ++i) {
    if (model.fts_fields[i] == name->get_string()) {
      column = static_cast<int64_t>(i);
    }
  }
  if (column < 0) {
    return ArgError(field_path, "'" + std::string(name->get_string()) +
                                    "' is not in the @@fts of model '" + model.name + "'");
  }
  auto text = [&](std::string_view key, std::string fallback) -> Result<std::string> {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
      return fallback;
    }
    if (!v->is_string()) {
      return ArgError(JoinPath(path, key), "expected a string");
    }
    return std::string(v->get_string());
  };
  QUARRY_ASSIGN_OR_RETURN(std::string open, text("open", "<b>"));
  QUARRY_ASSIGN_OR_RETURN(std::string close, text("close", "</b>"));
  QUARRY_ASSIGN_OR_RETURN(std::string ellipsis, text("ellipsis", "..."));
  QUARRY_ASSIGN_OR_RETURN(std::optional<int64_t> tokens, CountArg(o, "tokens", path));
  if (tokens && (*tokens < 1 || *tokens > 64)) {
    return ArgError(JoinPath(path, "tokens"), "a snippet has 1 to 64 tokens");
  }
  const schema::Field& field = *model.FindField(std::string(name->get_string()));
  FieldReadAccess access = ReadAccess(ctx, field, true, true);
  if (!access.visible) {
    return Status::Ok();
  }
  if (access.conditional) {
    extra << " || CASE WHEN ";
    AppendFieldReadCondition(ctx, extra, model, field, alias);
    extra << " THEN ";
  } else {
    extra << " || ";
  }
  extra << MemberPrefix(snippet ? "_snippet" : "_highlight") << " || json_quote("
        << (snippet ? "snippet(" : "highlight(");
  extra.Ident(fts_table);
  extra << ", " << std::to_string(column) << ", ";
  extra.Param(TextValue(open));
  extra << ", ";
  extra.Param(TextValue(close));
  if (snippet) {
    extra << ", ";
    extra.Param(TextValue(ellipsis));
    extra << ", ";
    extra.Param(IntValue(tokens.value_or(10)));
  }
  extra << "))";
  if (access.conditional) {
    extra << " ELSE '' END";
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> RunSearch(CompileContext& ctx, const schema::Model& model,
                              const json::object& args, SqlRunner& runner) {
  QUARRY_RETURN_IF_ERROR(CheckGate(ctx, model, RowOperation::kRead));
  QUARRY_RETURN_IF_ERROR(CheckKeys(args,
                                   {"query", "where", "limit", "offset", "highlight", "snippet",
                                    "select", "include", "withDeleted", "onlyDeleted"},
                                   "", "search"));
  if (model.fts_fields.empty()) {
    return ArgError("", "model " + model.name + " has no @@fts");
  }
  const json::value* query = args.if_contains("query");
  if (query == nullptr || !query->is_string()) {
    return ArgError("query", "expected the search text (FTS5 query syntax)");
  }
  std::string match(query->get_string());
  // A user matches only the indexed fields it may read everywhere: the query is wrapped in a
  // column filter of those, so a row never matches on text the caller cannot see. (Matching is
  // filtering: a service token may match any field, as it may filter on any.)
  std::vector<std::string> visible;
  for (const std::string& name : model.fts_fields) {
    FieldReadAccess access = FilterAccess(ctx, *model.FindField(name));
    if (access.visible && !access.conditional) {
      visible.push_back(model.FindField(name)->column);
    }
  }
  if (visible.empty()) {
    return Status(
        ErrorCode::kForbidden,
        "this caller may read none of the fields of the @@fts of model '" + model.name + "'");
  }
  if (visible.size() < model.fts_fields.size()) {
    if (!BalancedParentheses(match)) {
      return ArgError("query", "unbalanced parentheses in the search query");
    }
    std::string filter = "{";
    for (size_t i = 0; i < visible.size(); ++i) {
      filter += (i ? " \"" : "\"");
      for (char c : visible[i]) {
        filter += c == '"' ? std::string("\"\"") : std::string(1, c);
      }
      filter += '"';
    }
    match = filter + "} : (" + match + ")";
  }
  const json::value* select = args.if_contains("select");
  const json::value* include = args.if_contains("include");
  for (auto [key, v] : {std::pair{"select", select}, std::pair{"include", include}}) {
    if (v != nullptr && !v->is_null() && !v->is_object()) {
      return ArgError(key, "expected an object");
    }
  }
  QUARRY_ASSIGN_OR_RETURN(bool with_deleted, BoolArg(args, "withDeleted", false, ""));
  QUARRY_ASSIGN_OR_RETURN(bool only_deleted, BoolArg(args, "onlyDeleted", false, ""));

  const std::string fts = model.table + "_fts";
  const std::string alias = ctx.NewAlias();
  SqlBuilder extra;
  for (auto [key, snippet] : {std::pair{"highlight", false}, std::pair{"snippet", true}}) {
    if (const json::value* spec = args.if_contains(key); spec != nullptr && !spec->is_null()) {
      QUARRY_RETURN_IF_ERROR(AuxiliaryMember(ctx, extra, model, fts, alias, *spec, snippet));
    }
  }
  const schema::Field& pk = *model.PrimaryKey();
  bool integer_key = !pk.type.list && pk.type.kind == schema::FieldType::Kind::kScalar &&
                     pk.type.scalar == schema::ScalarType::kInteger;
  SqlBuilder sql;
  sql << "SELECT '[' || coalesce(group_concat(j, ','), '') || ']' FROM (SELECT ";
  QUARRY_RETURN_IF_ERROR(
      AppendRowJson(ctx, sql, model, alias,
                    select != nullptr && select->is_object() ? &select->get_object() : nullptr,
                    include != nullptr && include->is_object() ? &include->get_object() : nullptr,
                    true, "", nullptr, &extra));
  sql << " AS j FROM ";
  sql.Ident(fts);
  sql << " JOIN ";
  sql.Ident(model.table);
  sql << " AS " << alias << " ON ";
  if (integer_key) {
    sql.Column(alias, pk.column);
  } else {
    sql << alias << ".rowid";
  }
  sql << " = ";
  sql.Ident(fts);
  sql << ".rowid WHERE ";
  sql.Ident(fts);
  sql << " MATCH ";
  sql.Param(TextValue(match));
  sql << " AND ";
  AppendReadScope(ctx, sql, model, alias, with_deleted, only_deleted);
  sql << " AND ";
  QUARRY_RETURN_IF_ERROR(AppendWhere(ctx, sql, model, alias, args.if_contains("where"), "where"));
  sql << " ORDER BY ";
  sql.Ident(fts);
  sql << ".rank, ";
  sql.Ident(fts);
  sql << ".rowid";
  QUARRY_RETURN_IF_ERROR(AppendLimitOffset(sql, args, ""));
  sql << ")";
  auto rows = runner.Run(sql.sql(), sql.params());
  if (!rows.ok()) {
    if (IsFtsQueryError(rows.status())) {
      return ArgError("query", "not a valid full-text query (" + rows.status().message() + ")");
    }
    return rows.status();
  }
  return std::move(rows->at(0).at(0).bytes);
}

}  // namespace quarry::query
