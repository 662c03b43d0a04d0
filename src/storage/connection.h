#pragma once

// Connection: one open SQLite connection to a namespace's database file, with Quarry's
// production pragmas applied. Not thread-safe: one thread uses a connection at a time
// (a Hrana stream owns it for its life, or a single request borrows it from the pool).

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
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

  // Runs one or more statements that return no rows we care about.
  Status Exec(std::string_view sql);
  // Runs one statement through the statement cache, discarding rows (for hot, fixed SQL).
  Status Run(std::string_view sql);

  // Prepares the first statement of `sql`; `tail` receives the unparsed rest. Statements that
  // span all of `sql` are served from a small per-connection cache.
  Result<Statement> Prepare(std::string_view sql, std::string_view* tail = nullptr);

  // A Status for the connection's last error, with its extended SQLite code.
  Status LastError(std::string_view context = {}) const;

  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  bool HoldsWriteLock() const;
  // Rolls back any open transaction; OK when none is open.
  Status RollbackIfOpen();

  // Set by the authorizer (see auth::InstallAuthorizer) when a client statement changed the
  // connection's own state: a pragma setting, a temporary object. Such a connection is closed
  // instead of being reused by another client.
  bool* session_changed_flag() { return &session_changed_; }
  bool session_changed() const { return session_changed_; }

  // Statements started after this point are interrupted (SQLITE_INTERRUPT) once the deadline
  // passes. Pass time_point::max() to clear.
  void SetDeadline(std::chrono::steady_clock::time_point deadline) { deadline_ = deadline; }
  bool DeadlineExceeded() const { return std::chrono::steady_clock::now() >= deadline_; }

  // Tags the access rules installed on this connection (e.g. an authorizer). Changing the tag
  // drops cached statements, because SQLite checks authorization only when preparing.
  void SetAccessTag(int tag);
  int access_tag() const { return access_tag_; }

 private:
  friend class Statement;
  Connection(sqlite3* db, const ConnectionOptions& options);
  void ReturnToCache(std::string key, sqlite3_stmt* stmt, uint64_t generation);
  void ClearCache();

  sqlite3* db_;
  ConnectionOptions options_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  int access_tag_ = -1;
  bool session_changed_ = false;
  uint64_t cache_generation_ = 0;
  // LRU of idle prepared statements keyed by SQL text.
  std::list<std::pair<std::string, sqlite3_stmt*>> cache_;
  std::unordered_map<std::string_view, decltype(cache_)::iterator> cache_index_;
};

}  // namespace quarry::storage
