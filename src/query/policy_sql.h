#pragma once

// Policies compiled into SQL: the schema's row policies (@@allow/@@deny), gates (@@gate) and
// field rules (@allow, @omit, @guarded, @secret) as fragments of the one statement that serves
// a request. Nothing is filtered after reading.
//
// Semantics (docs/data-api.md, "Policies"):
//   - Service callers bypass every policy, gate and field rule except @omit and @@gate level 9.
//   - For a user, an operation with no @@allow is open; its first @@allow makes it deny by
//     default. A row is allowed when some allow holds and no deny holds; deny wins.
//     Policies of other operations do not apply ('all' applies to every operation): a model
//     whose only @@allow is for 'update' is open to reads.
//   - Conditions use SQL's three-valued logic; a condition that comes out unknown (a comparison
//     with a missing claim or a NULL column) is not true: it neither allows nor denies.
//     `x == null` / `x != null` test for NULL. A Boolean field, claim or literal alone is a
//     condition that holds when it is true (non-zero); auth() is never null for a user.
//   - Values compare as SQLite compares them: numbers by value (an Integer with a Real too),
//     Text by its bytes (BINARY collation), Booleans as 0/1. A claim is its JSON value, bound
//     as a parameter (true/false as 1/0); compared with a column it takes the column's type
//     where it reads as one (SQLite's affinity: a claim "5" equals an Integer 5).
//   - check(relation, expr) is EXISTS over the related rows, never a count; the related
//     model's own policies do not apply inside it.

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "query/compile_context.h"
#include "schema/model.h"

namespace quarry::query {

enum class RowOperation { kRead, kCreate, kUpdate, kDelete };

const char* RowOperationName(RowOperation op);

// The @@gate check: kForbidden, naming the model, the level the operation needs and the
// caller's, when the caller's level is below it (level 9 refuses even service callers).
Status CheckGate(const CompileContext& ctx, const schema::Model& model, RowOperation op);

// The read @@gate of a model a compilation reads: the queried model, an included relation, and
// every related model a request learns about through the statement (a relation filter in a
// where, a _count, an orderBy on a relation, a connect's lookup). On success records `model`
// in ctx.read_gates, so that a cached plan checks it again for each caller on a hit. A
// policy's check(relation, expr) is the schema's own rule, not the caller's read: it is not
// gated (docs/data-api.md, "Gates").
Status CheckReadGate(CompileContext& ctx, const schema::Model& model);

// True when `op` on `model` is filtered for this caller (a user and some policy for `op`).
bool HasRowPolicy(const CompileContext& ctx, const schema::Model& model, RowOperation op);

// Appends a condition true exactly for the rows of `model` (alias `alias`) the caller may touch
// with `op`; "1" when nothing restricts it.
void AppendRowPolicy(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                     std::string_view alias, RowOperation op);

// The message of the first refusing policy that has one, for a refused create/update: the
// custom message of a deny or allow for `op`, else a generic one.
std::string RefusalMessage(const schema::Model& model, RowOperation op);

// Appends `expr` (a policy condition of `model`) as SQL over alias `alias`.
void AppendPolicyExpr(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                      std::string_view alias, const schema::PolicyExpr& expr);

// How a field may be read by this caller.
struct FieldReadAccess {
  bool visible = true;       // false: never in this caller's results
  bool conditional = false;  // visible only on rows where the field's read policies hold
};
// `explicitly_selected`: the request's select names the field (which lifts @omit).
// `list_read`: findMany/findFirst (where a plain @omit applies).
FieldReadAccess ReadAccess(const CompileContext& ctx, const schema::Field& field,
                           bool explicitly_selected, bool list_read);

// How a field may be used in a filter, an ordering or an aggregate: service callers may use
// every field (@secret ones included, to look a key up); users not @guarded or @secret ones,
// and conditionally readable ones only on the rows where they may read them.
FieldReadAccess FilterAccess(const CompileContext& ctx, const schema::Field& field);

// Appends the condition under which a conditional field may be read on a row: every read
// policy of the field (@allow('read'|'all', ...)) holds.
void AppendFieldReadCondition(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                              const schema::Field& field, std::string_view alias);

// Whether the caller may write `field` at all (kForbidden naming `path` when not: @guarded(all),
// @secret for users; generated columns for everyone). Conditional write policies are checked
// on the written row with AppendFieldWriteCondition.
Status CheckFieldWritable(const CompileContext& ctx, const schema::Field& field,
                          const std::string& path);
bool HasFieldWritePolicy(const CompileContext& ctx, const schema::Field& field);
void AppendFieldWriteCondition(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                               const schema::Field& field, std::string_view alias);

}  // namespace quarry::query
