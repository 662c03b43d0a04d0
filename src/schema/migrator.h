#pragma once

// Migrator: applies a MigrationSet to one SQLite database and records what it applied.
//
// Each database keeps a tracking table, created by the first apply:
//
//   _quarry_migrations(id TEXT PRIMARY KEY, checksum TEXT, applied_at INTEGER, format TEXT)
//
// (applied_at is Unix milliseconds; rowid order is apply order). Each migration runs in its own
// transaction: BEGIN IMMEDIATE, its statements one by one, PRAGMA foreign_key_check, the
// tracking row, COMMIT. Any failure (a statement error, a foreign-key violation, a statement
// that would end the transaction) rolls the whole migration back and stops: nothing of it and
// nothing after it is applied, and the error names the migration, its file, the statement's
// 1-based index and SQLite's message. Foreign-key enforcement is switched off around each
// migration (and restored after) so that SQLite's table-rebuild procedure works, which is why the
// whole database is checked before commit instead.
//
// A Migrator borrows its connection, which must outlive it; like the connection, it is used by
// one thread at a time. The connection must not be inside a transaction.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "schema/migration_folder.h"
#include "storage/connection.h"

namespace quarry::schema {

inline constexpr const char* kMigrationsTable = "_quarry_migrations";
// drizzle-kit's own migrator (drizzle-kit migrate, drizzle-orm's migrate()) records what it
// applied here: id, hash (SHA-256 hex of the migration file), created_at (the journal's "when").
inline constexpr const char* kDrizzleKitMigrationsTable = "__drizzle_migrations";
// AppliedMigration::format of a row read from kDrizzleKitMigrationsTable.
inline constexpr const char* kDrizzleKitFormat = "drizzle-kit";

// One row of the tracking table, or of drizzle-kit's (format kDrizzleKitFormat, id
// "drizzle-kit:<created_at>", applied_at_ms the created_at, checksum the hash).
struct AppliedMigration {
  std::string id;
  std::string checksum;
  int64_t applied_at_ms = 0;
  std::string format;
};

enum class MigrationState {
  kApplied,   // recorded, and the file's checksum still matches
  kPending,   // in the folder, not recorded
  kModified,  // recorded, but the file changed after it was applied
  kMissing,   // recorded, but no longer in the folder
};
std::string_view StateName(MigrationState state);  // "applied", "pending", "modified", "missing"

struct MigrationStatus {
  std::string id;
  MigrationState state = MigrationState::kPending;
  std::string checksum;          // the folder's; empty when kMissing
  std::string applied_checksum;  // the recorded one; empty when kPending
  int64_t applied_at_ms = 0;     // 0 when kPending
};

// The status of every migration: the folder's in order, then recorded ones missing from it
// (in apply order). For a kDrizzle folder, a migration Quarry did not record counts as applied
// when drizzle-kit's migrator recorded it (created_at equal to its journal "when"; modified when
// the hash differs); other folders ignore drizzle-kit's rows. Pure.
std::vector<MigrationStatus> CompareMigrations(const MigrationSet& set,
                                               const std::vector<AppliedMigration>& applied);

// Where a migration failed.
struct MigrationFailure {
  std::string migration_id;
  std::string source;   // the file (or "request")
  int statement = 0;    // 1-based index among the migration's statements; 0 when not one
  std::string sql;      // the failing statement, empty when not one
  std::string message;  // SQLite's (or the migrator's) message
};

// What Apply, Down and Try did. `status` is OK when everything asked for was done; otherwise
// `failure` says where (when a statement or check failed) and `done` lists what completed
// before it (committed, except for Try, which commits nothing).
struct MigrationRun {
  std::vector<std::string> done;
  Status status;
  std::optional<MigrationFailure> failure;
};

struct ApplyOptions {
  // Apply even when an applied migration was modified or is missing from the folder.
  bool force = false;
};

// The tracking table's rows in apply order, then those of drizzle-kit's table in its order, read
// through any SQLite handle (the CLI uses a read-only one so that status and dry-run cannot
// write); empty when there is neither table.
Result<std::vector<AppliedMigration>> ReadAppliedMigrations(sqlite3* db);

// A migration Apply would run and its statements.
struct PlannedMigration {
  std::string id;
  std::string source;
  std::vector<std::string> statements;
};

// The plan for `set` given what is recorded: its pending migrations in order. Refuses, as
// Apply does, when a recorded migration was modified or is missing, unless options.force.
// Pure; the CLI uses it against a server's recorded list.
Result<std::vector<PlannedMigration>> PlanMigrations(const MigrationSet& set,
                                                     const std::vector<AppliedMigration>& applied,
                                                     const ApplyOptions& options = {});

// Migrations applied inside a transaction that is still open, holding the database's write
// lock: Commit() makes them durable; destroying an uncommitted stage rolls them back. Either
// way the connection's foreign-key setting is restored. Must not outlive the connection.
class StagedMigrations {
 public:
  StagedMigrations(sqlite3* db, bool foreign_keys_were_on, std::vector<std::string> done)
      : db_(db), foreign_keys_were_on_(foreign_keys_were_on), done_(std::move(done)) {}
  ~StagedMigrations();
  StagedMigrations(const StagedMigrations&) = delete;
  StagedMigrations& operator=(const StagedMigrations&) = delete;

  Status Commit();
  const std::vector<std::string>& done() const { return done_; }
  // Gives up ownership of the transaction (and the foreign-key restore) without ending it.
  void Release() {
    open_ = false;
    foreign_keys_were_on_ = false;
  }

 private:
  void RestoreForeignKeys();

  sqlite3* db_;
  bool foreign_keys_were_on_;
  bool open_ = true;
  std::vector<std::string> done_;
};

class Migrator {
 public:
  explicit Migrator(storage::Connection& conn) : conn_(conn) {}

  // The tracking table's rows in apply order; empty (and nothing created) when the database
  // has none.
  Result<std::vector<AppliedMigration>> Applied();
  Result<std::vector<MigrationStatus>> Status(const MigrationSet& set);

  // Applies the pending migrations in order. Refuses before running anything, with an error
  // listing them, when an applied migration was modified or is missing, unless options.force.
  // A migration recorded by someone else while this one waited for the write lock is skipped.
  MigrationRun Apply(const MigrationSet& set, const ApplyOptions& options = {});

  // The statements Apply would run, grouped per migration, in order; writes nothing (does not
  // even create the tracking table). Fails like Apply when a migration was modified.
  Result<std::vector<PlannedMigration>> Plan(const MigrationSet& set,
                                             const ApplyOptions& options = {});

  // Runs all pending migrations, with their foreign-key checks, in one transaction and rolls
  // it back whatever happens: a rehearsal that changes nothing. `done` lists the migrations
  // that would apply.
  MigrationRun Try(const MigrationSet& set, const ApplyOptions& options = {});

  // Applies all pending migrations (with their foreign-key checks and tracking rows) in one
  // transaction and leaves it open: on success `*staged` holds it, to commit or drop. On
  // failure nothing stays open and the run says what failed. Used by group apply to hold every
  // member's write lock until every member has staged.
  MigrationRun Stage(const MigrationSet& set, const ApplyOptions& options,
                     std::unique_ptr<StagedMigrations>* staged);

  // Undoes the last `count` applied migrations, newest first, each in its own transaction
  // running its down statements and deleting its tracking row. Refuses before running anything
  // unless each of them is in `set` (a kQuarry set), unmodified (unless options.force) and has
  // a down section. Asking for more than are applied undoes all of them.
  MigrationRun Down(const MigrationSet& set, int count, const ApplyOptions& options = {});

 private:
  // The pending migrations of `set`, after the checks every run makes first: no open
  // transaction, and no applied migration modified or missing (unless options.force).
  Result<std::vector<const Migration*>> Pending(const MigrationSet& set,
                                                const ApplyOptions& options);
  storage::Connection& conn_;
};

}  // namespace quarry::schema
