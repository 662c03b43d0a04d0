#pragma once

// Internal to the migrator (migrator.h), shared by its parts:
//   migration_execution.cc  running a migration's statements in a transaction, the foreign-key
//                           check after it, and the Status that reports a failure
//   migration_history.cc    the tracking table _quarry_migrations: reading it, comparing it
//                           with a migration set, recording an applied migration
//   migrator.cc             Apply, Try, Stage and Down, built from the two above
// Not for use outside these files. Every function uses only the handle it is given; the caller
// serialises its use.

#include <sqlite3.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "schema/migrator.h"

namespace quarry::schema::internal {

// Creates the tracking table when it does not exist.
inline constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS _quarry_migrations ("
    "id TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL, "
    "format TEXT NOT NULL)";

// Milliseconds since the Unix epoch, for applied_at.
int64_t NowMs();

// kSqlite with `context` followed by the connection's last error message and extended code.
Status SqliteError(sqlite3* db, std::string_view context);

// Runs every statement of `sql` (prepare-tail iteration), discarding rows.
Status RunSql(sqlite3* db, std::string_view sql);

// Whether `db` has a table named `name` (false when the query fails).
bool TableExists(sqlite3* db, const char* name);

// Column `i` of the current row as text ("" for NULL).
std::string Column(sqlite3_stmt* stmt, int i);

// `sql` cut to a length that fits in an error message.
std::string Abbreviate(std::string_view sql);

// Whether foreign-key enforcement is on for `db` (false when that cannot be read).
bool ForeignKeysEnabled(sqlite3* db);

// Switches foreign-key enforcement off for the guard's life (it is a no-op inside a
// transaction, so it must be done before BEGIN) and restores the previous setting.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(sqlite3* db);
  ~ForeignKeysOff();
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  sqlite3* db_;
  bool was_on_ = false;
};

// An open write transaction, rolled back on destruction unless committed.
class WriteTransaction {
 public:
  explicit WriteTransaction(sqlite3* db) : db_(db) {}
  ~WriteTransaction() {
    if (open_) {
      RunSql(db_, "ROLLBACK").PermitUncheckedError();
    }
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  Status Begin() {
    Status status = RunSql(db_, "BEGIN IMMEDIATE");
    open_ = status.ok();
    return status;
  }
  Status Commit() {
    Status status = RunSql(db_, "COMMIT");
    if (status.ok()) {
      open_ = false;
    }
    return status;
  }
  void Rollback() {
    if (open_) {
      RunSql(db_, "ROLLBACK").PermitUncheckedError();
      open_ = false;
    }
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

// The failure for a step of `migration` that is not one of its statements.
MigrationFailure FailureOf(const Migration& migration, std::string message);

// Runs one migration's statements inside the open transaction, then checks foreign keys.
// Returns the failure, or nullopt when all went well. `what` is "migration" or "down section".
std::optional<MigrationFailure> RunMigrationBody(storage::Connection& conn,
                                                 const Migration& migration,
                                                 const std::vector<std::string>& statements);

// The Status reporting `failure` of `action` ("" for applying, "down section", ...), with the
// SQLite code when a statement failed (0 otherwise: then kInvalidArgument).
Status StatusOf(const MigrationFailure& failure, std::string_view action, int sqlite_code);

// `run` ended by `failure`: its status and failure set.
MigrationRun Failed(MigrationRun run, MigrationFailure failure, std::string_view action,
                    int sqlite_code);

// Refuses when an applied migration was modified or is missing, unless forced.
Status CheckHistory(const std::vector<MigrationStatus>& statuses, const ApplyOptions& options);

// Records `migration` as applied, inside the caller's transaction, and its schema snapshot, when
// it has one, as the recorded schema (recorded_schema.h).
std::optional<MigrationFailure> RecordMigration(sqlite3* db, const MigrationSet& set,
                                                const Migration& migration);

// After `undone`'s down section ran and its tracking row went, inside the same transaction: when
// `undone` carried a schema snapshot, records the snapshot of the newest migration still applied
// that carries one, or forgets the recorded schema when none does.
std::optional<MigrationFailure> RestoreRecordedSchema(sqlite3* db, const MigrationSet& set,
                                                      const Migration& undone);

// The migrations of `set` whose status is pending, in order.
std::vector<const Migration*> PendingOf(const MigrationSet& set,
                                        const std::vector<MigrationStatus>& statuses);

}  // namespace quarry::schema::internal
