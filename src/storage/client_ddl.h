#pragma once

// Client DDL that Quarry runs itself instead of handing the text to SQLite as it is, so that
// schema tools written for libSQL and sqld (drizzle-kit in particular) work on Quarry:
//
//   - libSQL's `ALTER TABLE t ALTER COLUMN c TO c <definition>` (see alter_column.h), which
//     SQLite cannot parse, runs as a table rebuild;
//   - `DROP TABLE` outside a transaction runs with foreign-key enforcement off for that one
//     statement, so it never runs the ON DELETE actions of the tables that reference it
//     (SQLite's implicit DELETE FROM of a dropped parent would otherwise delete every child row
//     of an ON DELETE CASCADE). drizzle-kit rebuilds a table as separate requests (a
//     `PRAGMA foreign_keys=OFF` that cannot reach the next request's pooled connection, then
//     CREATE, copy, DROP, RENAME): with this, the children keep their rows and point at the
//     rebuilt table once it is renamed. Child rows keep their values, as with SQLite's
//     foreign keys off; PRAGMA foreign_key_check reports them until a table of that name
//     exists again. Inside a transaction DROP TABLE is SQLite's, since enforcement cannot
//     change there (the client turns it off before BEGIN, as SQLite's rebuild procedure says).
//
// Every door that runs client SQL (Hrana execute, batch and sequence, the migrator) calls
// RunClientDdl before preparing a statement.

#include <cstddef>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "storage/connection.h"

namespace quarry::storage {

// Runs the first statement of `sql` when it is one of the above and returns how many bytes of
// `sql` it took (its ';' included); std::nullopt, having run nothing, when it is not one.
// With `only_statement`, refuses (kSqlManyStatements, running nothing) such a statement that
// other statements follow. Errors are the statement's. The connection's authorizer applies to
// everything it runs.
Result<std::optional<size_t>> RunClientDdl(Connection& conn, std::string_view sql,
                                           bool only_statement);

}  // namespace quarry::storage
