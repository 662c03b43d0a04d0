// The migrator's history (see migrator_internal.h and migrator.h): the tracking table
// _quarry_migrations, compared with a migration set, and the plan and pending list derived
// from the comparison.

#include <map>

#include "schema/migrator_internal.h"
#include "schema/recorded_schema.h"
#include "storage/statement.h"

namespace quarry::schema {
namespace internal {

// Refuses when an applied migration was modified or is missing, unless forced.
Status CheckHistory(const std::vector<MigrationStatus>& statuses, const ApplyOptions& options) {
  if (options.force) {
    return Status::Ok();
  }
  std::string modified;
  std::string missing;
  for (const auto& s : statuses) {
    if (s.state == MigrationState::kModified) {
      modified += (modified.empty() ? "" : ", ") + s.id;
    } else if (s.state == MigrationState::kMissing) {
      missing += (missing.empty() ? "" : ", ") + s.id;
    }
  }
  if (modified.empty() && missing.empty()) {
    return Status::Ok();
  }
  std::string message = "refusing to migrate:";
  if (!modified.empty()) {
    message += " applied migrations were modified after they were applied (" + modified +
               "); migrations are append-only, so add a new migration instead of editing one";
  }
  if (!missing.empty()) {
    message += std::string(modified.empty() ? "" : ";") +
               " applied migrations are missing from the folder (" + missing + ")";
  }
  message += ". Pass --force (\"force\": true) to go on anyway.";
  return Status(ErrorCode::kInvalidArgument, message);
}

// Records `migration` as applied, inside the caller's transaction.
std::optional<MigrationFailure> RecordMigration(sqlite3* db, const MigrationSet& set,
                                                const Migration& migration) {
  Result<storage::Statement> insert = storage::Statement::Prepare(
      db, "INSERT INTO _quarry_migrations (id, checksum, applied_at, format) VALUES (?, ?, ?, ?)");
  sqlite3_stmt* raw = insert.ok() ? insert->get() : nullptr;
  std::string format(FormatName(set.format));
  sqlite3_bind_text(raw, 1, migration.id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(raw, 2, migration.checksum.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(raw, 3, NowMs());
  sqlite3_bind_text(raw, 4, format.c_str(), -1, SQLITE_TRANSIENT);
  if (raw == nullptr || sqlite3_step(raw) != SQLITE_DONE) {
    return FailureOf(migration, std::string("recording it: ") + sqlite3_errmsg(db));
  }
  if (migration.schema) {
    if (Status recorded = RecordSchema(db, *migration.schema); !recorded.ok()) {
      return FailureOf(migration, "recording its schema: " + recorded.message());
    }
  }
  return std::nullopt;
}

std::optional<MigrationFailure> RestoreRecordedSchema(sqlite3* db, const MigrationSet& set,
                                                      const Migration& undone) {
  if (!undone.schema) {
    return std::nullopt;
  }
  Result<std::vector<AppliedMigration>> applied = ReadAppliedMigrations(db);
  if (!applied.ok()) {
    return FailureOf(undone, "restoring the recorded schema: " + applied.status().message());
  }
  for (auto it = applied->rbegin(); it != applied->rend(); ++it) {
    const Migration* earlier = set.Find(it->id);
    if (earlier != nullptr && earlier->schema) {
      if (Status recorded = RecordSchema(db, *earlier->schema); !recorded.ok()) {
        return FailureOf(undone, "restoring the recorded schema: " + recorded.message());
      }
      return std::nullopt;
    }
  }
  if (Status forgotten = ForgetRecordedSchema(db); !forgotten.ok()) {
    return FailureOf(undone, "removing the recorded schema: " + forgotten.message());
  }
  return std::nullopt;
}

std::vector<const Migration*> PendingOf(const MigrationSet& set,
                                        const std::vector<MigrationStatus>& statuses) {
  std::vector<const Migration*> pending;
  for (const auto& s : statuses) {
    if (s.state == MigrationState::kPending) {
      pending.push_back(set.Find(s.id));
    }
  }
  return pending;
}

}  // namespace internal

using internal::CheckHistory;
using internal::Column;
using internal::PendingOf;
using internal::SqliteError;
using internal::TableExists;

std::string_view StateName(MigrationState state) {
  switch (state) {
    case MigrationState::kApplied:
      return "applied";
    case MigrationState::kPending:
      return "pending";
    case MigrationState::kModified:
      return "modified";
    case MigrationState::kMissing:
      return "missing";
  }
  return "pending";
}

std::vector<MigrationStatus> CompareMigrations(const MigrationSet& set,
                                               const std::vector<AppliedMigration>& all_applied) {
  std::vector<AppliedMigration> applied;
  std::map<int64_t, const AppliedMigration*> by_drizzle_kit;  // created_at -> row
  for (const auto& row : all_applied) {
    if (row.format != kDrizzleKitFormat) {
      applied.push_back(row);
    }
  }
  for (const auto& row : all_applied) {
    if (row.format == kDrizzleKitFormat && set.format == MigrationFormat::kDrizzle) {
      by_drizzle_kit.emplace(row.applied_at_ms, &row);
    }
  }
  std::map<std::string_view, const AppliedMigration*> recorded;
  for (const auto& row : applied) {
    recorded.emplace(row.id, &row);
  }
  for (const auto& migration : set.migrations) {
    auto it = by_drizzle_kit.find(migration.when_ms);
    if (migration.when_ms != 0 && it != by_drizzle_kit.end()) {
      if (recorded.count(migration.id) == 0) {
        AppliedMigration row = *it->second;
        row.id = migration.id;
        applied.push_back(std::move(row));
      }
      by_drizzle_kit.erase(it);
    }
  }
  for (const auto& [created_at, row] : by_drizzle_kit) {
    applied.push_back(*row);  // recorded by drizzle-kit, not in the folder: missing
  }
  recorded.clear();
  for (const auto& row : applied) {
    recorded.emplace(row.id, &row);
  }
  std::vector<MigrationStatus> out;
  for (const auto& migration : set.migrations) {
    MigrationStatus status;
    status.id = migration.id;
    status.checksum = migration.checksum;
    auto it = recorded.find(migration.id);
    if (it == recorded.end()) {
      status.state = MigrationState::kPending;
    } else {
      status.applied_checksum = it->second->checksum;
      status.applied_at_ms = it->second->applied_at_ms;
      status.state = it->second->checksum == migration.checksum ? MigrationState::kApplied
                                                                : MigrationState::kModified;
    }
    out.push_back(std::move(status));
  }
  for (const auto& row : applied) {
    if (set.Find(row.id) == nullptr) {
      MigrationStatus status;
      status.id = row.id;
      status.state = MigrationState::kMissing;
      status.applied_checksum = row.checksum;
      status.applied_at_ms = row.applied_at_ms;
      out.push_back(std::move(status));
    }
  }
  return out;
}

Result<std::vector<AppliedMigration>> Migrator::Applied() {
  return ReadAppliedMigrations(conn_.handle());
}

namespace {

// Appends the rows of drizzle-kit's own tracking table, when there is one.
quarry::Status ReadDrizzleKitMigrations(sqlite3* db, std::vector<AppliedMigration>* rows) {
  if (!TableExists(db, kDrizzleKitMigrationsTable)) {
    return quarry::Status::Ok();
  }
  Result<storage::Statement> stmt = storage::Statement::Prepare(
      db,
      "SELECT hash, CAST(created_at AS INTEGER) FROM __drizzle_migrations "
      "ORDER BY rowid");  // drizzle-orm's id is SERIAL: NULL in SQLite
  if (!stmt.ok()) {
    return SqliteError(db, "reading __drizzle_migrations: ");
  }
  sqlite3_stmt* raw = stmt->get();
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    int64_t created_at = sqlite3_column_int64(raw, 1);
    rows->push_back({"drizzle-kit:" + std::to_string(created_at), Column(raw, 0), created_at,
                     kDrizzleKitFormat});
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(db, "reading __drizzle_migrations: ");
  }
  return quarry::Status::Ok();
}

}  // namespace

Result<std::vector<AppliedMigration>> ReadAppliedMigrations(sqlite3* db) {
  std::vector<AppliedMigration> rows;
  if (!TableExists(db, kMigrationsTable)) {
    QUARRY_RETURN_IF_ERROR(ReadDrizzleKitMigrations(db, &rows));
    return rows;
  }
  Result<storage::Statement> stmt = storage::Statement::Prepare(
      db, "SELECT id, checksum, applied_at, format FROM _quarry_migrations ORDER BY rowid");
  if (!stmt.ok()) {
    return SqliteError(db, "reading _quarry_migrations: ");
  }
  sqlite3_stmt* raw = stmt->get();
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    rows.push_back({Column(raw, 0), Column(raw, 1), sqlite3_column_int64(raw, 2), Column(raw, 3)});
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(db, "reading _quarry_migrations: ");
  }
  QUARRY_RETURN_IF_ERROR(ReadDrizzleKitMigrations(db, &rows));
  return rows;
}

Result<std::vector<MigrationStatus>> Migrator::Status(const MigrationSet& set) {
  QUARRY_ASSIGN_OR_RETURN(std::vector<AppliedMigration> applied, Applied());
  return CompareMigrations(set, applied);
}

Result<std::vector<PlannedMigration>> PlanMigrations(const MigrationSet& set,
                                                     const std::vector<AppliedMigration>& applied,
                                                     const ApplyOptions& options) {
  std::vector<MigrationStatus> statuses = CompareMigrations(set, applied);
  QUARRY_RETURN_IF_ERROR(CheckHistory(statuses, options));
  std::vector<PlannedMigration> plan;
  for (const Migration* migration : PendingOf(set, statuses)) {
    plan.push_back({migration->id, migration->source, migration->up});
  }
  return plan;
}

Result<std::vector<PlannedMigration>> Migrator::Plan(const MigrationSet& set,
                                                     const ApplyOptions& options) {
  QUARRY_ASSIGN_OR_RETURN(std::vector<AppliedMigration> applied, Applied());
  return PlanMigrations(set, applied, options);
}

Result<std::vector<const Migration*>> Migrator::Pending(const MigrationSet& set,
                                                        const ApplyOptions& options) {
  if (conn_.InTransaction()) {
    return quarry::Status(ErrorCode::kInvalidArgument, "cannot migrate inside an open transaction");
  }
  conn_.SetDeadline(std::chrono::steady_clock::time_point::max());
  QUARRY_ASSIGN_OR_RETURN(auto statuses, Status(set));
  QUARRY_RETURN_IF_ERROR(CheckHistory(statuses, options));
  return PendingOf(set, statuses);
}

}  // namespace quarry::schema
