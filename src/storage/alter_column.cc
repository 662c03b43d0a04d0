#include "storage/alter_column.h"

#include <sqlite3.h>

#include <cctype>
#include <functional>
#include <limits>
#include <vector>

#include "common/sql_statement.h"

namespace quarry::storage {
namespace {

// One token of SQL text, as much as recognising statements and splitting a column list needs.
struct Token {
  enum class Kind { kWord, kQuoted, kString, kPunct };
  Kind kind;
  size_t begin;
  size_t end;
  std::string value;  // a word upper-cased, a quoted identifier unquoted, a punctuation mark
};

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

bool SameName(std::string_view a, std::string_view b) { return Upper(a) == Upper(b); }

// Tokens of `sql` up to the end, or up to and including the first ';' outside parentheses when
// `stop_at_semicolon`. An unterminated quote or comment is an error; `*out` then holds the
// tokens before it. Stops early once `*out` holds `max_tokens` tokens.
Status Tokenize(std::string_view sql, bool stop_at_semicolon, std::vector<Token>* out,
                size_t max_tokens = std::numeric_limits<size_t>::max()) {
  std::vector<Token>& tokens = *out;
  size_t i = 0;
  int depth = 0;
  while (i < sql.size() && tokens.size() < max_tokens) {
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (sql.substr(i, 2) == "/*") {
      size_t end = sql.find("*/", i + 2);
      if (end == std::string_view::npos) {
        return Status(ErrorCode::kInvalidArgument, "unterminated /* comment in the SQL text");
      }
      i = end + 2;
    } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
      char close = c == '[' ? ']' : c;
      std::string value;
      size_t j = i + 1;
      while (true) {
        if (j >= sql.size()) {
          return Status(ErrorCode::kInvalidArgument,
                        std::string("unterminated ") + c + " quote in the SQL text");
        }
        if (sql[j] == close) {
          if (close != ']' && j + 1 < sql.size() && sql[j + 1] == close) {
            value += close;
            j += 2;
            continue;
          }
          break;
        }
        value += sql[j++];
      }
      tokens.push_back({c == '\'' ? Token::Kind::kString : Token::Kind::kQuoted, i, j + 1, value});
      i = j + 1;
    } else if (IsWordChar(c)) {
      size_t j = i;
      while (j < sql.size() && IsWordChar(sql[j])) {
        ++j;
      }
      tokens.push_back({Token::Kind::kWord, i, j, Upper(sql.substr(i, j - i))});
      i = j;
    } else {
      tokens.push_back({Token::Kind::kPunct, i, i + 1, std::string(1, c)});
      ++i;
      if (c == '(') {
        ++depth;
      } else if (c == ')') {
        --depth;
      } else if (c == ';' && depth <= 0 && stop_at_semicolon) {
        break;
      }
    }
  }
  return Status::Ok();
}

bool IsWord(const std::vector<Token>& t, size_t i, std::string_view word) {
  return i < t.size() && t[i].kind == Token::Kind::kWord && t[i].value == word;
}

bool IsPunct(const std::vector<Token>& t, size_t i, char c) {
  return i < t.size() && t[i].kind == Token::Kind::kPunct && t[i].value[0] == c;
}

// A name token: a bare word (with its original case), or a quoted identifier unquoted.
std::optional<std::string> NameAt(std::string_view sql, const std::vector<Token>& t, size_t i) {
  if (i >= t.size()) {
    return std::nullopt;
  }
  if (t[i].kind == Token::Kind::kWord) {
    return std::string(sql.substr(t[i].begin, t[i].end - t[i].begin));
  }
  if (t[i].kind == Token::Kind::kQuoted || t[i].kind == Token::Kind::kString) {
    return t[i].value;
  }
  return std::nullopt;
}

Status Invalid(const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "ALTER TABLE ... ALTER COLUMN: " + what);
}

std::string Quote(std::string_view name) { return sql::QuoteIdentifier(name); }
std::string QuoteText(std::string_view text) { return sql::QuoteString(text); }

// Rows of a query with text parameters, as strings (NULL as empty).
Result<std::vector<std::vector<std::string>>> Query(Connection& conn, const std::string& sql,
                                                    const std::vector<std::string>& params = {}) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(conn.handle(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return conn.LastError();
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
  for (size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_text(raw, static_cast<int>(i) + 1, params[i].data(),
                      static_cast<int>(params[i].size()), SQLITE_TRANSIENT);
  }
  std::vector<std::vector<std::string>> rows;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(raw); ++c) {
      const unsigned char* text = sqlite3_column_text(raw, c);
      row.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) {
    return conn.LastError();
  }
  return rows;
}

// The column list of a CREATE TABLE statement: where it opens and each item's byte range.
struct ColumnList {
  struct Item {
    size_t begin;
    size_t end;
    std::optional<std::string> column;  // the column's name; nullopt for a table constraint
  };
  std::vector<Item> items;
};

Result<ColumnList> SplitColumnList(std::string_view create) {
  std::vector<Token> t;
  QUARRY_RETURN_IF_ERROR(Tokenize(create, /*stop_at_semicolon=*/false, &t));
  size_t i = 0;
  while (i < t.size() && !IsPunct(t, i, '(')) {
    ++i;
  }
  if (i == t.size()) {
    return Status(ErrorCode::kInvalidArgument, "the table's definition has no column list");
  }
  ColumnList list;
  int depth = 0;
  size_t item_first = i + 1;
  for (++i; i < t.size(); ++i) {
    bool closes = IsPunct(t, i, ')') && depth == 0;
    if (IsPunct(t, i, '(')) {
      ++depth;
    } else if (IsPunct(t, i, ')') && depth > 0) {
      --depth;
    }
    if ((IsPunct(t, i, ',') && depth == 0) || closes) {
      if (item_first < i) {
        ColumnList::Item item{t[item_first].begin, t[i - 1].end, std::nullopt};
        static constexpr std::string_view kConstraintWords[] = {"CONSTRAINT", "PRIMARY", "UNIQUE",
                                                                "CHECK", "FOREIGN"};
        bool constraint = false;
        for (std::string_view word : kConstraintWords) {
          constraint = constraint || IsWord(t, item_first, word);
        }
        if (!constraint) {
          item.column = NameAt(create, t, item_first);
        }
        list.items.push_back(item);
      }
      item_first = i + 1;
      if (closes) {
        return list;
      }
    }
  }
  return Status(ErrorCode::kInvalidArgument, "the table's column list is not closed");
}

bool ForeignKeysOn(Connection& conn) {
  int on = 0;
  sqlite3_db_config(conn.handle(), SQLITE_DBCONFIG_ENABLE_FKEY, -1, &on);
  return on != 0;
}

void SetForeignKeys(Connection& conn, bool on) {
  int now = 0;
  sqlite3_db_config(conn.handle(), SQLITE_DBCONFIG_ENABLE_FKEY, on ? 1 : 0, &now);
}

// The statements of the rebuild, run in the caller's transaction or savepoint.
Status Rebuild(Connection& conn, const AlterColumn& alter, const std::string& table_sql,
               const std::string& table, bool check_foreign_keys) {
  auto fail = [&](const std::string& what) {
    return Status(ErrorCode::kSqlite,
                  "cannot alter column " + alter.table + "." + alter.column + ": " + what);
  };
  auto list = SplitColumnList(table_sql);
  if (!list.ok()) {
    return fail(list.status().message());
  }
  const ColumnList::Item* target = nullptr;
  for (const auto& item : list->items) {
    if (item.column && SameName(*item.column, alter.column)) {
      target = &item;
    }
  }
  if (target == nullptr) {
    return Status(ErrorCode::kInvalidArgument, "cannot alter column " + alter.table + "." +
                                                   alter.column + ": table " + alter.table +
                                                   " has no column " + alter.column);
  }
  const std::string staging = "_quarry_new_" + table;
  QUARRY_ASSIGN_OR_RETURN(
      auto taken,
      Query(conn, "SELECT 1 FROM sqlite_schema WHERE name = ?1 COLLATE NOCASE", {staging}));
  if (!taken.empty()) {
    return fail("a table named " + staging + " already exists (left by an interrupted rebuild?)");
  }
  size_t open = table_sql.find('(');
  std::string create = "CREATE TABLE " + Quote(staging) + " " +
                       table_sql.substr(open, target->begin - open) + alter.definition +
                       table_sql.substr(target->end);
  // Indexes (not the automatic ones of UNIQUE and PRIMARY KEY) and triggers go with the table.
  QUARRY_ASSIGN_OR_RETURN(
      auto dependents,
      Query(conn,
            "SELECT sql FROM sqlite_schema WHERE tbl_name = ?1 AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL ORDER BY type = 'trigger', rowid",
            {table}));
  bool autoincrement = Upper(table_sql).find("AUTOINCREMENT") != std::string::npos;
  auto run = [&](const std::string& sql, const std::string& step) -> Status {
    Status s = conn.Exec(sql);
    return s.ok() ? s
                  : Status(ErrorCode::kSqlite,
                           "cannot alter column " + alter.table + "." + alter.column + ": " + step +
                               ": " + s.message(),
                           s.sqlite_code());
  };
  QUARRY_RETURN_IF_ERROR(run(create, "the new definition is not valid"));
  QUARRY_ASSIGN_OR_RETURN(
      auto columns,
      Query(conn, "SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0", {staging}));
  std::string names;
  for (const auto& row : columns) {
    names += (names.empty() ? "" : ", ") + Quote(row[0]);
  }
  QUARRY_RETURN_IF_ERROR(run("INSERT INTO " + Quote(staging) + " (" + names + ") SELECT " + names +
                                 " FROM " + Quote(table),
                             "existing rows do not fit the new definition"));
  if (autoincrement) {
    // DROP TABLE forgets the counter: carry the old one over so no id is handed out twice.
    QUARRY_RETURN_IF_ERROR(
        run("INSERT INTO sqlite_sequence (name, seq) SELECT " + QuoteText(staging) +
                ", 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = " +
                QuoteText(staging) + ");" + "UPDATE sqlite_sequence SET seq = max(seq, " +
                "coalesce((SELECT seq FROM sqlite_sequence WHERE name = " + QuoteText(table) +
                "), 0)) WHERE name = " + QuoteText(staging),
            "keeping the AUTOINCREMENT counter"));
  }
  QUARRY_RETURN_IF_ERROR(run("DROP TABLE " + Quote(table), "dropping the old table"));
  // Without legacy_alter_table the rename re-checks every view and trigger naming the table,
  // which fails while it is gone; the C API leaves the client's own pragma settings alone.
  int legacy = 0;
  sqlite3_db_config(conn.handle(), SQLITE_DBCONFIG_LEGACY_ALTER_TABLE, -1, &legacy);
  int ignored = 0;
  sqlite3_db_config(conn.handle(), SQLITE_DBCONFIG_LEGACY_ALTER_TABLE, 1, &ignored);
  Status renamed =
      run("ALTER TABLE " + Quote(staging) + " RENAME TO " + Quote(table), "renaming the new table");
  sqlite3_db_config(conn.handle(), SQLITE_DBCONFIG_LEGACY_ALTER_TABLE, legacy, &ignored);
  QUARRY_RETURN_IF_ERROR(renamed);
  for (const auto& row : dependents) {
    QUARRY_RETURN_IF_ERROR(run(row[0], "recreating an index or trigger"));
  }
  if (check_foreign_keys) {
    QUARRY_ASSIGN_OR_RETURN(
        auto violations,
        Query(conn, "SELECT \"table\" FROM pragma_foreign_key_check(?1)", {table}));
    if (!violations.empty()) {
      return fail(std::to_string(violations.size()) +
                  " row(s) violate the column's foreign key after the change");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string LeadingWords(std::string_view sql, size_t count) {
  std::vector<Token> tokens;
  // Every statement a client sends comes through here: read no further than needed.
  Tokenize(sql, /*stop_at_semicolon=*/true, &tokens, count).PermitUncheckedError();
  std::string out;
  for (size_t i = 0; i < tokens.size() && i < count; ++i) {
    if (tokens[i].kind != Token::Kind::kWord) {
      break;
    }
    out += (out.empty() ? "" : " ") + tokens[i].value;
  }
  return out;
}

size_t FirstStatementLength(std::string_view sql) {
  std::vector<Token> tokens;
  if (!Tokenize(sql, /*stop_at_semicolon=*/true, &tokens).ok() || tokens.empty() ||
      !IsPunct(tokens, tokens.size() - 1, ';')) {
    return sql.size();
  }
  return tokens.back().end;
}

bool IsBlankSql(std::string_view sql) {
  std::vector<Token> tokens;
  if (!Tokenize(sql, /*stop_at_semicolon=*/false, &tokens).ok()) {
    return false;
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!IsPunct(tokens, i, ';')) {
      return false;
    }
  }
  return true;
}

Result<std::optional<AlterColumn>> TranslateAlterColumn(std::string_view sql) {
  if (LeadingWords(sql, 2) != "ALTER TABLE") {
    return std::optional<AlterColumn>();
  }
  std::vector<Token> t;
  QUARRY_RETURN_IF_ERROR(Tokenize(sql, /*stop_at_semicolon=*/true, &t));
  size_t i = 2;
  std::optional<std::string> table = NameAt(sql, t, i);
  if (table && IsPunct(t, i + 1, '.')) {
    std::optional<std::string> name = NameAt(sql, t, i + 2);
    if (!name || !SameName(*table, "main")) {
      return std::optional<AlterColumn>();  // another database: SQLite answers for it
    }
    table = name;
    i += 2;
  }
  if (!table || !IsWord(t, i + 1, "ALTER")) {
    return std::optional<AlterColumn>();  // RENAME, ADD, DROP: SQLite's own forms
  }
  i += 2;
  if (IsWord(t, i, "COLUMN")) {
    ++i;
  }
  std::optional<std::string> column = NameAt(sql, t, i);
  if (!column) {
    return Invalid("expected a column name after ALTER COLUMN");
  }
  if (!IsWord(t, i + 1, "TO")) {
    return Invalid("expected TO and the new column definition after ALTER COLUMN " + *column +
                   " (libSQL's form: ALTER TABLE t ALTER COLUMN c TO c <definition>)");
  }
  size_t first = i + 2;
  size_t last = t.size();
  bool has_semicolon = !t.empty() && IsPunct(t, t.size() - 1, ';');
  if (has_semicolon) {
    --last;
  }
  if (first >= last) {
    return Invalid("the new definition of column " + *column + " is missing after TO");
  }
  std::optional<std::string> new_name = NameAt(sql, t, first);
  if (!new_name) {
    return Invalid("the new definition of column " + *column + " must start with its name");
  }
  if (!SameName(*new_name, *column)) {
    return Invalid("the new definition names column " + *new_name + ", not " + *column +
                   "; rename a column with ALTER TABLE ... RENAME COLUMN");
  }
  int depth = 0;
  for (size_t k = first; k < last; ++k) {
    if (IsPunct(t, k, '(')) {
      ++depth;
    } else if (IsPunct(t, k, ')')) {
      --depth;
    } else if (IsPunct(t, k, ',') && depth == 0) {
      return Invalid("the new definition of column " + *column +
                     " holds a ',': one column is altered at a time");
    }
  }
  AlterColumn alter;
  alter.table = *table;
  alter.column = *column;
  alter.definition = std::string(sql.substr(t[first].begin, t[last - 1].end - t[first].begin));
  alter.length = has_semicolon ? t.back().end : sql.size();
  return std::optional<AlterColumn>(std::move(alter));
}

Status RebuildForAlterColumn(Connection& conn, const AlterColumn& alter) {
  QUARRY_ASSIGN_OR_RETURN(auto found,
                          Query(conn,
                                "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND "
                                "name = ?1 COLLATE NOCASE",
                                {alter.table}));
  if (found.empty()) {
    return Status(ErrorCode::kSqlite,
                  "cannot alter column " + alter.table + "." + alter.column +
                      ": no such table: " + alter.table,
                  SQLITE_ERROR);
  }
  const std::string table = found[0][0];
  const std::string table_sql = found[0][1];
  if (Upper(table_sql).rfind("CREATE VIRTUAL", 0) == 0) {
    return Status(ErrorCode::kInvalidArgument, "cannot alter column " + alter.table + "." +
                                                   alter.column + ": it is a virtual table");
  }
  bool foreign_keys = ForeignKeysOn(conn);
  if (conn.InTransaction()) {
    if (foreign_keys) {
      QUARRY_ASSIGN_OR_RETURN(
          auto referencing,
          Query(conn,
                "SELECT s.name FROM sqlite_schema AS s, pragma_foreign_key_list(s.name) AS f "
                "WHERE s.type = 'table' AND f.\"table\" = ?1 COLLATE NOCASE LIMIT 1",
                {table}));
      if (!referencing.empty()) {
        return Status(ErrorCode::kInvalidArgument,
                      "cannot alter column " + alter.table + "." + alter.column +
                          " inside a transaction while foreign keys are enforced: table " +
                          referencing[0][0] + " references " + table +
                          ", and the rebuild's DROP TABLE would run its ON DELETE actions; run "
                          "PRAGMA foreign_keys = OFF before BEGIN, or alter outside a transaction");
      }
    }
    QUARRY_RETURN_IF_ERROR(conn.Exec("SAVEPOINT quarry_alter_column"));
    Status status = Rebuild(conn, alter, table_sql, table, /*check_foreign_keys=*/false);
    if (!status.ok()) {
      conn.Exec("ROLLBACK TO quarry_alter_column").PermitUncheckedError();
    }
    conn.Exec("RELEASE quarry_alter_column").PermitUncheckedError();
    return status;
  }
  if (foreign_keys) {
    SetForeignKeys(conn, false);
  }
  Status status = conn.Exec("BEGIN IMMEDIATE");
  if (status.ok()) {
    status = Rebuild(conn, alter, table_sql, table, foreign_keys);
  }
  if (status.ok()) {
    status = conn.Exec("COMMIT");
  }
  if (!status.ok()) {
    conn.RollbackIfOpen().PermitUncheckedError();
  }
  if (foreign_keys) {
    SetForeignKeys(conn, true);
  }
  return status;
}

}  // namespace quarry::storage
