#include "schema/recorded_schema.h"

#include <chrono>

#include "storage/statement.h"

namespace quarry::schema {
namespace {

Status SqliteError(sqlite3* db, std::string_view action) {
  return Status(ErrorCode::kSqlite,
                std::string(action) + " " + kRecordedSchemaTable + ": " + sqlite3_errmsg(db),
                sqlite3_extended_errcode(db));
}

Result<bool> TableExists(sqlite3* db) {
  QUARRY_ASSIGN_OR_RETURN(
      storage::Statement stmt,
      storage::Statement::Prepare(
          db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_quarry_schema'"));
  int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return SqliteError(db, "looking for");
  }
  return rc == SQLITE_ROW;
}

// Runs one statement with `text` bound to its first parameter when given.
Status Run(sqlite3* db, const char* sql, std::optional<std::string_view> text,
           std::string_view action) {
  Result<storage::Statement> stmt = storage::Statement::Prepare(db, sql);
  if (!stmt.ok()) {
    return SqliteError(db, action);
  }
  if (text) {
    sqlite3_bind_text(stmt->get(), 1, text->data(), static_cast<int>(text->size()),
                      SQLITE_TRANSIENT);
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    sqlite3_bind_int64(stmt->get(), 2, now_ms);
  }
  if (sqlite3_step(stmt->get()) != SQLITE_DONE) {
    return SqliteError(db, action);
  }
  return Status::Ok();
}

}  // namespace

Status RecordSchema(sqlite3* db, std::string_view source) {
  QUARRY_RETURN_IF_ERROR(Run(db,
                             "CREATE TABLE IF NOT EXISTS _quarry_schema ("
                             "id INTEGER PRIMARY KEY CHECK (id = 1), source TEXT NOT NULL, "
                             "recorded_at INTEGER NOT NULL)",
                             std::nullopt, "creating"));
  return Run(db,
             "INSERT INTO _quarry_schema (id, source, recorded_at) VALUES (1, ?1, ?2) "
             "ON CONFLICT (id) DO UPDATE SET source = excluded.source, "
             "recorded_at = excluded.recorded_at",
             source, "writing");
}

Result<std::optional<std::string>> LoadRecordedSchema(sqlite3* db) {
  QUARRY_ASSIGN_OR_RETURN(bool exists, TableExists(db));
  if (!exists) {
    return std::optional<std::string>();
  }
  Result<storage::Statement> stmt =
      storage::Statement::Prepare(db, "SELECT source FROM _quarry_schema WHERE id = 1");
  if (!stmt.ok()) {
    return SqliteError(db, "reading");
  }
  int rc = sqlite3_step(stmt->get());
  if (rc == SQLITE_DONE) {
    return std::optional<std::string>();
  }
  if (rc != SQLITE_ROW) {
    return SqliteError(db, "reading");
  }
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt->get(), 0));
  int size = sqlite3_column_bytes(stmt->get(), 0);
  return std::optional<std::string>(std::string(text == nullptr ? "" : text, size));
}

Status ForgetRecordedSchema(sqlite3* db) {
  QUARRY_ASSIGN_OR_RETURN(bool exists, TableExists(db));
  if (!exists) {
    return Status::Ok();
  }
  return Run(db, "DELETE FROM _quarry_schema", std::nullopt, "clearing");
}

}  // namespace quarry::schema
