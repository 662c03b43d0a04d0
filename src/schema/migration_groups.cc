#include "schema/migration_groups.h"

#include <sqlite3.h>

#include <algorithm>
#include <set>

#include "storage/namespace_name.h"
#include "storage/statement.h"

namespace quarry::schema {

namespace {

Status NotFound(std::string_view name) {
  return Status(ErrorCode::kNotFound, "no schema group named '" + std::string(name) + "'");
}

Status SqliteError(sqlite3* db, std::string_view context) {
  return Status(ErrorCode::kSqlite, std::string(context) + sqlite3_errmsg(db),
                sqlite3_extended_errcode(db));
}

// Fills one member's statuses (and recorded rows) from its database.
void Describe(storage::Connection& conn, const MigrationSet* set, NamespaceMigrations& out) {
  Migrator migrator(conn);
  auto applied = migrator.Applied();
  if (!applied.ok()) {
    out.status = applied.status();
    return;
  }
  out.recorded = *applied;
  if (set != nullptr) {
    out.statuses = CompareMigrations(*set, *applied);
  }
}

Result<storage::ConnectionLease> Lease(storage::NamespaceStore& store, const std::string& ns,
                                       const ConnectionSetup& setup) {
  QUARRY_ASSIGN_OR_RETURN(std::shared_ptr<storage::Database> db, store.Get(ns));
  QUARRY_ASSIGN_OR_RETURN(storage::ConnectionLease lease,
                          db->Acquire(storage::AccessMode::kSystem));
  if (setup) {
    setup(*lease);
  }
  return lease;
}

}  // namespace

Result<std::unique_ptr<GroupStore>> GroupStore::Open(const std::filesystem::path& file) {
  QUARRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Connection> conn,
                          storage::Connection::Open(file, storage::ConnectionOptions{}, true));
  QUARRY_RETURN_IF_ERROR(conn->Exec(
      "CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS group_members ("
      "  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,"
      "  namespace TEXT NOT NULL, PRIMARY KEY (group_name, namespace));"));
  return std::unique_ptr<GroupStore>(new GroupStore(std::move(conn)));
}

Status GroupStore::Put(std::string_view name, const std::vector<std::string>& namespaces) {
  if (Status valid = storage::ValidateNamespaceName(name); !valid.ok()) {
    return Status(ErrorCode::kInvalidArgument, "group name: " + valid.message());
  }
  std::set<std::string> members;
  for (const auto& ns : namespaces) {
    QUARRY_RETURN_IF_ERROR(storage::ValidateNamespaceName(ns));
    members.insert(ns);
  }
  std::lock_guard lock(mutex_);
  sqlite3* db = conn_->handle();
  QUARRY_RETURN_IF_ERROR(conn_->Exec("BEGIN IMMEDIATE"));
  auto fail = [&](Status status) {
    conn_->Exec("ROLLBACK").PermitUncheckedError();
    return status;
  };
  auto run = [&](const char* sql, std::string_view a, std::string_view b) -> Status {
    Result<storage::Statement> stmt = storage::Statement::Prepare(db, sql);
    if (!stmt.ok()) {
      return SqliteError(db, "groups: ");
    }
    sqlite3_stmt* raw = stmt->get();
    sqlite3_bind_text(raw, 1, a.data(), static_cast<int>(a.size()), SQLITE_TRANSIENT);
    if (sqlite3_bind_parameter_count(raw) > 1) {
      sqlite3_bind_text(raw, 2, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
    }
    return sqlite3_step(raw) == SQLITE_DONE ? Status::Ok() : SqliteError(db, "groups: ");
  };
  std::string now = std::to_string(storage::NowMs());
  if (Status s = run("INSERT OR IGNORE INTO groups (name, created_at) VALUES (?, ?)", name, now);
      !s.ok()) {
    return fail(s);
  }
  if (Status s = run("DELETE FROM group_members WHERE group_name = ?", name, ""); !s.ok()) {
    return fail(s);
  }
  for (const auto& ns : members) {
    if (Status s = run("INSERT INTO group_members (group_name, namespace) VALUES (?, ?)", name, ns);
        !s.ok()) {
      return fail(s);
    }
  }
  if (Status s = conn_->Exec("COMMIT"); !s.ok()) {
    return fail(s);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> GroupStore::Members(std::string_view name) {
  std::lock_guard lock(mutex_);
  sqlite3* db = conn_->handle();
  Result<storage::Statement> stmt = storage::Statement::Prepare(
      db,
      "SELECT g.name, m.namespace FROM groups g LEFT JOIN group_members m "
      "ON m.group_name = g.name WHERE g.name = ? ORDER BY m.namespace");
  if (!stmt.ok()) {
    return SqliteError(db, "groups: ");
  }
  sqlite3_stmt* raw = stmt->get();
  sqlite3_bind_text(raw, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  bool found = false;
  std::vector<std::string> members;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    found = true;
    if (sqlite3_column_type(raw, 1) != SQLITE_NULL) {
      members.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(raw, 1)));
    }
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(db, "groups: ");
  }
  if (!found) {
    return NotFound(name);
  }
  return members;
}

std::vector<std::string> GroupStore::List() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  Result<storage::Statement> stmt =
      storage::Statement::Prepare(conn_->handle(), "SELECT name FROM groups ORDER BY name");
  if (!stmt.ok()) {
    return names;
  }
  sqlite3_stmt* raw = stmt->get();
  while (sqlite3_step(raw) == SQLITE_ROW) {
    names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(raw, 0)));
  }
  return names;
}

Status GroupStore::Delete(std::string_view name) {
  std::lock_guard lock(mutex_);
  sqlite3* db = conn_->handle();
  Result<storage::Statement> stmt =
      storage::Statement::Prepare(db, "DELETE FROM groups WHERE name = ?");
  if (!stmt.ok()) {
    return SqliteError(db, "groups: ");
  }
  sqlite3_stmt* raw = stmt->get();
  sqlite3_bind_text(raw, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(raw) != SQLITE_DONE) {
    return SqliteError(db, "groups: ");
  }
  return sqlite3_changes(db) == 0 ? NotFound(name) : Status::Ok();
}

GroupRun ApplyToGroup(storage::NamespaceStore& store, const std::vector<std::string>& members,
                      const MigrationSet& set, const ApplyOptions& options,
                      const ConnectionSetup& setup) {
  GroupRun run;
  auto fail_in = [&](std::string_view phase, const std::string& ns, const Status& status,
                     std::optional<MigrationFailure> failure) {
    run.phase = std::string(phase);
    run.failed_namespace = ns;
    run.failure = std::move(failure);
    std::string prefix =
        phase == "try" ? "nothing was applied to any member: " : "stopped while applying: ";
    run.status = Status(status.code(), prefix + "namespace '" + ns + "': " + status.message(),
                        status.sqlite_code());
  };
  // Every member's pending migrations are staged in a transaction that stays open, holding its
  // write lock, until all members have staged; only then is each committed. A failure anywhere
  // drops every stage: nothing is applied anywhere, and nothing can change a member between
  // checking and applying. Locks are taken in name order, so two group applies sharing members
  // cannot wait on each other in a cycle.
  struct Member {
    size_t index;
    storage::ConnectionLease lease;  // declared first: outlives `staged`
    std::unique_ptr<StagedMigrations> staged;
  };
  std::vector<size_t> order(members.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return members[a] < members[b]; });
  std::vector<Member> staged_members;
  staged_members.reserve(members.size());
  for (size_t i : order) {
    auto lease = Lease(store, members[i], setup);
    if (!lease.ok()) {
      fail_in("try", members[i], lease.status(), std::nullopt);
      break;
    }
    Member member{i, std::move(*lease), nullptr};
    MigrationRun staged = Migrator(*member.lease).Stage(set, options, &member.staged);
    if (!staged.status.ok()) {
      fail_in("try", members[i], staged.status, staged.failure);
      break;
    }
    staged_members.push_back(std::move(member));
  }
  std::vector<std::vector<std::string>> applied_now(members.size());
  if (run.status.ok()) {
    for (Member& member : staged_members) {
      if (member.staged == nullptr) {
        continue;  // nothing pending on this member
      }
      // Only an I/O failure can stop a commit here; members committed before it stay applied.
      if (Status committed = member.staged->Commit(); !committed.ok()) {
        fail_in("apply", members[member.index], committed, std::nullopt);
        break;
      }
      applied_now[member.index] = member.staged->done();
    }
  }
  staged_members.clear();  // drops (rolls back) whatever was not committed
  run.namespaces = GroupStatus(store, members, &set, setup);
  for (size_t i = 0; i < members.size(); ++i) {
    run.namespaces[i].applied_now = std::move(applied_now[i]);
  }
  return run;
}

std::vector<NamespaceMigrations> GroupStatus(storage::NamespaceStore& store,
                                             const std::vector<std::string>& members,
                                             const MigrationSet* set,
                                             const ConnectionSetup& setup) {
  std::vector<NamespaceMigrations> out;
  for (const auto& ns : members) {
    NamespaceMigrations item;
    item.ns = ns;
    auto lease = Lease(store, ns, setup);
    if (!lease.ok()) {
      item.status = lease.status();
    } else {
      Describe(**lease, set, item);
    }
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace quarry::schema
