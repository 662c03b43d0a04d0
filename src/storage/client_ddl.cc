#include "storage/client_ddl.h"

#include <sqlite3.h>

#include "common/sql_statement.h"
#include "storage/alter_column.h"

namespace quarry::storage {
namespace {

// Runs the one statement `sql` with foreign-key enforcement off.
Status RunWithoutForeignKeys(Connection& conn, std::string_view sql) {
  int was = 0;
  int now = 0;
  sqlite3_db_config(conn.handle(), SQLITE_DBCONFIG_ENABLE_FKEY, 0, &was);
  Status result = [&]() -> Status {
    QUARRY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql));
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    return rc == SQLITE_DONE ? Status::Ok() : conn.LastError();
  }();
  sqlite3_db_config(conn.handle(), SQLITE_DBCONFIG_ENABLE_FKEY, 1, &now);
  return result;
}

bool ForeignKeysOn(Connection& conn) {
  int on = 0;
  sqlite3_db_config(conn.handle(), SQLITE_DBCONFIG_ENABLE_FKEY, -1, &on);
  return on != 0;
}

}  // namespace

Result<std::optional<size_t>> RunClientDdl(Connection& conn, std::string_view sql,
                                           bool only_statement) {
  // Every statement a client sends comes through here: most are not ALTER TABLE or DROP TABLE,
  // which their first word tells without the tokenizer.
  if (!sql::FirstKeywordIs(sql, "ALTER") && !sql::FirstKeywordIs(sql, "DROP")) {
    return std::optional<size_t>();
  }
  std::string words = LeadingWords(sql, 2);
  std::optional<AlterColumn> alter;
  if (words == "ALTER TABLE") {
    QUARRY_ASSIGN_OR_RETURN(alter, TranslateAlterColumn(sql));
  }
  bool drop = words == "DROP TABLE" && !conn.InTransaction() && ForeignKeysOn(conn);
  if (!alter && !drop) {
    return std::optional<size_t>();
  }
  size_t length = alter ? alter->length : FirstStatementLength(sql);
  if (only_statement && !IsBlankSql(sql.substr(length))) {
    return Status(ErrorCode::kSqlManyStatements,
                  "SQL string holds more than one statement; use a batch or sequence");
  }
  if (alter) {
    QUARRY_RETURN_IF_ERROR(RebuildForAlterColumn(conn, *alter));
  } else {
    QUARRY_RETURN_IF_ERROR(RunWithoutForeignKeys(conn, sql.substr(0, length)));
  }
  return std::optional<size_t>(length);
}

}  // namespace quarry::storage
