#include "schema/migrator.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "schema/migration_sql.h"

namespace quarry::schema {

namespace {

using StmtPtr = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

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
  const char* next = sql.data();
  const char* end = sql.data() + sql.size();
  while (next < end) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db, next, static_cast<int>(end - next), &raw, &tail) != SQLITE_OK) {
      return SqliteError(db, "");
    }
    StmtPtr stmt(raw, &sqlite3_finalize);
    next = tail;
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
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1,
                         &raw, nullptr) != SQLITE_OK) {
    return false;
  }
  StmtPtr stmt(raw, &sqlite3_finalize);
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

// Switches foreign-key enforcement off for the guard's life (it is a no-op inside a
// transaction, so it must be done before BEGIN) and restores the previous setting.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(sqlite3* db) : db_(db) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA foreign_keys", -1, &raw, nullptr) == SQLITE_OK) {
      StmtPtr stmt(raw, &sqlite3_finalize);
      was_on_ = sqlite3_step(raw) == SQLITE_ROW && sqlite3_column_int(raw, 0) != 0;
    }
    if (was_on_) {
      RunSql(db_, "PRAGMA foreign_keys = OFF").PermitUncheckedError();
    }
  }
  ~ForeignKeysOff() {
    if (was_on_) {
      RunSql(db_, "PRAGMA foreign_keys = ON").PermitUncheckedError();
    }
  }
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
MigrationFailure FailureOf(const Migration& migration, std::string message) {
  return MigrationFailure{migration.id, migration.source, 0, "", std::move(message)};
}

// Runs one migration's statements inside the open transaction, then checks foreign keys.
// Returns the failure, or nullopt when all went well. `what` is "migration" or "down section".
std::optional<MigrationFailure> RunMigrationBody(sqlite3* db, const Migration& migration,
                                                 const std::vector<std::string>& statements) {
  for (size_t i = 0; i < statements.size(); ++i) {
    if (IsTransactionControl(statements[i])) {
      return MigrationFailure{migration.id, migration.source, static_cast<int>(i + 1),
                              statements[i],
                              "migrations must not contain " + FirstKeyword(statements[i]) +
                                  ": each migration already runs in its own transaction"};
    }
  }
  for (size_t i = 0; i < statements.size(); ++i) {
    Status status = RunSql(db, statements[i]);
    if (!status.ok()) {
      return MigrationFailure{migration.id, migration.source, static_cast<int>(i + 1),
                              statements[i], status.message()};
    }
    if (sqlite3_get_autocommit(db) != 0) {
      return MigrationFailure{migration.id, migration.source, static_cast<int>(i + 1),
                              statements[i], "the statement ended the migration's transaction"};
    }
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &raw, nullptr) != SQLITE_OK) {
    return FailureOf(migration, std::string("foreign key check: ") + sqlite3_errmsg(db));
  }
  StmtPtr stmt(raw, &sqlite3_finalize);
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
  sqlite3_stmt* raw = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO _quarry_migrations (id, checksum, applied_at, format) "
                     "VALUES (?, ?, ?, ?)",
                     -1, &raw, nullptr);
  StmtPtr insert(raw, &sqlite3_finalize);
  std::string format(FormatName(set.format));
  sqlite3_bind_text(raw, 1, migration.id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(raw, 2, migration.checksum.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(raw, 3, NowMs());
  sqlite3_bind_text(raw, 4, format.c_str(), -1, SQLITE_TRANSIENT);
  if (raw == nullptr || sqlite3_step(raw) != SQLITE_DONE) {
    return FailureOf(migration, std::string("recording it: ") + sqlite3_errmsg(db));
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

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS _quarry_migrations ("
    "id TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL, "
    "format TEXT NOT NULL)";

}  // namespace

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
                                               const std::vector<AppliedMigration>& applied) {
  std::map<std::string_view, const AppliedMigration*> recorded;
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

Result<std::vector<AppliedMigration>> ReadAppliedMigrations(sqlite3* db) {
  std::vector<AppliedMigration> rows;
  if (!TableExists(db, kMigrationsTable)) {
    return rows;
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT id, checksum, applied_at, format FROM _quarry_migrations "
                         "ORDER BY rowid",
                         -1, &raw, nullptr) != SQLITE_OK) {
    return SqliteError(db, "reading _quarry_migrations: ");
  }
  StmtPtr stmt(raw, &sqlite3_finalize);
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    rows.push_back({Column(raw, 0), Column(raw, 1), sqlite3_column_int64(raw, 2), Column(raw, 3)});
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(db, "reading _quarry_migrations: ");
  }
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

MigrationRun Migrator::Apply(const MigrationSet& set, const ApplyOptions& options) {
  MigrationRun run;
  sqlite3* db = conn_.handle();
  auto pending_or = Pending(set, options);
  if (!pending_or.ok()) {
    run.status = pending_or.status();
    return run;
  }
  const std::vector<const Migration*>& pending = *pending_or;
  ForeignKeysOff fk_off(db);
  for (const Migration* migration : pending) {
    WriteTransaction txn(db);
    if (quarry::Status begun = txn.Begin(); !begun.ok()) {
      return Failed(std::move(run), FailureOf(*migration, begun.message()), "",
                    begun.sqlite_code());
    }
    if (quarry::Status created = RunSql(db, kCreateTable); !created.ok()) {
      return Failed(std::move(run), FailureOf(*migration, created.message()), "",
                    created.sqlite_code());
    }
    {
      sqlite3_stmt* raw = nullptr;
      sqlite3_prepare_v2(db, "SELECT 1 FROM _quarry_migrations WHERE id = ?", -1, &raw, nullptr);
      StmtPtr stmt(raw, &sqlite3_finalize);
      sqlite3_bind_text(raw, 1, migration->id.c_str(), -1, SQLITE_TRANSIENT);
      if (raw != nullptr && sqlite3_step(raw) == SQLITE_ROW) {
        continue;  // applied by someone else meanwhile; the guard rolls back
      }
    }
    if (auto failure = RunMigrationBody(db, *migration, migration->up)) {
      int code = failure->statement > 0 ? sqlite3_extended_errcode(db) : 0;
      txn.Rollback();
      return Failed(std::move(run), std::move(*failure), "", code);
    }
    if (auto failure = RecordMigration(db, set, *migration)) {
      int code = sqlite3_extended_errcode(db);
      txn.Rollback();
      return Failed(std::move(run), std::move(*failure), "", code);
    }
    if (quarry::Status committed = txn.Commit(); !committed.ok()) {
      txn.Rollback();
      return Failed(std::move(run), FailureOf(*migration, "commit: " + committed.message()), "",
                    committed.sqlite_code());
    }
    run.done.push_back(migration->id);
  }
  return run;
}

MigrationRun Migrator::Try(const MigrationSet& set, const ApplyOptions& options) {
  MigrationRun run;
  sqlite3* db = conn_.handle();
  auto pending_or = Pending(set, options);
  if (!pending_or.ok()) {
    run.status = pending_or.status();
    return run;
  }
  const std::vector<const Migration*>& pending = *pending_or;
  if (pending.empty()) {
    return run;
  }
  ForeignKeysOff fk_off(db);
  WriteTransaction txn(db);
  if (quarry::Status begun = txn.Begin(); !begun.ok()) {
    run.status = begun;
    return run;
  }
  for (const Migration* migration : pending) {
    if (auto failure = RunMigrationBody(db, *migration, migration->up)) {
      int code = failure->statement > 0 ? sqlite3_extended_errcode(db) : 0;
      txn.Rollback();
      return Failed(std::move(run), std::move(*failure), "", code);
    }
    run.done.push_back(migration->id);
  }
  txn.Rollback();
  return run;
}

StagedMigrations::~StagedMigrations() {
  if (open_) {
    RunSql(db_, "ROLLBACK").PermitUncheckedError();
    open_ = false;
  }
  RestoreForeignKeys();
}

quarry::Status StagedMigrations::Commit() {
  if (!open_) {
    return quarry::Status(ErrorCode::kInvalidArgument, "the staged migrations were already ended");
  }
  quarry::Status committed = RunSql(db_, "COMMIT");
  if (committed.ok()) {
    open_ = false;
    RestoreForeignKeys();
  }
  return committed;
}

void StagedMigrations::RestoreForeignKeys() {
  if (foreign_keys_were_on_) {
    RunSql(db_, "PRAGMA foreign_keys = ON").PermitUncheckedError();
    foreign_keys_were_on_ = false;
  }
}

MigrationRun Migrator::Stage(const MigrationSet& set, const ApplyOptions& options,
                             std::unique_ptr<StagedMigrations>* staged) {
  MigrationRun run;
  staged->reset();
  sqlite3* db = conn_.handle();
  auto pending_or = Pending(set, options);
  if (!pending_or.ok()) {
    run.status = pending_or.status();
    return run;
  }
  const std::vector<const Migration*>& pending = *pending_or;
  if (pending.empty()) {
    return run;  // nothing to hold: no stage
  }
  // Foreign keys go off before BEGIN (the pragma is a no-op inside a transaction) and come
  // back when the stage ends.
  bool foreign_keys_were_on = false;
  {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA foreign_keys", -1, &raw, nullptr) == SQLITE_OK) {
      StmtPtr stmt(raw, &sqlite3_finalize);
      foreign_keys_were_on = sqlite3_step(raw) == SQLITE_ROW && sqlite3_column_int(raw, 0) != 0;
    }
  }
  if (foreign_keys_were_on) {
    RunSql(db, "PRAGMA foreign_keys = OFF").PermitUncheckedError();
  }
  auto stage =
      std::make_unique<StagedMigrations>(db, foreign_keys_were_on, std::vector<std::string>());
  if (quarry::Status begun = RunSql(db, "BEGIN IMMEDIATE"); !begun.ok()) {
    stage.reset();  // not open: only restores foreign keys
    return Failed(std::move(run), FailureOf(*pending.front(), begun.message()), "",
                  begun.sqlite_code());
  }
  if (quarry::Status created = RunSql(db, kCreateTable); !created.ok()) {
    return Failed(std::move(run), FailureOf(*pending.front(), created.message()), "",
                  created.sqlite_code());
  }
  for (const Migration* migration : pending) {
    if (auto failure = RunMigrationBody(db, *migration, migration->up)) {
      int code = failure->statement > 0 ? sqlite3_extended_errcode(db) : 0;
      return Failed(std::move(run), std::move(*failure), "", code);  // `stage` rolls back
    }
    if (auto failure = RecordMigration(db, set, *migration)) {
      return Failed(std::move(run), std::move(*failure), "", sqlite3_extended_errcode(db));
    }
    run.done.push_back(migration->id);
  }
  *staged = std::make_unique<StagedMigrations>(db, foreign_keys_were_on, run.done);
  // Hand the open transaction over to the returned stage without ending it here.
  stage->Release();
  return run;
}

MigrationRun Migrator::Down(const MigrationSet& set, int count, const ApplyOptions& options) {
  MigrationRun run;
  sqlite3* db = conn_.handle();
  if (conn_.InTransaction()) {
    run.status =
        quarry::Status(ErrorCode::kInvalidArgument, "cannot migrate inside an open transaction");
    return run;
  }
  conn_.SetDeadline(std::chrono::steady_clock::time_point::max());
  if (count < 1) {
    run.status = quarry::Status(ErrorCode::kInvalidArgument,
                                "down needs a count of at least 1, not " + std::to_string(count));
    return run;
  }
  if (set.format != MigrationFormat::kQuarry) {
    run.status = quarry::Status(
        ErrorCode::kInvalidArgument,
        "down runs the \"-- down\" sections of Quarry-format migrations; this folder is " +
            std::string(FormatName(set.format)) + " format, which has none");
    return run;
  }
  auto applied = Applied();
  if (!applied.ok()) {
    run.status = applied.status();
    return run;
  }
  // As apply does: any edited or removed applied migration, not only the ones being undone.
  if (quarry::Status history = CheckHistory(CompareMigrations(set, *applied), options);
      !history.ok()) {
    run.status = history;
    return run;
  }
  std::vector<const Migration*> targets;
  for (auto it = applied->rbegin();
       it != applied->rend() && static_cast<int>(targets.size()) < count; ++it) {
    const Migration* migration = set.Find(it->id);
    if (migration == nullptr) {
      run.status = quarry::Status(
          ErrorCode::kInvalidArgument,
          "cannot undo " + it->id + ": it is applied but not in the migrations folder");
      return run;
    }
    if (migration->checksum != it->checksum && !options.force) {
      run.status = quarry::Status(
          ErrorCode::kInvalidArgument,
          "refusing to undo " + it->id + " (" + migration->source +
              "): the file was modified after it was applied. Pass --force to go on anyway.");
      return run;
    }
    if (!migration->has_down) {
      run.status = quarry::Status(ErrorCode::kInvalidArgument,
                                  "cannot undo " + it->id + " (" + migration->source +
                                      "): it has no \"-- down\" section; nothing was undone");
      return run;
    }
    targets.push_back(migration);
  }
  ForeignKeysOff fk_off(db);
  for (const Migration* migration : targets) {
    WriteTransaction txn(db);
    if (quarry::Status begun = txn.Begin(); !begun.ok()) {
      return Failed(std::move(run), FailureOf(*migration, begun.message()), "down section",
                    begun.sqlite_code());
    }
    if (auto failure = RunMigrationBody(db, *migration, migration->down)) {
      int code = failure->statement > 0 ? sqlite3_extended_errcode(db) : 0;
      txn.Rollback();
      return Failed(std::move(run), std::move(*failure), "down section", code);
    }
    sqlite3_stmt* raw = nullptr;
    sqlite3_prepare_v2(db, "DELETE FROM _quarry_migrations WHERE id = ?", -1, &raw, nullptr);
    StmtPtr remove(raw, &sqlite3_finalize);
    sqlite3_bind_text(raw, 1, migration->id.c_str(), -1, SQLITE_TRANSIENT);
    if (raw == nullptr || sqlite3_step(raw) != SQLITE_DONE || sqlite3_changes(db) != 1) {
      auto failure =
          FailureOf(*migration, std::string("removing its tracking row: ") + sqlite3_errmsg(db));
      remove.reset();
      txn.Rollback();
      return Failed(std::move(run), std::move(failure), "down section", 0);
    }
    remove.reset();
    if (quarry::Status committed = txn.Commit(); !committed.ok()) {
      txn.Rollback();
      return Failed(std::move(run), FailureOf(*migration, "commit: " + committed.message()),
                    "down section", committed.sqlite_code());
    }
    run.done.push_back(migration->id);
  }
  return run;
}

}  // namespace quarry::schema
