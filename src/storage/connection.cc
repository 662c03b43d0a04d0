#include "storage/connection.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>

#include "common/blocking.h"

namespace quarry::storage {
namespace {

// Waits for a lock held by another connection, as sqlite3_busy_timeout does (same back-off),
// but marked as blocking so the worker pool runs other requests meanwhile. Returns 0 to give
// up with SQLITE_BUSY once the connection's busy timeout has passed.
int BusyHandler(void* arg, int attempt) {
  static constexpr int kDelaysMs[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  constexpr int kSteps = sizeof(kDelaysMs) / sizeof(kDelaysMs[0]);
  int timeout_ms = *static_cast<int*>(arg);
  int delay = attempt < kSteps ? kDelaysMs[attempt] : kDelaysMs[kSteps - 1];
  int waited = 0;
  for (int i = 0; i < std::min(attempt, kSteps); ++i) {
    waited += kDelaysMs[i];
  }
  if (attempt >= kSteps) {
    waited += (attempt - kSteps) * kDelaysMs[kSteps - 1];
  }
  if (waited >= timeout_ms) {
    return 0;
  }
  ScopedBlocking waiting;
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(delay, timeout_ms - waited)));
  return 1;
}

// Called by SQLite every few hundred VM steps; non-zero interrupts the statement.
int ProgressHandler(void* arg) { return static_cast<Connection*>(arg)->DeadlineExceeded() ? 1 : 0; }

// Process-wide SQLite settings; they only take effect before SQLite initializes, so they are
// applied before the first connection opens.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // No bulk preallocation of 20 page-cache pages per connection (~90 KiB each): with a
    // thousand databases open that was a third of the server's memory. Pages are allocated as
    // a connection reads them.
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
    // Allocation statistics take a process-wide mutex on every malloc; Quarry does not use them.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}

}  // namespace

Connection::Connection(sqlite3* db, const ConnectionOptions& options)
    : db_(db), options_(options) {}

Connection::~Connection() {
  ClearCache();
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::filesystem::path& path,
                                                     const ConnectionOptions& options,
                                                     bool create) {
  ConfigureSqliteOnce();
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (create) {
    flags |= SQLITE_OPEN_CREATE;
  }
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status(ErrorCode::kSqlite, "cannot open " + path.string() + ": " + message, rc);
  }
  std::unique_ptr<Connection> conn(new Connection(db, options));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_handler(db, BusyHandler, &conn->options_.busy_timeout_ms);
  // Nothing a client sends may corrupt the file or reach outside it.
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  // trusted_schema stays ON (SQLite's default, and sqld's): with it off, SQLite 3.40 refuses
  // every function not marked innocuous in schema text, json_valid() and json_extract()
  // included, so neither a Json field's CHECK nor a client's generated column could be created.
  // The setting guards against schema text (views, triggers, CHECKs) calling a function with
  // side effects. Here every function is SQLite's own (Quarry registers none); the dangerous
  // ones, load_extension() and fts3_tokenizer(), are DIRECTONLY, so schema text cannot call
  // them whatever this setting says (and the authorizer refuses them in client SQL); DEFENSIVE
  // blocks writable_schema and shadow-table writes; and a namespace's schema is written only by
  // that namespace's own clients.
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 1, nullptr);
  // VACUUM attaches a private temporary database, so one attachment is allowed; clients
  // cannot ATTACH files (the authorizer refuses every ATTACH but that private one).
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 1);
  sqlite3_progress_handler(db, 1000, ProgressHandler, conn.get());

  std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;";
  pragmas += options.durability == Durability::kFull ? "PRAGMA synchronous=FULL;"
                                                     : "PRAGMA synchronous=NORMAL;";
  pragmas += "PRAGMA cache_size=-" + std::to_string(options.cache_size_kib) + ";";
  pragmas += "PRAGMA temp_store=MEMORY;";
  QUARRY_RETURN_IF_ERROR(conn->Exec(pragmas));
  return conn;
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    return Status(ErrorCode::kSqlite, message, sqlite3_extended_errcode(db_));
  }
  return Status::Ok();
}

Status Connection::Run(std::string_view sql) {
  QUARRY_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
  }
  return rc == SQLITE_DONE ? Status::Ok() : LastError();
}

Result<Statement> Connection::Prepare(std::string_view sql, std::string_view* tail) {
  auto cached = cache_index_.find(sql);
  if (cached != cache_index_.end()) {
    auto it = cached->second;
    sqlite3_stmt* stmt = it->second;
    std::string key = std::move(it->first);
    cache_index_.erase(cached);
    cache_.erase(it);
    if (tail != nullptr) {
      *tail = std::string_view();
    }
    return Statement(stmt, this, std::move(key), cache_generation_);
  }
  sqlite3_stmt* stmt = nullptr;
  const char* rest = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &rest);
  if (rc != SQLITE_OK) {
    return LastError();
  }
  size_t consumed = static_cast<size_t>(rest - sql.data());
  std::string_view remaining = sql.substr(consumed);
  if (tail != nullptr) {
    *tail = remaining;
  }
  bool whole = remaining.find_first_not_of(" \t\r\n;") == std::string_view::npos;
  if (stmt != nullptr && whole && options_.statement_cache_size > 0) {
    return Statement(stmt, this, std::string(sql), cache_generation_);
  }
  return Statement(stmt, nullptr, {}, 0);
}

void Connection::ReturnToCache(std::string key, sqlite3_stmt* stmt, uint64_t generation) {
  if (generation != cache_generation_ || cache_index_.count(key) != 0) {
    sqlite3_finalize(stmt);
    return;
  }
  cache_.emplace_front(std::move(key), stmt);
  cache_index_[cache_.front().first] = cache_.begin();
  while (cache_.size() > options_.statement_cache_size) {
    cache_index_.erase(cache_.back().first);
    sqlite3_finalize(cache_.back().second);
    cache_.pop_back();
  }
}

void Connection::ClearCache() {
  cache_index_.clear();
  for (auto& [key, stmt] : cache_) {
    sqlite3_finalize(stmt);
  }
  cache_.clear();
  ++cache_generation_;
}

void Connection::SetAccessTag(int tag) {
  if (tag != access_tag_) {
    ClearCache();
    access_tag_ = tag;
  }
}

Status Connection::LastError(std::string_view context) const {
  int code = sqlite3_extended_errcode(db_);
  std::string message = sqlite3_errmsg(db_);
  if ((code & 0xff) == SQLITE_INTERRUPT && DeadlineExceeded()) {
    return Status(ErrorCode::kQueryTimeout, "query interrupted: it ran past the time limit", code);
  }
  if (!context.empty()) {
    message = std::string(context) + ": " + message;
  }
  return Status(ErrorCode::kSqlite, message, code);
}

bool Connection::HoldsWriteLock() const {
  return sqlite3_txn_state(db_, "main") == SQLITE_TXN_WRITE;
}

Status Connection::RollbackIfOpen() {
  if (!InTransaction()) {
    return Status::Ok();
  }
  return Exec("ROLLBACK");
}

}  // namespace quarry::storage
