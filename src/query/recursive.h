#pragma once

// findMany's `recursive`: a walk of a self-referential model (one with an owning to-one relation
// to itself, e.g. `parent categories? @relation(fields: [parentId], references: [id])`),
// compiled to one statement around a recursive CTE.
//
//   recursive: true | {direction: "descendants" (default) | "ancestors", maxDepth: n,
//                      via: "<relation field>", nested: true}
//
// The walk starts at the rows `where` matches (depth 0) and steps through the relation: down to
// the rows that point at a row (descendants) or up to the row a row points at (ancestors), at
// most maxDepth steps (default and limit 100; default 10 when nested). The caller's read policy
// and soft-delete scope hold at every step: a row the caller cannot read is not returned, and
// nothing is reached through it. A row already on the path (a cycle in the data) is not
// visited again. `via` names the relation (its to-one field or its to-many back side) when the
// model has several; without it that is a 400.
//
// Flat results list every reached row once, at its smallest depth, with a `_depth` member;
// orderBy, limit, offset, select, include, distinct and window apply to them, and without
// orderBy they come by depth (descendants) or from the root down (ancestors), then by key.
// Nested results are trees: descendants as the matched rows, each with its next level in the
// to-many field's member (`children` when the relation has no back side), ancestors as the
// matched rows each holding its parent in the to-one field's member (null at the root); a row
// at maxDepth has no such member (its next level was not read). Each level comes in primary-key
// order; nested reads take no orderBy, limit, offset, distinct or window.

#include <boost/json/object.hpp>

#include "common/status.h"
#include "query/compile_context.h"
#include "schema/model.h"

namespace quarry::query {

// Appends the whole findMany statement (its one column: the result's JSON text) and returns
// true when `args` asks for a recursive read; returns false and appends nothing when `args`
// has no `recursive` (or it is null or false). kInvalidArgument naming "recursive.*" for a bad
// spec or a model without a self relation.
Result<bool> AppendRecursiveRead(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                                 const boost::json::object& args, bool with_deleted,
                                 bool only_deleted, const boost::json::object* select,
                                 const boost::json::object* include);

}  // namespace quarry::query
