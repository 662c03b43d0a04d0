#pragma once

// libSQL's ALTER COLUMN on SQLite: `ALTER TABLE t ALTER COLUMN c TO c <definition>` replaces
// column c's definition (type, NOT NULL, DEFAULT, CHECK, REFERENCES, COLLATE, ...) and keeps
// its rows. libSQL's own parser supports it; SQLite 3.40 does not, and drizzle-kit's "turso"
// dialect emits it. Quarry recognises the statement before SQLite would refuse it and runs
// SQLite's documented table rebuild instead, on the caller's connection and inside the
// caller's transaction when one is open.
//
// Where Quarry differs from libSQL: libSQL rewrites only the schema, so rows stored before the
// change are not checked against the new definition; Quarry copies every row into the rebuilt
// table, so a row that does not fit (NULL in a column now NOT NULL, a failing CHECK) makes the
// statement fail and nothing changes. The column keeps its name: renaming is RENAME COLUMN's
// job. Only tables of the main database can be altered.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/connection.h"

namespace quarry::storage {

struct AlterColumn {
  std::string table;       // unquoted
  std::string column;      // unquoted
  std::string definition;  // the new column definition, starting with the column's name
  size_t length = 0;       // bytes of the SQL text the statement took, with its ';'
};

// Recognises an ALTER COLUMN statement at the start of `sql` (after whitespace and comments).
// std::nullopt when the first statement is not one; kInvalidArgument naming what is wrong
// when it starts like one (`ALTER TABLE name ALTER`) but is malformed. Pure.
Result<std::optional<AlterColumn>> TranslateAlterColumn(std::string_view sql);

// Runs `alter` on `conn` as a table rebuild: a new table with the changed definition, every
// row copied, the old table dropped, the new one renamed, its indexes and triggers recreated,
// the AUTOINCREMENT counter kept. Outside a transaction it runs in its own (foreign keys off
// during it, PRAGMA foreign_key_check of the table before commit when they were on); inside
// one, under a savepoint that is rolled back on failure. Inside a transaction with foreign keys
// enforced it refuses a table that other tables reference, because dropping it would run their
// ON DELETE actions. Errors name the table and column and say what failed.
Status RebuildForAlterColumn(Connection& conn, const AlterColumn& alter);

// The first `count` keywords (or identifiers) of `sql`, upper-cased, skipping whitespace and
// comments; fewer when the statement ends first. Pure.
std::string LeadingWords(std::string_view sql, size_t count);

// The length of `sql`'s first statement, its ';' included: up to the first ';' outside quotes,
// comments and parentheses, or all of `sql`. Pure.
size_t FirstStatementLength(std::string_view sql);

// Whether `sql` holds nothing but whitespace, comments and semicolons. Pure.
bool IsBlankSql(std::string_view sql);

}  // namespace quarry::storage
