#pragma once

// Writes: create/update/delete and their bulk and soft-delete forms, with the model's rules
// enforced on the way in. Each runs as a few statements inside the transaction the caller
// (the server) holds, and fails without leaving anything behind: any error the caller sees
// means it must roll back.
//
// On the way in, in this order: unknown fields and wrong types (400), fields the caller may not
// write (403), transforms (@trim @lower @upper) then validators (@email @url @regex @length @gt
// ...: 422 naming the field and rule; @regex refuses values over 2048 bytes), defaults the database
// cannot compute (nanoid(), auth().claim, a sibling field), @updatedAt/@updatedBy stamps. The
// create policy is checked on the inserted row itself (RETURNING), so it sees SQL defaults too; a
// refused create is 403 with the policy's message. Updates and deletes touch only rows the
// update/delete policy allows; a single-row update or delete of a row the caller cannot touch
// answers null, as a missing row. Unique and foreign-key conflicts are 409.

#include <boost/json/object.hpp>
#include <string>

#include "common/status.h"
#include "query/compile_context.h"
#include "query/sql_runner.h"

namespace quarry::query {

enum class WriteOp {
  kCreate,
  kCreateMany,
  kUpdate,
  kUpdateMany,
  kUpsert,
  kUpsertMany,
  kDelete,
  kDeleteMany,
  kRemove,
  kRemoveMany,
  kRestore,
};

// Runs `op` with `args` on `model`; returns the result's JSON text (the row, null, an array of
// rows, or {"count": n}).
Result<std::string> RunWrite(CompileContext& ctx, const schema::Model& model, WriteOp op,
                             const boost::json::object& args, SqlRunner& runner);

}  // namespace quarry::query
