#include "schema/migrator.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "schema/migrator_internal.h"
#include "storage/statement.h"

namespace quarry::schema {

using internal::CheckHistory;
using internal::Failed;
using internal::FailureOf;
using internal::ForeignKeysOff;
using internal::kCreateTable;
using internal::PendingOf;
using internal::RecordMigration;
using internal::RunMigrationBody;
using internal::RunSql;
using internal::WriteTransaction;

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
      Result<storage::Statement> stmt =
          storage::Statement::Prepare(db, "SELECT 1 FROM _quarry_migrations WHERE id = ?");
      sqlite3_stmt* raw = stmt.ok() ? stmt->get() : nullptr;
      sqlite3_bind_text(raw, 1, migration->id.c_str(), -1, SQLITE_TRANSIENT);
      if (raw != nullptr && sqlite3_step(raw) == SQLITE_ROW) {
        continue;  // applied by someone else meanwhile; the guard rolls back
      }
    }
    if (auto failure = RunMigrationBody(conn_, *migration, migration->up)) {
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
    if (auto failure = RunMigrationBody(conn_, *migration, migration->up)) {
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
  bool foreign_keys_were_on = internal::ForeignKeysEnabled(db);
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
    if (auto failure = RunMigrationBody(conn_, *migration, migration->up)) {
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
    if (it->format == kDrizzleKitFormat) {
      continue;  // drizzle-kit's history: not Quarry's to undo
    }
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
    if (auto failure = RunMigrationBody(conn_, *migration, migration->down)) {
      int code = failure->statement > 0 ? sqlite3_extended_errcode(db) : 0;
      txn.Rollback();
      return Failed(std::move(run), std::move(*failure), "down section", code);
    }
    storage::Statement remove;
    if (auto prepared =
            storage::Statement::Prepare(db, "DELETE FROM _quarry_migrations WHERE id = ?");
        prepared.ok()) {
      remove = std::move(*prepared);
    }
    sqlite3_stmt* raw = remove.get();
    sqlite3_bind_text(raw, 1, migration->id.c_str(), -1, SQLITE_TRANSIENT);
    if (raw == nullptr || sqlite3_step(raw) != SQLITE_DONE || sqlite3_changes(db) != 1) {
      auto failure =
          FailureOf(*migration, std::string("removing its tracking row: ") + sqlite3_errmsg(db));
      remove = storage::Statement();
      txn.Rollback();
      return Failed(std::move(run), std::move(failure), "down section", 0);
    }
    remove = storage::Statement();  // finalized before COMMIT
    if (auto failure = internal::RestoreRecordedSchema(db, set, *migration)) {
      int code = sqlite3_extended_errcode(db);
      txn.Rollback();
      return Failed(std::move(run), std::move(*failure), "down section", code);
    }
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
