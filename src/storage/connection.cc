#include "storage/connection.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "common/base64.h"
#include "common/blocking.h"
#include "common/sql_tokenizer.h"

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

// quarry_base64(blob): the blob in standard, padded base64 (the data API's {"$base64": ...}).
void Base64Function(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const void* data = sqlite3_value_blob(argv[0]);
  int size = sqlite3_value_bytes(argv[0]);
  std::string encoded =
      Base64Encode(std::string_view(static_cast<const char*>(data), data == nullptr ? 0 : size));
  sqlite3_result_text(ctx, encoded.data(), static_cast<int>(encoded.size()), SQLITE_TRANSIENT);
}

// quarry_json(x): the JSON text of a SQL value as the data API writes computed values: NULL
// null, integers numbers while |n| < 2^53 and decimal strings beyond, reals as json_quote writes
// them, text a JSON string, blobs {"$base64": "..."}.
void JsonFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3_value* v = argv[0];
  std::string out;
  switch (sqlite3_value_type(v)) {
    case SQLITE_NULL:
      out = "null";
      break;
    case SQLITE_INTEGER: {
      sqlite3_int64 n = sqlite3_value_int64(v);
      out = std::to_string(n);
      if (n > 9007199254740991LL || n < -9007199254740991LL) {
        out = "\"" + out + "\"";
      }
      break;
    }
    case SQLITE_FLOAT: {
      char* text = sqlite3_mprintf("%!.15g", sqlite3_value_double(v));
      out = text != nullptr ? text : "null";
      sqlite3_free(text);
      break;
    }
    case SQLITE_TEXT: {
      const unsigned char* text = sqlite3_value_text(v);
      int size = sqlite3_value_bytes(v);
      out = "\"";
      for (int i = 0; i < size; ++i) {
        unsigned char c = text[i];
        if (c == '"' || c == '\\') {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
      }
      out += "\"";
      break;
    }
    default: {
      const void* data = sqlite3_value_blob(v);
      int size = sqlite3_value_bytes(v);
      out = "{\"$base64\":\"" +
            Base64Encode(
                std::string_view(static_cast<const char*>(data), data == nullptr ? 0 : size)) +
            "\"}";
      break;
    }
  }
  sqlite3_result_text(ctx, out.data(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

}  // namespace

Connection::Connection(sqlite3* db, const ConnectionOptions& options)
    : db_(db), options_(options) {}

Connection::~Connection() {
  if (sink_ != nullptr) {
    FlushCommits();
  }
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
  // Per-statement memory: no value (and so no concatenation, zeroblob or CAST) larger than this.
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, options.max_value_bytes);
  sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, options.max_sql_bytes);
  sqlite3_progress_handler(db, 1000, ProgressHandler, conn.get());
  sqlite3_create_function_v2(db, "quarry_base64", 1,
                             SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                             Base64Function, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "quarry_json", 1,
                             SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                             JsonFunction, nullptr, nullptr, nullptr);

  std::string pragmas = "PRAGMA journal_mode=WAL;";
  pragmas += options.foreign_keys ? "PRAGMA foreign_keys=ON;" : "PRAGMA foreign_keys=OFF;";
  pragmas += options.durability == Durability::kFull ? "PRAGMA synchronous=FULL;"
                                                     : "PRAGMA synchronous=NORMAL;";
  pragmas += "PRAGMA cache_size=-" + std::to_string(options.cache_size_kib) + ";";
  // Sorts, indexes built for a query and large temporary results spill to temporary files
  // (PRAGMA temp_store=FILE) rather than growing the heap: a big ORDER BY costs disk, not RAM.
  pragmas += "PRAGMA temp_store=FILE;";
  QUARRY_RETURN_IF_ERROR(conn->Exec(pragmas));
  return conn;
}

Status Connection::Exec(std::string_view sql) {
  std::string_view rest = sql;
  while (true) {
    std::string_view tail;
    QUARRY_ASSIGN_OR_RETURN(Statement stmt, Prepare(rest, &tail));
    if (!stmt) {
      return Status::Ok();
    }
    int rc;
    while ((rc = Step(stmt.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      return LastError();
    }
    rest = tail;
  }
}

Status Connection::Run(std::string_view sql) {
  QUARRY_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  int rc;
  while ((rc = Step(stmt.get())) == SQLITE_ROW) {
  }
  return rc == SQLITE_DONE ? Status::Ok() : LastError();
}

Status Connection::RunUnnoted(std::string_view sql) {
  struct Unnoted {
    bool& flag;
    explicit Unnoted(bool& f) : flag(f) { flag = false; }
    ~Unnoted() { flag = true; }  // also when Run throws
  } unnoted(note_savepoints_);
  return Run(sql);
}

namespace {

// The statements of the write savepoint, spelled from its one name.
struct WriteSavepointSql {
  std::string open, release, rollback;
};
const WriteSavepointSql& WriteSavepoint() {
  static const WriteSavepointSql sql{"SAVEPOINT " + std::string(Connection::kWriteSavepoint),
                                     "RELEASE " + std::string(Connection::kWriteSavepoint),
                                     "ROLLBACK TO " + std::string(Connection::kWriteSavepoint)};
  return sql;
}

}  // namespace

Status Connection::OpenWriteSavepoint() {
  QUARRY_RETURN_IF_ERROR(RunUnnoted(WriteSavepoint().open));
  if (sink_ != nullptr) {
    NoteSavepoint(kWriteSavepoint);
  }
  return Status::Ok();
}

Status Connection::ReleaseWriteSavepoint() {
  QUARRY_RETURN_IF_ERROR(RunUnnoted(WriteSavepoint().release));
  if (sink_ != nullptr) {
    NoteRelease(kWriteSavepoint);
  }
  return Status::Ok();
}

Status Connection::RollbackWriteSavepoint() {
  Status rolled_back = RunUnnoted(WriteSavepoint().rollback);
  if (rolled_back.ok() && sink_ != nullptr) {
    NoteRollbackTo(kWriteSavepoint);
  }
  Status released = ReleaseWriteSavepoint();
  return rolled_back.ok() ? released : rolled_back;
}

Result<Statement> Connection::Prepare(std::string_view sql, std::string_view* tail) {
  if (size_t nul = sql.find('\0'); nul != std::string_view::npos) {
    return Status(ErrorCode::kInvalidArgument, "SQL text holds a NUL character (at byte " +
                                                   std::to_string(nul) +
                                                   "); SQLite would ignore everything after it");
  }
  auto cached = cache_index_.find(sql);
  if (cached != cache_index_.end() && !cached->second->in_use) {
    auto it = cached->second;
    cache_.splice(cache_.begin(), cache_, it);
    it->in_use = true;
    if (tail != nullptr) {
      *tail = sql.substr(sql.size());  // cached statements span all of `sql`
    }
    return Statement(it->stmt, this, &*it, cache_generation_);
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
  // A text whose statement is in use (cached != end) gets a second, uncached statement.
  if (stmt == nullptr || !whole || options_.statement_cache_size == 0 ||
      cached != cache_index_.end()) {
    return Statement(stmt, nullptr, nullptr, 0);
  }
  cache_.push_front(CachedStatement{std::string(sql), stmt, true});
  cache_index_[cache_.front().sql] = cache_.begin();
  // Evict the least recently used idle statements past the cache's size.
  for (auto it = std::prev(cache_.end());
       cache_.size() > options_.statement_cache_size && it != cache_.begin();) {
    auto victim = it--;
    if (!victim->in_use) {
      cache_index_.erase(victim->sql);
      sqlite3_finalize(victim->stmt);
      cache_.erase(victim);
    }
  }
  return Statement(stmt, this, &cache_.front(), cache_generation_);
}

void Connection::ReturnToCache(void* entry, sqlite3_stmt* stmt, uint64_t generation) {
  if (generation != cache_generation_) {
    sqlite3_finalize(stmt);  // the cache was cleared while the statement was in use
    return;
  }
  static_cast<CachedStatement*>(entry)->in_use = false;
}

void Connection::ClearCache() {
  cache_index_.clear();
  for (CachedStatement& entry : cache_) {
    if (!entry.in_use) {
      sqlite3_finalize(entry.stmt);  // one in use is finalized by its Statement
    }
  }
  cache_.clear();
  ++cache_generation_;
}

Status Connection::SetAccess(AccessMode mode) {
  if (access_applied_ && mode == access_) {
    return Status::Ok();
  }
  ClearCache();
  access_ = mode;
  access_applied_ = false;
  int rc = SQLITE_OK;
  if (mode != AccessMode::kSystem && options_.access_rules != nullptr) {
    rc = options_.access_rules(db_, mode, &notes_);
  } else {
    rc = sqlite3_set_authorizer(db_, nullptr, nullptr);  // an earlier read-only rule refuses:
    if (rc == SQLITE_OK) {
      rc = sqlite3_exec(
          db_, mode == AccessMode::kReadOnly ? "PRAGMA query_only = 1" : "PRAGMA query_only = 0",
          nullptr, nullptr, nullptr);
    }
    if (rc == SQLITE_OK) {
      rc = InstallSystemRules(db_, &notes_);
    }
  }
  if (rc != SQLITE_OK) {
    return Status(ErrorCode::kInternal,
                  std::string("cannot apply the connection's access rules: ") + sqlite3_errstr(rc),
                  rc);
  }
  access_applied_ = true;
  return Status::Ok();
}

int Connection::Step(sqlite3_stmt* stmt) {
  if (sink_ == nullptr) {
    return sqlite3_step(stmt);
  }
  if (committing_) {
    FlushCommits();  // a commit made outside Step (a statement reset, a raw step) finished
  }
  if (sqlite3_stmt_busy(stmt) == 0) {
    statement_mark_ = pending_.size();
  }
  in_step_ = true;
  int reprepared = sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0);
  int rc = sqlite3_step(stmt);
  in_step_ = false;
  if (sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0) != reprepared) {
    // The schema changed since the statement was prepared, maybe by another process, which no
    // authorizer of ours saw: tables' column names read earlier may be stale. An autocommit
    // statement's commit hook has taken the notes already.
    (committing_ && committing_in_step_ ? committing_schema_changed_ : notes_.schema_changed) =
        true;
  }
  if (rc != SQLITE_ROW) {
    AfterStatement(stmt, rc);
  }
  return rc;
}

void Connection::CaptureChanges(CommitSink* sink) {
  sink_ = sink;
  // A connection opened now may see a schema that changed behind the cached column names'
  // back (another process): its first commit counts as a schema change.
  notes_.schema_changed = sink != nullptr;
  // The capture reads TEXT as its stored bytes where it can (captured_changes.h): only those of
  // a UTF-8 database are the text the change log spells. Clients cannot change a database's
  // encoding (the server owns the pragma), but a file made elsewhere may be UTF-16.
  text_is_utf8_ = false;
  sqlite3_stmt* encoding = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA encoding", -1, &encoding, nullptr) == SQLITE_OK &&
      sqlite3_step(encoding) == SQLITE_ROW) {
    const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(encoding, 0));
    text_is_utf8_ = name != nullptr && std::string_view(name) == "UTF-8";
  }
  sqlite3_finalize(encoding);
  sqlite3_preupdate_hook(db_, sink != nullptr ? &Connection::OnPreUpdate : nullptr, this);
  sqlite3_commit_hook(db_, sink != nullptr ? &Connection::OnCommit : nullptr, this);
  sqlite3_rollback_hook(db_, sink != nullptr ? &Connection::OnRollback : nullptr, this);
}

void Connection::OnPreUpdate(void* self, sqlite3*, int op, const char* db_name, const char* table,
                             sqlite3_int64 old_rowid, sqlite3_int64 new_rowid) {
  if (db_name == nullptr || std::string_view(db_name) != "main") {
    return;  // temporary tables are the connection's own scratch space
  }
  auto* conn = static_cast<Connection*>(self);
  conn->pending_.AddFromPreUpdateHook(conn->db_, op, table, old_rowid, new_rowid,
                                      conn->text_is_utf8_);
}

int Connection::OnCommit(void* self) {
  auto* conn = static_cast<Connection*>(self);
  if (conn->committing_) {
    // An earlier commit, made outside Step, was not confirmed yet: it has finished by now.
    conn->sink_->Deliver(*conn->committing_, std::move(conn->committing_changes_),
                         conn->committing_schema_changed_);
    conn->committing_changes_.clear();
  }
  conn->committing_ = conn->sink_->NextCommit();
  conn->committing_schema_changed_ = conn->notes_.schema_changed;
  conn->notes_.schema_changed = false;
  conn->committing_changes_ = std::move(conn->pending_);
  conn->committing_in_step_ = conn->in_step_;
  conn->pending_.clear();
  conn->savepoints_.clear();
  return 0;
}

void Connection::OnRollback(void* self) {
  auto* conn = static_cast<Connection*>(self);
  if (conn->committing_) {
    // The commit failed after the commit hook: its number is delivered with no changes.
    conn->sink_->Deliver(*conn->committing_, {}, false);
    conn->notes_.schema_changed |= conn->committing_schema_changed_;
    conn->committing_.reset();
    conn->committing_changes_.clear();
  }
  conn->pending_.clear();
  conn->savepoints_.clear();
}

void Connection::AfterStatement(sqlite3_stmt* stmt, int rc) {
  if (rc != SQLITE_DONE) {
    // A failed statement's own changes were undone (the rest of its transaction stays).
    if (committing_ && committing_in_step_) {
      committing_changes_.Truncate(statement_mark_);
    } else {
      pending_.Truncate(statement_mark_);
    }
  } else if (const char* sql = sqlite3_sql(stmt); sql != nullptr && note_savepoints_) {
    NoteSavepointStatement(sql);
  }
  if (!InTransaction()) {
    savepoints_.clear();
  }
  for (auto& savepoint : savepoints_) {
    savepoint.second = std::min(savepoint.second, pending_.size());
  }
  FlushCommits();
}

void Connection::FlushCommits() {
  if (!committing_) {
    return;
  }
  if (committing_in_step_ && InTransaction()) {
    // The statement stepped through Step that was committing failed (a COMMIT that found the
    // database busy) and the transaction is still open: its changes are pending again, and the
    // number is spent with nothing in it. (A commit made outside Step is only seen here later,
    // maybe inside the next transaction: it finished, since no rollback followed it.)
    committing_changes_.Append(std::move(pending_));
    pending_ = std::move(committing_changes_);
    sink_->Deliver(*committing_, {}, false);
    notes_.schema_changed |= committing_schema_changed_;
  } else {
    sink_->Deliver(*committing_, std::move(committing_changes_), committing_schema_changed_);
  }
  committing_.reset();
  committing_changes_.clear();
}

namespace {

// The next significant token of `tokens` as a name: a word as written, a quoted identifier
// unquoted (savepoint names compare without ASCII case); empty at the end. `quoted` tells a
// quoted name (which is never a keyword: "savepoint" is a name) from a word. Only a quoted name
// is copied: this runs for every SAVEPOINT and RELEASE of a group commit.
struct Name {
  std::string_view word;
  std::string unquoted;
  bool quoted = false;
  std::string_view text() const { return quoted ? std::string_view(unquoted) : word; }
  bool Is(std::string_view keyword) const {
    return !quoted && sql::EqualsAsciiNoCase(word, keyword);
  }
};

Name NextName(sql::SqlTokenizer& tokens) {
  std::optional<sql::Token> token = tokens.NextSignificant();
  if (!token) {
    return {};
  }
  std::string_view text = token->text;
  Name name;
  if ((token->kind == sql::TokenKind::kQuotedIdentifier ||
       token->kind == sql::TokenKind::kString) &&
      text.size() >= 2) {
    char close = text.back();
    for (size_t i = 1; i + 1 < text.size(); ++i) {
      name.unquoted += text[i];
      if (text[i] == close && close != ']' && i + 2 < text.size() && text[i + 1] == close) {
        ++i;  // a doubled quote is one quote character
      }
    }
    name.quoted = true;
    return name;
  }
  name.word = text;
  return name;
}

// The first names of a statement that is only words ([A-Za-z0-9_]) separated by single
// spaces, as group commit's SAVEPOINT and RELEASE are: no tokenizer needed. False for any other
// text (quotes, comments, other spacing), which takes the tokenizer's way.
template <size_t N>
bool SplitPlainWords(std::string_view text, std::array<Name, N>& out, size_t& count) {
  count = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[i])) != 0 || text[i] == '_')) {
      ++i;
    }
    if (i == start || count == N) {
      return false;
    }
    out[count++].word = text.substr(start, i - start);
    if (i < text.size()) {
      if (text[i] != ' ' || i + 1 == text.size()) {
        return false;
      }
      ++i;
    }
  }
  return count > 0;
}

}  // namespace

void Connection::NoteSavepointStatement(std::string_view sql_text) {
  // Every statement passes here: most start with a word that is none of these (INSERT,
  // SELECT, ...), seen without tokenizing. Comments and whitespace first take the long way.
  size_t start = sql_text.find_first_not_of(" \t\r\n\f");
  if (start != std::string_view::npos) {
    size_t end = start;
    while (end < sql_text.size() &&
           ((sql_text[end] | 0x20) >= 'a' && (sql_text[end] | 0x20) <= 'z')) {
      ++end;
    }
    std::string_view word = sql_text.substr(start, end - start);
    if (!word.empty() && !sql::EqualsAsciiNoCase(word, "SAVEPOINT") &&
        !sql::EqualsAsciiNoCase(word, "RELEASE") && !sql::EqualsAsciiNoCase(word, "ROLLBACK")) {
      return;
    }
  }
  // The statement's first names: ROLLBACK TRANSACTION name TO SAVEPOINT name is the longest
  // form (SQLite accepts a transaction name there and ignores it).
  std::array<Name, 6> names;
  size_t count = 0;
  if (!SplitPlainWords(sql_text, names, count)) {
    sql::SqlTokenizer tokens(sql_text);
    for (count = 0; count < names.size(); ++count) {
      names[count] = NextName(tokens);
      if (!names[count].quoted && names[count].word.empty()) {
        break;  // the end
      }
    }
  }
  size_t next = 0;
  const Name end;
  auto take = [&]() -> const Name& { return next < count ? names[next++] : end; };
  auto take_if = [&](std::string_view keyword) {
    if (next < count && names[next].Is(keyword)) {
      ++next;
    }
  };
  const Name& verb = take();
  if (verb.Is("SAVEPOINT")) {
    NoteSavepoint(take().text());
    return;
  }
  if (verb.Is("RELEASE")) {
    take_if("SAVEPOINT");
    NoteRelease(take().text());
    return;
  }
  if (verb.Is("ROLLBACK")) {
    if (next < count && names[next].Is("TRANSACTION")) {
      ++next;
      if (next + 1 < count && !names[next].Is("TO") && names[next + 1].Is("TO")) {
        ++next;  // the transaction's name
      }
    }
    if (!take().Is("TO")) {
      return;  // a whole-transaction rollback: the rollback hook saw it
    }
    take_if("SAVEPOINT");
    NoteRollbackTo(take().text());
  }
}

namespace {

// The innermost open savepoint named `name` (names compare without ASCII case).
std::optional<size_t> FindSavepoint(const std::vector<std::pair<std::string, size_t>>& savepoints,
                                    std::string_view name) {
  for (size_t i = savepoints.size(); i > 0; --i) {
    if (sql::EqualsAsciiNoCase(savepoints[i - 1].first, name)) {
      return i - 1;
    }
  }
  return std::nullopt;
}

}  // namespace

void Connection::NoteSavepoint(std::string_view name) {
  savepoints_.emplace_back(name, pending_.size());
}

void Connection::NoteRelease(std::string_view name) {
  if (auto i = FindSavepoint(savepoints_, name)) {
    savepoints_.resize(*i);
  }
}

void Connection::NoteRollbackTo(std::string_view name) {
  if (auto i = FindSavepoint(savepoints_, name)) {
    pending_.Truncate(savepoints_[*i].second);
    savepoints_.resize(*i + 1);
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
