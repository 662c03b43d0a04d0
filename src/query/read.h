#pragma once

// Reads: findMany and its relatives compiled to ONE SQL statement each, with the caller's
// policies, the select/include shape (relations as correlated subqueries), ordering and
// pagination inside it. The statement produces the result's JSON text itself (see values.h for
// how columns render), so nothing is assembled or filtered after reading; only findManyCursor's
// page is framed in C++ (the rows, and the next cursor from the last row's sort keys).
// A cursor is signed, not encrypted: findManyCursor orders only by fields whose values the
// caller may read (403 otherwise; no Blob fields), and a field readable on some rows only is a
// NULL sort key on the others.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "query/compile_context.h"
#include "query/sql_runner.h"

namespace quarry::query {

enum class ReadOp {
  kFindMany,
  kFindFirst,
  kFindUnique,
  kFindFirstOrThrow,
  kFindUniqueOrThrow,
  kFindManyAndCount,
  kFindManyCursor,
  kCount,
  kExists,
};

struct CompiledRead {
  ReadOp op = ReadOp::kFindMany;
  const schema::Model* model = nullptr;
  std::string sql;
  std::vector<storage::Value> params;
  std::vector<ParamSource> sources;         // where each parameter came from (plan_cache.h)
  std::vector<const schema::Model*> gated;  // models whose read @@gate the request passed
  int64_t page_size = 0;     // findManyCursor: rows per page (the statement asks for one more)
  std::string cursor_scope;  // findManyCursor: what a cursor of this query is bound to
  size_t cursor_keys = 0;    // findManyCursor: how many sort keys its cursors carry
};

// Compiles `args` (the operation's JSON arguments) for `model`. kInvalidArgument naming the
// argument for malformed input, kForbidden for what the caller may not do.
Result<CompiledRead> CompileRead(CompileContext& ctx, const schema::Model& model, ReadOp op,
                                 const boost::json::object& args);

// Runs a compiled read and returns the result's JSON text; kNotFound for an *OrThrow that
// found nothing.
Result<std::string> RunRead(CompileContext& ctx, const CompiledRead& read, SqlRunner& runner);

// Appends the JSON text of one row of `model` (alias `alias`) shaped by `select` / `include`
// (either may be null). `list_read`: the row is read by findMany/findFirst, where @omit
// applies. Used by writes to return the row they wrote. `extra_members`, when given, is SQL
// concatenated after the row's own members, each as ` || <MemberPrefix(key)> || <JSON text>`
// (search's _highlight, recursive reads' _depth).
Status AppendRowJson(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                     std::string_view alias, const boost::json::object* select,
                     const boost::json::object* include, bool list_read, const std::string& path,
                     const boost::json::object* window = nullptr,
                     const SqlBuilder* extra_members = nullptr);

// `,"key":` as a SQL string literal, to concatenate a member into JSON text built in SQL
// (`'{' || substr('' || <member> || <value> ..., 2) || '}'`). Any key is safe: it is JSON-escaped,
// then quoted as SQL, so a key from the request cannot end the literal.
std::string MemberPrefix(std::string_view key);

// Parses "asc"/"desc" and {dir|sort, nulls} order terms and appends " ORDER BY ..." (nothing
// when `order_by` is null), for models' fields, to-one relation fields and to-many aggregates.
Status AppendOrderBy(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                     std::string_view alias, const boost::json::value* order_by,
                     const std::string& path);

// One order term's direction: "asc" | "desc" | {dir|sort: "asc"|"desc", nulls: "first"|"last"}.
struct OrderDirection {
  bool desc = false;
  std::optional<bool> nulls_first;  // unset: SQLite's default (first for asc, last for desc)
};
Result<OrderDirection> ParseOrderDirection(const boost::json::value& v, const std::string& path);
// Appends " ASC"/" DESC" and any NULLS FIRST/LAST.
void AppendOrderDirection(SqlBuilder& sql, const OrderDirection& dir);

// Appends " LIMIT ? OFFSET ?" from args' limit and offset (nothing when neither is given).
Status AppendLimitOffset(SqlBuilder& sql, const boost::json::object& args, const std::string& path);

// findManyCursor's per-request values, for a cached plan (plan_cache.h) to bind them as
// compiling would: the parameter slot 0 is CursorLimit(CursorPageSize(args)), slots 1.. the keys
// of args' cursor (CursorKeys: verified, for a query of `scope` with `count` sort keys).
// CursorNulls is which keys of an unverified cursor are null ('0') or not ('v'), "?" when it
// does not decode: the statement's text depends on it.
Result<int64_t> CursorPageSize(const boost::json::object& args);
storage::Value CursorLimit(int64_t page_size);
Result<boost::json::array> CursorKeys(const CompileContext& ctx, const boost::json::value& cursor,
                                      std::string_view scope, size_t count);
std::string CursorNulls(const boost::json::value& cursor);

// Reads an optional non-negative integer argument.
Result<std::optional<int64_t>> CountArg(const boost::json::object& args, std::string_view key,
                                        const std::string& path);
// Reads an optional boolean argument.
Result<bool> BoolArg(const boost::json::object& args, std::string_view key, bool fallback,
                     const std::string& path);
// kInvalidArgument naming the first key of `args` that is not in `allowed`.
Status CheckKeys(const boost::json::object& args, std::initializer_list<std::string_view> allowed,
                 const std::string& path, std::string_view what);

}  // namespace quarry::query
