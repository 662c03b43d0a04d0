#pragma once

// The schema a namespace serves: the schema-language text that `quarry migrate push`, or the
// last applied migration made from a schema (migration_sql.h, "schema snapshot"), brought the
// database to. The data API compiles its models and policies from it. It is stored inside the
// database itself, so that forks, backups and copies of the file carry it:
//
//   CREATE TABLE _quarry_schema (
//     id INTEGER PRIMARY KEY CHECK (id = 1),  -- one row
//     source TEXT NOT NULL,                   -- one self-contained schema file (no imports)
//     recorded_at INTEGER NOT NULL            -- Unix milliseconds
//   )
//
// Like every `_quarry_*` table it is out of reach of client DDL (auth/sql_authorizer.h) and not
// part of introspection. A plain SQL migration leaves it as it is, even when it changes tables.
//
// This library does not know the schema language: RecordSchema stores the text as given, and
// callers check first that it binds. Every function uses only the handle it is given, inside
// the caller's transaction when one is open (so recording commits or rolls back with the DDL),
// on the caller's thread.

#include <sqlite3.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace quarry::schema {

inline constexpr const char* kRecordedSchemaTable = "_quarry_schema";

// Records `source` as the namespace's schema, replacing any earlier one; creates the table when
// it does not exist. kSqlite naming the table on failure.
Status RecordSchema(sqlite3* db, std::string_view source);

// The recorded schema; nullopt when none was recorded. Reads only: works on a read-only
// connection. kSqlite naming the table when it cannot be read.
Result<std::optional<std::string>> LoadRecordedSchema(sqlite3* db);

// Removes the recorded schema (the namespace then serves its introspected tables again). OK when
// there is none.
Status ForgetRecordedSchema(sqlite3* db);

}  // namespace quarry::schema
