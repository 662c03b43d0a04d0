#pragma once

// Connection: one open SQLite connection to a namespace's database file, with Quarry's
// production pragmas applied. Not thread-safe: one thread uses a connection at a time
// (a Hrana stream owns it for its life, or a single request borrows it from the pool).

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/access_mode.h"
#include "storage/change_observer.h"
#include "storage/statement.h"

namespace quarry::storage {

// How durable an acknowledged write is.
enum class Durability {
  kNormal,  // WAL + synchronous=NORMAL: durable at checkpoint; survives a process crash
  kFull,    // WAL + synchronous=FULL: every commit fsynced before it is acknowledged
};

struct ConnectionOptions {
  // How long a writer waits for the write lock before SQLITE_BUSY. Longer than the server's
  // transaction timeout, so a waiter outlasts a stalled holder that the server rolls back.
  int busy_timeout_ms = 15000;
  int cache_size_kib = 2048;
  Durability durability = Durability::kNormal;
  size_t statement_cache_size = 32;
  // Whether SQLite enforces foreign keys (PRAGMA foreign_keys) on the connection. For a
  // namespace it is the namespace's setting (see NamespaceStore), applied on every Acquire.
  bool foreign_keys = true;
  // The longest string or blob (and row) a statement may make or read (SQLITE_LIMIT_LENGTH):
  // bounds the memory one statement can take. Past it, SQLITE_TOOBIG.
  int max_value_bytes = 32 << 20;
  // The longest SQL text one statement may have (SQLITE_LIMIT_SQL_LENGTH).
  int max_sql_bytes = 16 << 20;
  // Statements slower than this are logged (warn) with their SQL; 0 turns that off.
  int slow_query_ms = 0;
  // Installs the client rules of AccessMode::kReadWrite and kReadOnly (see access_mode.h). When
  // null, client modes get no authorizer; kReadOnly still sets PRAGMA query_only.
  AccessRules access_rules = nullptr;
};

// Where a connection hands the changes of the transactions it commits (see change_observer.h).
// Implemented by Database, which orders them across its connections.
class CommitSink {
 public:
  virtual ~CommitSink() = default;
  // A number for the transaction now committing. Called while the connection holds the write
  // lock, so numbers follow commit order.
  virtual uint64_t NextCommit() = 0;
  // The changes of commit `commit` (empty when nothing changed or the commit failed). Every
  // number NextCommit gave is delivered exactly once. `schema_changed`: the transaction may have
  // altered or dropped tables (AuthorizerNotes), so tables' column names read earlier may be
  // stale from this commit on.
  virtual void Deliver(uint64_t commit, CapturedChanges changes, bool schema_changed) = 0;
};

class Connection {
 public:
  // Opens (creating when `create`) the database at `path` and applies the pragmas.
  static Result<std::unique_ptr<Connection>> Open(const std::filesystem::path& path,
                                                  const ConnectionOptions& options, bool create);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* handle() const { return db_; }
  const ConnectionOptions& options() const { return options_; }

  // Runs one or more statements that return no rows we care about.
  Status Exec(std::string_view sql);
  // Runs one statement through the statement cache, discarding rows (for hot, fixed SQL).
  Status Run(std::string_view sql);

  // Group commit's savepoint around one write (kWriteSavepoint): opened, then released or
  // rolled back to and released. Change capture records it as it is made instead of reading
  // the SQL back (what Step does for a client's SAVEPOINT), which every grouped write pays.
  static constexpr std::string_view kWriteSavepoint = "quarry_group";  // short: no allocation
  Status OpenWriteSavepoint();
  Status ReleaseWriteSavepoint();
  Status RollbackWriteSavepoint();

  // Prepares the first statement of `sql`; `tail` receives the unparsed rest (an empty view at
  // the end of `sql` when nothing follows). Statements that span all of `sql` are served from a
  // small per-connection cache. SQL text holding a NUL character is refused (kInvalidArgument):
  // SQLite would silently ignore everything after it.
  Result<Statement> Prepare(std::string_view sql, std::string_view* tail = nullptr);

  // Steps a statement prepared on this connection, as sqlite3_step. Every statement Quarry runs
  // on a namespace goes through here (directly or through Exec, Run and execute.h), which is
  // what lets change capture see statements and savepoints roll back.
  int Step(sqlite3_stmt* stmt);

  // Applies `mode` for the next statements (see access_mode.h). Changing the mode drops cached
  // statements, because SQLite checks authorization only when preparing. Fails when the rules
  // could not be installed; the connection then denies everything until a later call succeeds.
  Status SetAccess(AccessMode mode);
  AccessMode access() const { return access_; }

  // Starts capturing row changes for `sink`, which must outlive the connection.
  void CaptureChanges(CommitSink* sink);
  // Hands over any commit not yet delivered (a commit made by a statement stepped outside
  // Step). Called when the connection goes back to its pool.
  void FlushCommits();

  // A Status for the connection's last error, with its extended SQLite code.
  Status LastError(std::string_view context = {}) const;

  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  bool HoldsWriteLock() const;
  // Rolls back any open transaction; OK when none is open.
  Status RollbackIfOpen();

  // Set by the authorizer (see auth::InstallAuthorizer) when a client statement changed the
  // connection's own state: a pragma setting, a temporary object. Such a connection is closed
  // instead of being reused by another client.
  bool session_changed() const { return notes_.session_changed; }

  // Statements started after this point are interrupted (SQLITE_INTERRUPT) once the deadline
  // passes. Pass time_point::max() to clear.
  void SetDeadline(std::chrono::steady_clock::time_point deadline) { deadline_ = deadline; }
  bool DeadlineExceeded() const { return std::chrono::steady_clock::now() >= deadline_; }

 private:
  friend class Statement;
  Connection(sqlite3* db, const ConnectionOptions& options);
  struct CachedStatement {
    std::string sql;
    sqlite3_stmt* stmt;
    bool in_use;  // handed out as a Statement, not reset yet
  };
  // From a Statement of generation `generation` whose cache entry is `entry`.
  void ReturnToCache(void* entry, sqlite3_stmt* stmt, uint64_t generation);
  void ClearCache();
  static void OnPreUpdate(void* self, sqlite3* db, int op, const char* db_name, const char* table,
                          sqlite3_int64 old_rowid, sqlite3_int64 new_rowid);
  static int OnCommit(void* self);
  static void OnRollback(void* self);
  // After a statement stepped through Step finished with `rc`: drops its changes when it
  // failed, follows SAVEPOINT / RELEASE / ROLLBACK TO, and delivers a finished commit.
  void AfterStatement(sqlite3_stmt* stmt, int rc);
  void NoteSavepointStatement(std::string_view sql);
  // Savepoint bookkeeping of change capture: `name` began now; released (with every savepoint
  // opened after it); rolled back to (its changes and those of savepoints after it dropped).
  void NoteSavepoint(std::string_view name);
  void NoteRelease(std::string_view name);
  void NoteRollbackTo(std::string_view name);
  // Runs `sql` (a savepoint statement Quarry made) without NoteSavepointStatement reading it.
  Status RunUnnoted(std::string_view sql);

  sqlite3* db_;
  ConnectionOptions options_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool access_applied_ = false;
  AccessMode access_ = AccessMode::kSystem;
  AuthorizerNotes notes_;  // filled by the authorizer (access_mode.h)
  uint64_t cache_generation_ = 0;
  // LRU of prepared statements keyed by SQL text, most recent first. An entry stays in place
  // while its statement is in use, so a hit costs no allocation.
  std::list<CachedStatement> cache_;
  std::unordered_map<std::string_view, decltype(cache_)::iterator> cache_index_;

  // Change capture; all unused while sink_ is null.
  CommitSink* sink_ = nullptr;
  CapturedChanges pending_;    // changes of the open transaction, in order
  bool text_is_utf8_ = false;  // the database's encoding, read when capture begins
  // Open savepoints (names upper-cased) and the size of pending_ when each began.
  std::vector<std::pair<std::string, size_t>> savepoints_;
  size_t statement_mark_ = 0;  // size of pending_ when the statement in Step began
  bool in_step_ = false;
  bool note_savepoints_ = true;  // false while RunUnnoted runs
  // A commit the commit hook numbered and the changes it carries, until it is known to have
  // succeeded (delivered) or failed (delivered empty).
  std::optional<uint64_t> committing_;
  CapturedChanges committing_changes_;
  bool committing_in_step_ = false;
  bool committing_schema_changed_ = false;
};

}  // namespace quarry::storage
