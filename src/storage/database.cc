#include "storage/database.h"

#include <algorithm>
#include <condition_variable>
#include <optional>

#include "common/blocking.h"

namespace quarry::storage {

ConnectionLease& ConnectionLease::operator=(ConnectionLease&& other) noexcept {
  if (this != &other) {
    Release();
    db_ = std::move(other.db_);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

ConnectionLease::~ConnectionLease() { Release(); }

void ConnectionLease::Release() {
  if (conn_ != nullptr && db_ != nullptr) {
    db_->Return(std::move(conn_));
  }
  conn_.reset();
  db_.reset();
}

Database::Database(std::string name, std::filesystem::path path, ConnectionOptions options,
                   size_t max_idle_connections, size_t max_connections)
    : name_(std::move(name)),
      path_(std::move(path)),
      options_(options),
      max_idle_(max_idle_connections),
      max_connections_(max_connections),
      foreign_keys_(options.foreign_keys) {}

Result<ConnectionLease> Database::Acquire(AccessMode mode) {
  if (deleted()) {
    return Status(ErrorCode::kNamespaceNotFound, "namespace '" + name_ + "' was deleted");
  }
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (conn == nullptr) {
    if (open_connections_.fetch_add(1) >= max_connections_) {
      open_connections_.fetch_sub(1);
      return Status(ErrorCode::kUnavailable,
                    "namespace '" + name_ + "' has " + std::to_string(max_connections_) +
                        " open connections, its limit (--max-connections-per-namespace); close "
                        "streams and retry");
    }
    auto opened = Connection::Open(path_, options_, /*create=*/false);
    if (!opened.ok()) {
      open_connections_.fetch_sub(1);
      return opened.status();
    }
    conn = std::move(*opened);
    if (observer_ != nullptr) {
      conn->CaptureChanges(this);
    }
  }
  // Through the C API, not a PRAGMA: the client's authorizer on a pooled connection does not
  // apply, and the call is a no-op (no statement expiry) when the setting is unchanged.
  int enforced = 0;
  sqlite3_db_config(conn->handle(), SQLITE_DBCONFIG_ENABLE_FKEY, foreign_keys() ? 1 : 0, &enforced);
  ConnectionLease lease(shared_from_this(), std::move(conn));
  QUARRY_RETURN_IF_ERROR(lease->SetAccess(mode));
  return lease;
}

std::optional<Result<ConnectionLease>> Database::TryAcquireIdle(AccessMode mode) {
  if (deleted()) {
    return std::nullopt;
  }
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) {
      return std::nullopt;
    }
    conn = std::move(idle_.back());
    idle_.pop_back();
  }
  int enforced = 0;
  sqlite3_db_config(conn->handle(), SQLITE_DBCONFIG_ENABLE_FKEY, foreign_keys() ? 1 : 0, &enforced);
  ConnectionLease lease(shared_from_this(), std::move(conn));
  Status access = lease->SetAccess(mode);
  if (!access.ok()) {
    return Result<ConnectionLease>(access);
  }
  return Result<ConnectionLease>(std::move(lease));
}

void Database::Return(std::unique_ptr<Connection> conn) {
  conn->FlushCommits();
  bool reusable = !deleted() && (!conn->InTransaction() || conn->RollbackIfOpen().ok()) &&
                  // one client's pragma settings or temporary objects must not reach the next
                  !conn->session_changed();
  if (reusable) {
    conn->SetDeadline(std::chrono::steady_clock::time_point::max());
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) {
      idle_.push_back(std::move(conn));
      return;
    }
  }
  conn.reset();
  open_connections_.fetch_sub(1);
}

namespace {

bool HasDeferredForeignKeyViolation(Connection& conn) {
  int current = 0;
  int highwater = 0;
  sqlite3_db_status(conn.handle(), SQLITE_DBSTATUS_DEFERRED_FKS, &current, &highwater, 0);
  return current > 0;
}

}  // namespace

Status Database::RunGrouped(const GroupWork& work) {
  std::mutex mutex;
  std::condition_variable finished;
  std::optional<Status> result;
  SubmitGrouped(work, [&](Status status) {
    std::lock_guard lock(mutex);
    result = std::move(status);
    finished.notify_one();
  });
  std::unique_lock lock(mutex);
  if (!result) {
    // Durable groups wait for an fsync: let the pool run other requests meanwhile.
    std::optional<ScopedBlocking> waiting;
    if (options_.durability == Durability::kFull) {
      waiting.emplace();
    }
    finished.wait(lock, [&] { return result.has_value(); });
  }
  return *result;
}

namespace {
thread_local Database::GroupBatch* current_group_batch = nullptr;
}  // namespace

Database::GroupBatch::GroupBatch() : outer_(current_group_batch) { current_group_batch = this; }

Database::GroupBatch::~GroupBatch() {
  current_group_batch = outer_;
  for (const std::shared_ptr<Database>& db : databases_) {
    std::unique_lock lock(db->group_mutex_);
    db->LeadGroups(lock);
  }
}

void Database::SubmitGrouped(GroupWork work, GroupDone done) {
  std::unique_lock lock(group_mutex_);
  group_queue_.push_back(
      std::make_unique<GroupJob>(GroupJob{std::move(work), std::move(done), Status::Ok()}));
  if (group_leader_active_) {
    return;  // the leader picks it up in its next group
  }
  if (GroupBatch* batch = current_group_batch) {
    auto self = shared_from_this();
    if (std::find(batch->databases_.begin(), batch->databases_.end(), self) ==
        batch->databases_.end()) {
      batch->databases_.push_back(std::move(self));
    }
    return;  // led when the batch ends
  }
  LeadGroups(lock);
}

void Database::LeadGroups(std::unique_lock<std::mutex>& lock) {
  if (group_leader_active_) {
    return;
  }
  group_leader_active_ = true;
  while (!group_queue_.empty()) {
    std::vector<std::unique_ptr<GroupJob>> batch;
    batch.swap(group_queue_);
    lock.unlock();
    std::vector<GroupJob*> jobs;
    jobs.reserve(batch.size());
    for (auto& job : batch) {
      jobs.push_back(job.get());
    }
    try {
      RunGroup(jobs);
    } catch (const std::exception& e) {
      // A bug or an allocation failure: fail this group, never wedge the queue behind it. The
      // lease returned to the pool rolls back whatever the group had begun.
      for (GroupJob* job : jobs) {
        job->status = Status(ErrorCode::kInternal, std::string("group commit failed: ") + e.what());
      }
    }
    group_commits_.fetch_add(1);
    for (auto& job : batch) {
      try {
        job->done(std::move(job->status));
      } catch (const std::exception&) {
        // A completion must not stop the others from completing.
      }
    }
    lock.lock();
  }
  group_leader_active_ = false;
}

size_t Database::queued_for_test() {
  std::lock_guard lock(group_mutex_);
  return group_queue_.size();
}

bool Database::group_leader_busy_for_test() {
  std::lock_guard lock(group_mutex_);
  return group_leader_active_;
}

void Database::RunGroup(std::vector<GroupJob*> jobs) {
  auto fail_all = [&](const Status& status) {
    for (GroupJob* job : jobs) {
      job->status = status;
    }
  };
  // Every job of a group is a read-write client write; each applies its own mode too.
  auto lease = Acquire(AccessMode::kReadWrite);
  if (!lease.ok()) {
    fail_all(lease.status());
    return;
  }
  Connection& conn = **lease;
  while (!jobs.empty()) {
    Status begin = conn.Run("BEGIN IMMEDIATE");
    if (!begin.ok()) {
      fail_all(begin);
      return;
    }
    std::vector<GroupJob*> applied;
    bool restart = false;
    for (size_t i = 0; i < jobs.size() && !restart; ++i) {
      GroupJob* job = jobs[i];
      Status savepoint = conn.OpenWriteSavepoint();
      job->status = savepoint.ok() ? job->work(conn) : savepoint;
      if (!conn.InTransaction()) {
        // The write ended the whole transaction (e.g. a trigger's RAISE(ROLLBACK)): it fails
        // alone, and the writes applied before it are replayed with the rest in a new one.
        if (job->status.ok()) {
          job->status =
              Status(ErrorCode::kSqlite, "the statement ended the transaction", SQLITE_ABORT);
        }
        std::vector<GroupJob*> rest = applied;
        rest.insert(rest.end(), jobs.begin() + static_cast<long>(i) + 1, jobs.end());
        jobs = std::move(rest);
        restart = true;
      } else if (job->status.ok() && HasDeferredForeignKeyViolation(conn)) {
        // A deferred constraint would only fail at COMMIT, and take the whole group with it:
        // fail this write alone, now.
        job->status = Status(ErrorCode::kSqlite, "FOREIGN KEY constraint failed",
                             SQLITE_CONSTRAINT_FOREIGNKEY);
        conn.RollbackWriteSavepoint().PermitUncheckedError();
      } else if (job->status.ok()) {
        conn.ReleaseWriteSavepoint().PermitUncheckedError();
        applied.push_back(job);
      } else {
        conn.RollbackWriteSavepoint().PermitUncheckedError();
      }
    }
    if (restart) {
      continue;
    }
    Status commit = [&] {
      std::optional<ScopedBlocking> syncing;  // the fsync of a durable commit
      if (options_.durability == Durability::kFull) {
        syncing.emplace();
      }
      return conn.Run("COMMIT");
    }();
    if (!commit.ok()) {
      conn.RollbackIfOpen().PermitUncheckedError();
      for (GroupJob* job : applied) {
        job->status = commit;
      }
    }
    return;
  }
}

uint64_t Database::NextCommit() { return next_commit_.fetch_add(1); }

void Database::Deliver(uint64_t commit, CapturedChanges changes, bool schema_changed) {
  std::lock_guard lock(delivery_mutex_);
  if (commit != next_delivery_) {
    early_.emplace(commit, EarlyCommit{std::move(changes), schema_changed});
    return;
  }
  while (true) {
    if (schema_changed) {
      column_names_.clear();
    }
    if (!changes.empty()) {
      NameColumns(changes);
      CommittedChanges committed{name_, commit, std::move(changes)};
      observer_->OnCommit(committed);
    }
    ++next_delivery_;
    auto next = early_.find(next_delivery_);
    if (next == early_.end()) {
      return;
    }
    commit = next->first;
    changes = std::move(next->second.changes);
    schema_changed = next->second.schema_changed;
    early_.erase(next);
  }
}

void Database::NameColumns(CapturedChanges& changes) {
  // Only a commit that may have changed a table's shape empties the cache (Deliver, told by
  // the authorizer of the connection that committed), so most commits read nothing here. A
  // cached shape whose column count differs from a change's values (a schema changed behind
  // the authorizer's back, by another process) is read again.
  if (names_conn_ == nullptr) {
    auto opened = Connection::Open(path_, options_, /*create=*/false);
    if (!opened.ok()) {
      return;  // the changes stay unnamed; the next commit tries again
    }
    names_conn_ = std::move(*opened);
  }
  for (CapturedChanges::Change& change : changes) {
    auto found = column_names_.find(change.table);
    if (found != column_names_.end() && found->second->size() == change.values) {
      change.columns = found->second;
      continue;
    }
    auto names = std::make_shared<std::vector<std::string>>();
    auto columns = names_conn_->Prepare("SELECT name, hidden FROM pragma_table_xinfo(?1, 'main')");
    if (!columns.ok()) {
      return;
    }
    sqlite3_bind_text(columns->get(), 1, change.table.data(), static_cast<int>(change.table.size()),
                      SQLITE_TRANSIENT);
    // The pre-update hook's order is the record's: the stored columns in table order, then
    // the VIRTUAL generated ones (hidden 2), which are not stored and read as NULL.
    std::vector<std::string> virtual_columns;
    while (sqlite3_step(columns->get()) == SQLITE_ROW) {
      int hidden = sqlite3_column_int(columns->get(), 1);
      if (hidden == 1) {
        continue;  // a virtual table's hidden column (no pre-update hook there anyway)
      }
      const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(columns->get(), 0));
      (hidden == 2 ? virtual_columns : *names).emplace_back(name != nullptr ? name : "");
    }
    names->insert(names->end(), virtual_columns.begin(), virtual_columns.end());
    if (names->empty()) {
      continue;  // dropped since: its changes stay unnamed
    }
    column_names_.insert_or_assign(change.table, names);
    change.columns = std::move(names);
  }
}

void Database::CloseIdle() {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(idle_);
  }
  size_t closed = closing.size();
  closing.clear();
  open_connections_.fetch_sub(closed);
}

}  // namespace quarry::storage
