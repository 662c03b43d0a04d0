// The migrator's statement execution (see migrator_internal.h): statements run inside the
// migration's transaction, the foreign-key check after them, and the Status of a failure.

#include <chrono>

#include "common/sql_statement.h"
#include "schema/migrator_internal.h"
#include "storage/client_ddl.h"
#include "storage/statement.h"

namespace quarry::schema::internal {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status SqliteError(sqlite3* db, std::string_view context) {
  return Status(ErrorCode::kSqlite, std::string(context) + sqlite3_errmsg(db),
                sqlite3_extended_errcode(db));
}

// Runs every statement of `sql` (prepare-tail iteration), discarding rows.
Status RunSql(sqlite3* db, std::string_view sql) {
  std::string_view next = sql;
  while (!next.empty()) {
    Result<storage::Statement> stmt = storage::Statement::Prepare(db, next, &next);
    if (!stmt.ok()) {
      return SqliteError(db, "");
    }
    sqlite3_stmt* raw = stmt->get();
    if (raw == nullptr) {
      break;  // only whitespace or comments remained
    }
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      return SqliteError(db, "");
    }
  }
  return Status::Ok();
}

bool TableExists(sqlite3* db, const char* name) {
  Result<storage::Statement> stmt = storage::Statement::Prepare(
      db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  if (!stmt.ok()) {
    return false;
  }
  sqlite3_stmt* raw = stmt->get();
  sqlite3_bind_text(raw, 1, name, -1, SQLITE_STATIC);
  return sqlite3_step(raw) == SQLITE_ROW;
}

std::string Column(sqlite3_stmt* stmt, int i) {
  const unsigned char* text = sqlite3_column_text(stmt, i);
  return text == nullptr ? std::string() : reinterpret_cast<const char*>(text);
}

std::string Abbreviate(std::string_view sql) {
  constexpr size_t kMax = 300;
  std::string out(sql.substr(0, kMax));
  if (sql.size() > kMax) {
    out += " ...";
  }
  return out;
}

bool ForeignKeysEnabled(sqlite3* db) {
  Result<storage::Statement> stmt = storage::Statement::Prepare(db, "PRAGMA foreign_keys");
  return stmt.ok() && sqlite3_step(stmt->get()) == SQLITE_ROW &&
         sqlite3_column_int(stmt->get(), 0) != 0;
}

ForeignKeysOff::ForeignKeysOff(sqlite3* db) : db_(db), was_on_(ForeignKeysEnabled(db)) {
  if (was_on_) {
    RunSql(db_, "PRAGMA foreign_keys = OFF").PermitUncheckedError();
  }
}
ForeignKeysOff::~ForeignKeysOff() {
  if (was_on_) {
    RunSql(db_, "PRAGMA foreign_keys = ON").PermitUncheckedError();
  }
}

// The failure for a step of `migration` that is not one of its statements.
MigrationFailure FailureOf(const Migration& migration, std::string message) {
  return MigrationFailure{migration.id, migration.source, 0, "", std::move(message)};
}

// Runs one migration's statements inside the open transaction, then checks foreign keys.
// Returns the failure, or nullopt when all went well. `what` is "migration" or "down section".
// Runs one statement of a migration. libSQL's ALTER COLUMN, which drizzle-kit's "turso" dialect
// writes into migration files, runs as a table rebuild (storage/client_ddl.h).
Status RunMigrationStatement(storage::Connection& conn, std::string_view sql) {
  QUARRY_ASSIGN_OR_RETURN(std::optional<size_t> ran, storage::RunClientDdl(conn, sql, false));
  return RunSql(conn.handle(), ran ? sql.substr(*ran) : sql);
}

std::optional<MigrationFailure> RunMigrationBody(storage::Connection& conn,
                                                 const Migration& migration,
                                                 const std::vector<std::string>& statements) {
  sqlite3* db = conn.handle();
  for (size_t i = 0; i < statements.size(); ++i) {
    if (sql::StartsOrEndsTransaction(statements[i])) {
      return MigrationFailure{migration.id, migration.source, static_cast<int>(i + 1),
                              statements[i],
                              "migrations must not contain " + sql::FirstKeyword(statements[i]) +
                                  ": each migration already runs in its own transaction"};
    }
  }
  for (size_t i = 0; i < statements.size(); ++i) {
    Status status = RunMigrationStatement(conn, statements[i]);
    if (!status.ok()) {
      return MigrationFailure{migration.id, migration.source, static_cast<int>(i + 1),
                              statements[i], status.message()};
    }
    if (sqlite3_get_autocommit(db) != 0) {
      return MigrationFailure{migration.id, migration.source, static_cast<int>(i + 1),
                              statements[i], "the statement ended the migration's transaction"};
    }
  }
  Result<storage::Statement> stmt = storage::Statement::Prepare(db, "PRAGMA foreign_key_check");
  if (!stmt.ok()) {
    return FailureOf(migration, "foreign key check: " + stmt.status().message());
  }
  sqlite3_stmt* raw = stmt->get();
  int violations = 0;
  std::string first;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    if (violations++ == 0) {
      first = "table " + Column(raw, 0) + " row " + Column(raw, 1) +
              " references a missing row of " + Column(raw, 2);
    }
  }
  if (rc != SQLITE_DONE) {
    return FailureOf(migration, std::string("foreign key check: ") + sqlite3_errmsg(db));
  }
  if (violations > 0) {
    return FailureOf(migration, "foreign key check failed after the migration: " + first +
                                    (violations > 1 ? " (and " + std::to_string(violations - 1) +
                                                          " more violations)"
                                                    : ""));
  }
  return std::nullopt;
}

Status StatusOf(const MigrationFailure& failure, std::string_view action, int sqlite_code) {
  std::string message = action.empty() ? "migration " : std::string(action) + " of migration ";
  message += failure.migration_id;
  if (failure.source != failure.migration_id) {
    message += " (" + failure.source + ")";
  }
  if (failure.statement > 0) {
    message += " failed at statement " + std::to_string(failure.statement);
  } else {
    message += " failed";
  }
  message += "; rolled back: " + failure.message;
  if (!failure.sql.empty()) {
    message +=
        "\n  statement " + std::to_string(failure.statement) + ": " + Abbreviate(failure.sql);
  }
  return Status(sqlite_code != 0 ? ErrorCode::kSqlite : ErrorCode::kInvalidArgument, message,
                sqlite_code);
}

MigrationRun Failed(MigrationRun run, MigrationFailure failure, std::string_view action,
                    int sqlite_code) {
  run.status = StatusOf(failure, action, sqlite_code);
  run.failure = std::move(failure);
  return run;
}

}  // namespace quarry::schema::internal
