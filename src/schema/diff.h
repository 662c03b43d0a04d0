#pragma once
// Schema diff: the migration plan that turns a live database (introspected, introspect.h) into
// a target schema, and applying such a plan.
//
// Tables are compared through the DDL both models produce (ddl.h): two tables are equal when
// their CREATE TABLE statements, indexes and FTS tables are. Per table the plan uses, in order
// of preference:
//   - CREATE TABLE (with its indexes and FTS) for a table only the target has;
//   - DROP TABLE for a table only the live database has (destructive);
//   - ALTER TABLE ADD COLUMN for new columns at the end, when SQLite allows it (not a key, not
//     UNIQUE, no expression default, not STORED, and NOT NULL only with a non-NULL default);
//   - ALTER TABLE DROP COLUMN for a plain column (not a key, not UNIQUE) the target lacks
//     (destructive);
//   - otherwise SQLite's documented table rebuild: CREATE TABLE "_quarry_new_<t>" with the
//     target definition, INSERT INTO it SELECT the columns both have, DROP the old table,
//     ALTER TABLE ... RENAME, then recreate indexes and the FTS table (rebuilt from the rows).
// Indexes that changed are dropped and created again. Models marked @@external in the target
// are never touched, nor are live tables of the same name.
// The plan runs inside one transaction with foreign keys off and PRAGMA foreign_key_check
// afterwards (the migrator does this for migration files; ApplyPlan for `migrate push`).
// Rows that do not fit the new definition (text in a STRICT INTEGER column, NULL in a column
// now NOT NULL) make the rebuild's INSERT fail, which rolls the whole plan back.
#include <sqlite3.h>

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "schema/model.h"

namespace quarry::schema {

struct DiffOptions {
  // Plan destructive steps instead of refusing them.
  bool allow_data_loss = false;
};

struct MigrationPlan {
  std::vector<std::string> statements;   // in order, without trailing ';'
  std::vector<std::string> changes;      // one line per change, for people: "add column users.age"
  std::vector<std::string> destructive;  // what would be lost: "drop column users.age (5 rows
                                         // have a value)"
  bool empty() const { return statements.empty(); }
};

// The plan from `live` to `target`. `db`, when not null, is the live database, read (only) to
// count what destructive steps would lose and to refuse adding a required column without a
// default to a table that has rows. Fails with kInvalidArgument listing the destructive steps
// when there are some and !options.allow_data_loss (or listing why a change is impossible).
Result<MigrationPlan> DiffSchemas(const Schema& live, const Schema& target,
                                  const DiffOptions& options = {}, sqlite3* db = nullptr);

// Runs `plan` on `db` in one transaction (BEGIN IMMEDIATE ... COMMIT) with foreign keys off
// around it and PRAGMA foreign_key_check before the commit. On any failure rolls back and
// returns the error naming the statement. `db` must not be inside a transaction.
Status ApplyPlan(sqlite3* db, const MigrationPlan& plan);

// `migrate push`: introspects, diffs against `target` and applies the plan, all inside one
// write transaction, so no other writer can change the schema between planning and applying.
// Returns the plan that was applied (empty when the database already matched). `warnings`
// receives what introspection could not represent. `before_commit`, when given, runs last inside
// the transaction (after the foreign-key check), even when the plan is empty; its failure rolls
// everything back. `migrate push` records the schema text there (recorded_schema.h), so the
// recorded schema and the tables change together.
Result<MigrationPlan> PushSchema(sqlite3* db, const Schema& target, const DiffOptions& options,
                                 std::vector<std::string>* warnings = nullptr,
                                 const std::function<Status()>& before_commit = {});

}  // namespace quarry::schema
