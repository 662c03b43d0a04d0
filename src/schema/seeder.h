#pragma once

// Seeding: loading fixed rows (development and staging data, lookup tables) into a database,
// idempotently, so a seed can run on every deploy or boot.
//
// A seed file is either
//   - JSON: an object whose keys are table names and whose values are arrays of row objects,
//       { "users": [ {"id": 1, "email": "ada@example.com"} ], "posts": [ ... ] }
//     Tables are seeded in the file's order (put parents before children). Each row becomes
//     INSERT INTO "table" ("col", ...) VALUES (?, ...) ON CONFLICT DO NOTHING with bound
//     values: insert-or-ignore, so a row whose primary key or unique key already exists is left
//     as it is and running the seed again changes nothing. Unlike INSERT OR IGNORE it ignores
//     only those duplicates: a row breaking NOT NULL, CHECK or a foreign key is an error, not
//     silently skipped. Values: null, numbers (integers stay integers), strings, booleans
//     (stored as 1/0), and arrays or objects (stored as their JSON text).
//   - SQL (a file ending in .sql): its statements run as they are; write them idempotently
//     yourself (INSERT OR IGNORE, ON CONFLICT DO NOTHING).
// Either way the whole seed runs in one transaction: it applies completely or not at all.
// Thread-safe functions; Seed borrows its connection for the call.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/sql_statement.h"
#include "common/status.h"
#include "storage/connection.h"

namespace quarry::schema {

using SeedValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

// One row to insert: its INSERT OR IGNORE statement and the values to bind, in order.
struct SeedStatement {
  std::string table;
  size_t row = 0;  // 0-based index within the table's array, for messages
  std::string sql;
  std::vector<SeedValue> values;
};

// Parses a JSON seed into statements. `source` names the file in errors, which also name the
// table and row ("seed.json: users[2]: ...").
Result<std::vector<SeedStatement>> PlanJsonSeed(std::string_view json_text,
                                                std::string_view source);

// Double-quotes an SQL identifier.
using sql::QuoteIdentifier;

struct SeedReport {
  int64_t inserted = 0;  // rows inserted (JSON) or rows changed (SQL)
  int64_t ignored = 0;   // JSON rows that already existed
};

// Runs a seed file's contents on `conn`, all in one transaction. `source` is the file name; a
// name ending in ".sql" runs as SQL, anything else is parsed as JSON.
Result<SeedReport> Seed(storage::Connection& conn, std::string_view text, std::string_view source);

}  // namespace quarry::schema
