#pragma once

// ChangeObserver: sees every committed row change of every namespace, whichever door the write
// came through, and nothing that was rolled back: not a rolled-back transaction, not a
// statement that failed, not a savepoint rolled back (a group-commit write that failed alone).
//
// Changes are captured on the connection that makes them (SQLite's pre-update hook), kept
// pending with the statement and savepoint they belong to, discarded when those roll back, and
// numbered when the transaction commits (SQLite's commit hook, under the write lock); they are
// handed over once the statement that committed returns. Statements must run through storage
// (Connection::Step and the functions built on it, see execute.h) for statement and savepoint
// rollbacks to be seen; a transaction's own ROLLBACK is seen whichever way it ran, and a commit
// made outside Step is handed over at the connection's next statement or when it goes back to
// its pool.
//
// Each change carries the row before (UPDATE, DELETE) and after (INSERT, UPDATE), one value per
// column in table order, and the table's column names as read (on a connection of its
// own) when the commit is handed over, cached per table until a commit that may have altered
// or dropped a table (the authorizer notes ALTER TABLE and DROP TABLE as they are prepared;
// access_mode.h). A table that changed shape
// between the commit and that moment is named as its new shape: callers map values to names by
// position, as far as both go.
//
// Known limits: a statement that fails under ON CONFLICT FAIL (or RAISE(FAIL)) keeps the rows
// it changed before failing; they are dropped from the capture as if it had rolled them back.
// A table rebuild (libSQL's ALTER COLUMN, drizzle-kit's rebuilds) shows as the copy's inserts
// into the new table under its temporary name and no change to the rebuilt table's rows.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/captured_changes.h"

namespace quarry::storage {

// One committed transaction of one namespace.
struct CommittedChanges {
  std::string_view ns;
  uint64_t commit = 0;      // 1, 2, ... per open Database, in commit order
  CapturedChanges changes;  // Decode() for their values
};

class ChangeObserver {
 public:
  virtual ~ChangeObserver() = default;
  // Called on the committing thread, in commit order per namespace, while the namespace's write
  // lock may still be held by the next writer's wait: must not block or touch the database.
  virtual void OnCommit(const CommittedChanges& committed) = 0;
};

}  // namespace quarry::storage
