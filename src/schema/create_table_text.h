#pragma once

// What introspection (introspect.h) reads from the SQL text of a table, where SQLite's pragmas
// do not say it: the items of a CREATE TABLE body, the CHECK / GENERATED / AUTOINCREMENT /
// UNIQUE clauses of a column, lists of string literals, and the columns and content table of
// a CREATE VIRTUAL TABLE ... USING fts5(...). Only the shapes SQLite stores for tables are
// expected (SQLite keeps the CREATE text as written, comments included: strings, quoted
// identifiers and comments are skipped as SQLite's tokens, common/sql_tokenizer.h); anything
// else gives empty results, never an error. Pure functions, thread-safe.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace quarry::schema::internal {

// `s` upper-cased (ASCII).
std::string Upper(std::string s);

// Reads an SQL identifier (quoted with "", `` or [], or bare) at `pos`; advances past it.
std::string ReadIdentifier(const std::string& sql, size_t& pos);

// The comma-separated items of the body of CREATE TABLE (column definitions and table
// constraints), split at top-level commas.
std::vector<std::string> TableItems(const std::string& sql);

// Finds `keyword` (upper case) as a whole word at depth 0 outside quotes; npos when absent.
size_t FindKeyword(const std::string& text, const std::string& keyword, size_t from = 0);

// What the CREATE TABLE text says about one column beyond the pragmas.
struct ColumnText {
  std::vector<std::string> checks;  // the expressions inside CHECK (...)
  std::string generated;            // the expression inside GENERATED ALWAYS AS (...)
  bool autoincrement = false;
  bool unique = false;
};

// ColumnText of every column of the CREATE TABLE text `sql`, by column name.
std::map<std::string, ColumnText> ParseColumns(const std::string& sql);

// Splits "'a', 'b'" into its string literals; false when it is anything else.
bool ParseStringList(const std::string& text, std::vector<std::string>& values);

struct FtsTable {
  std::string name;
  std::string content;
  std::vector<std::string> columns;
};

// Parses `CREATE VIRTUAL TABLE x USING fts5(a, b, content='t', content_rowid='id')`.
std::optional<FtsTable> ParseFts(const std::string& name, const std::string& sql);

}  // namespace quarry::schema::internal
