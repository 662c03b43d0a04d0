#pragma once
// Introspection: reads the tables of a live SQLite database into the schema model (model.h),
// so that `quarry schema introspect` can write a schema file for an existing database and the
// schema diff (diff.h) can compare a database with a schema.
//
// Read: sqlite_schema, PRAGMA table_xinfo / index_list / index_info / foreign_key_list and
// pragma_table_list (STRICT). From each CREATE TABLE text only what the pragmas do not say is
// parsed: CHECK clauses of the shapes Quarry's DDL writes (enums `x IN ('a', 'b')`, booleans
// `x IN (0, 1)`, JSON and list checks), GENERATED ALWAYS AS (...) and AUTOINCREMENT.
// Skipped: sqlite_* and _quarry_* tables, FTS5 tables (a `<t>_fts` table over `t` becomes
// `@@fts` of t's model) and their shadow tables, and triggers (those of an FTS table belong to
// it; others are reported as warnings).
//
// The model it produces is what GenerateDdl (ddl.h) turns back into the same DDL for databases
// Quarry created; for others it is the closest the model can say, and `warnings` lists what was
// left out (other CHECKs, composite keys, unrecognised defaults, ...). It is not validated by
// the binder: e.g. a table without a primary key gives a model without an @id field.
// DateTime and Text share the TEXT column type: a TEXT column is DateTime only when its default
// is now(). Enum names are made up from the column names.
//
// The table text is read by create_table_text.h; SchemaText (schema_text.h) writes a schema
// file for the model.
//
// Thread-safety: reads through the given handle only; the caller serialises its use.
#include <sqlite3.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "schema/model.h"
#include "schema/schema_text.h"  // SchemaText writes what IntrospectSchema reads

namespace quarry::schema {

struct IntrospectedSchema {
  Schema schema;
  std::vector<std::string> warnings;  // "table.column: what could not be represented"
};

// Reads every user table of `db`. Fails with kSqlite when a query fails.
Result<IntrospectedSchema> IntrospectSchema(sqlite3* db);

}  // namespace quarry::schema
