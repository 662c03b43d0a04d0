#pragma once

// `where` compiled to a SQL condition over one model's alias.
//
//   {field: value}                      equality (null: IS NULL)
//   {field: {equals, not, in, notIn, lt, lte, gt, gte, contains, startsWith, endsWith}}
//       not: a value (null-inclusive: `not: 5` keeps NULL rows) or an operator object (the
//       rows where it is not true, NULL rows included);
//       in: equal to one of the items, a null item matching NULL rows; notIn: every other
//       row, so it keeps NULL rows unless null is an item;
//       contains/startsWith/endsWith are case-sensitive unless `mode: "insensitive"` (ASCII
//       letters only, as SQLite's LIKE), which applies to the operators of its own object,
//       not to those of a nested `not`; "" is part, prefix and suffix of every text.
//   {jsonField: {path: "$.a.b" | ["a", "b"], <operators>}}   a value inside a Json field
//   {AND: [..] | {..}, OR: [..], NOT: [..] | {..}}
//       AND [] is true, OR [] false; NOT negates the AND of its items (NOT [a, b] is
//       NOT (a AND b), as NOT {a, b}), and NOT [] is true.
//   {toMany: {some | every | none: {where}}}, {toOne: {is | isNot: {where} | null}}
//       (a to-one filter without is/isNot is `is`); related rows count only when the caller
//       may read them. `every` and `isNot: {where}` hold when there is no such row.
//   {$raw: "sql" | {"sql": "...", "params": [...]}}   service callers only
// Values compare as SQLite compares them: numbers by value (an Integer with a Real too), Text
// by its bytes (BINARY collation), Booleans as 0/1; lengths count characters.
// Conditions have SQL's three values: a comparison (equality, lt..gte, contains..endsWith) with
// a NULL column is unknown, a row matches only where the whole `where` is true, and NOT keeps
// unknown unknown: a NULL row matches neither {b: {gt: 1}} nor {NOT: {b: {gt: 1}}}. `not`,
// notIn, in with a null item, null tests and relation filters are never unknown; a related row
// whose `where` is unknown does not match it (and fails `every`).
// A field the caller may not read cannot be filtered on (403); one readable only on some rows
// only matches on those rows.

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "query/compile_context.h"

namespace quarry::query {

// Appends the condition for `where` (an object, or null for none) on `model` (alias `alias`).
// Errors name the offending argument under `path` ("where.age.gte").
Status AppendWhere(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                   std::string_view alias, const boost::json::value* where,
                   const std::string& path);

// Appends the filter every read of `model` carries besides `where`: its read policy and, on a
// @@softDelete model, live rows only (or removed rows only when `only_deleted`; none of it with
// `with_deleted`).
void AppendReadScope(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                     std::string_view alias, bool with_deleted = false, bool only_deleted = false);

}  // namespace quarry::query
