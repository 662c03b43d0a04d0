#pragma once

// Database: one namespace's SQLite file and its pool of idle connections. Thread-safe.
//
// SQLite allows one writer at a time; in WAL mode readers never block it. Every connection
// here can read or write: the write lock is arbitrated by SQLite itself, and a writer that
// finds it taken waits (busy timeout) instead of failing.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "storage/connection.h"

namespace quarry::storage {

class Database;

// A connection borrowed from a Database. Returned to the pool on destruction when it is
// healthy (no open transaction, database not deleted); closed otherwise.
class ConnectionLease {
 public:
  ConnectionLease() = default;
  ConnectionLease(std::shared_ptr<Database> db, std::unique_ptr<Connection> conn)
      : db_(std::move(db)), conn_(std::move(conn)) {}
  ConnectionLease(ConnectionLease&&) noexcept = default;
  ConnectionLease& operator=(ConnectionLease&& other) noexcept;
  ~ConnectionLease();

  Connection* operator->() const { return conn_.get(); }
  Connection& operator*() const { return *conn_; }
  Connection* get() const { return conn_.get(); }
  Database& database() const { return *db_; }
  explicit operator bool() const { return conn_ != nullptr; }

 private:
  void Release();

  std::shared_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;
};

class Database : public std::enable_shared_from_this<Database>, private CommitSink {
 public:
  // At most `max_connections` connections are open at once (in use and idle); Acquire fails
  // with kUnavailable past it.
  Database(std::string name, std::filesystem::path path, ConnectionOptions options,
           size_t max_idle_connections, size_t max_connections = 256);

  const std::string& name() const { return name_; }
  const std::filesystem::path& path() const { return path_; }

  // Borrows an idle connection (or opens a new one) for one use with `mode`, applied before the
  // connection is returned, with the namespace's current foreign-key setting applied. Fails when
  // the namespace was deleted.
  Result<ConnectionLease> Acquire(AccessMode mode);
  // The same, but only from the idle connections: nullopt when none is idle (opening one does
  // file I/O; a caller that must not block, such as a network thread, goes elsewhere then).
  std::optional<Result<ConnectionLease>> TryAcquireIdle(AccessMode mode);

  // Where committed changes of this database go (see change_observer.h); null for none. Set
  // before the first Acquire; must outlive the Database.
  void SetChangeObserver(ChangeObserver* observer) { observer_ = observer; }

  // The namespace's foreign-key enforcement; a change reaches every connection acquired after
  // it (connections in use keep theirs until returned).
  bool foreign_keys() const { return foreign_keys_.load(); }
  void SetForeignKeys(bool on) { foreign_keys_.store(on); }

  // Closes every idle connection (leases in use close when returned).
  void CloseIdle();

  // Marks the namespace deleted: leases in use see it through deleted(), no new ones are given.
  void MarkDeleted() { deleted_.store(true); }
  bool deleted() const { return deleted_.load(); }

  // Runs `work` as one write of the next group commit: concurrent callers' writes are merged
  // into one transaction (one fsync when durable), each inside its own savepoint, so each
  // keeps its own result and failure. Blocks until the group has committed; returns the work's
  // status, or the group's failure to begin or commit. `work` may run more than once (when
  // another write in the group ends the whole transaction, the others are replayed in a new
  // one), on another thread's connection; it must not BEGIN, COMMIT or ROLLBACK.
  using GroupWork = std::function<Status(Connection&)>;
  Status RunGrouped(const GroupWork& work);

  // The asynchronous form: queues `work` for the next group and returns at once; `done` gets
  // the same status RunGrouped would return, called on the thread that led the group, after it
  // committed. If no group is being led, the calling thread leads: it runs groups until the
  // queue is empty. `work` runs on the leading thread too.
  using GroupDone = std::function<void(Status)>;
  void SubmitGrouped(GroupWork work, GroupDone done);

  // While one is alive on a thread, SubmitGrouped there only queues the work; when it ends,
  // the thread leads the queued groups (of every database it queued on) at once. Submitting a
  // batch of writes inside one makes them one group, where submitting them one by one on one
  // CPU would commit each alone.
  class GroupBatch {
   public:
    GroupBatch();
    ~GroupBatch();
    GroupBatch(const GroupBatch&) = delete;
    GroupBatch& operator=(const GroupBatch&) = delete;

   private:
    friend class Database;
    std::vector<std::shared_ptr<Database>> databases_;
    GroupBatch* outer_;
  };

  size_t open_connections() const { return open_connections_.load(); }
  // How many group transactions have run (for tests and metrics).
  uint64_t group_commits() const { return group_commits_.load(); }
  // Test hooks: writes waiting for the next group, and whether a group is being led.
  size_t queued_for_test();
  bool group_leader_busy_for_test();

  int64_t last_used_ms() const { return last_used_ms_.load(); }
  void Touch(int64_t now_ms) { last_used_ms_.store(now_ms); }

 private:
  friend class ConnectionLease;
  void Return(std::unique_ptr<Connection> conn);
  struct GroupJob {
    GroupWork work;
    GroupDone done;
    Status status;
  };
  void RunGroup(std::vector<GroupJob*> jobs);
  uint64_t NextCommit() override;
  void Deliver(uint64_t commit, CapturedChanges changes, bool schema_changed) override;

  const std::string name_;
  const std::filesystem::path path_;
  const ConnectionOptions options_;
  const size_t max_idle_;
  const size_t max_connections_;
  std::atomic<size_t> open_connections_{0};
  std::atomic<bool> deleted_{false};
  std::atomic<bool> foreign_keys_;
  std::atomic<int64_t> last_used_ms_{0};
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;  // GUARDED_BY(mutex_)

  std::mutex group_mutex_;
  std::vector<std::unique_ptr<GroupJob>> group_queue_;  // GUARDED_BY(group_mutex_)
  bool group_leader_active_ = false;                    // GUARDED_BY(group_mutex_)
  // Runs groups until the queue is empty, unless another thread leads already.
  void LeadGroups(std::unique_lock<std::mutex>& lock);
  std::atomic<uint64_t> group_commits_{0};

  ChangeObserver* observer_ = nullptr;
  std::atomic<uint64_t> next_commit_{1};
  std::mutex delivery_mutex_;
  uint64_t next_delivery_ = 1;  // GUARDED_BY(delivery_mutex_)
  // Commits finished out of order, waiting for an earlier number; GUARDED_BY(delivery_mutex_)
  struct EarlyCommit {
    CapturedChanges changes;
    bool schema_changed = false;
  };
  std::map<uint64_t, EarlyCommit> early_;
  // Sets the changes' column names (change_observer.h), from column_names_, which a commit that
  // may have changed the schema empties. GUARDED_BY(delivery_mutex_), as are:
  void NameColumns(CapturedChanges& changes);
  std::unique_ptr<Connection> names_conn_;  // a connection of its own for the table shapes
  std::unordered_map<std::string, std::shared_ptr<const std::vector<std::string>>> column_names_;
};

}  // namespace quarry::storage
