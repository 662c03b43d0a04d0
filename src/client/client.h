#pragma once

// quarry::client::Client: a C++ client for Quarry (and any server speaking libSQL's Hrana over
// HTTP), or for a local SQLite file run in-process.
//
//   auto client = Client::Open("http://127.0.0.1:8080/db/shop", token);
//   if (!client.ok()) ...;
//   auto rs = (*client)->Execute("SELECT * FROM users WHERE id = ?", {Integer(7)});
//
// Every failure is a Status carrying the server's message; SQLite errors are kSqlite with the
// result code, so status.WireCode() is "SQLITE_CONSTRAINT" as on the wire. A Client, and the
// Streams and Transactions it opens, are used by one thread at a time; a Stream or Transaction
// must not outlive its Client.

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/http_connection.h"
#include "client/transport.h"
#include "common/status.h"
#include "protocol/value.h"

namespace quarry::client {

// A SQLite value: null, integer, float, text or blob.
using Value = protocol::Value;
Value Null();
Value Integer(int64_t v);
Value Float(double v);
Value Text(std::string v);
Value Blob(std::string bytes);
// Same type and same contents (NaN equals NaN). protocol::Value has no operator==, and one
// here would not be found by argument-dependent lookup.
bool SameValue(const Value& a, const Value& b);
// For messages: NULL, 42, 1.5, 'text', x'00ff'.
std::string DebugString(const Value& value);

// One SQL statement and its arguments (positional `?`/`?N`, or named `:name`/`@name`/`$name`
// with the prefix included in the name).
struct Statement {
  Statement(std::string sql_text, std::vector<Value> positional = {})  // NOLINT: implicit
      : sql(std::move(sql_text)), args(std::move(positional)) {}
  Statement(const char* sql_text) : sql(sql_text) {}  // NOLINT: implicit
  std::string sql;
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> named_args;
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::optional<std::string>> decltypes;
  std::vector<std::vector<Value>> rows;
  int64_t rows_affected = 0;
  std::optional<int64_t> last_insert_rowid;
};

struct Description {
  std::vector<std::optional<std::string>> params;  // parameter names, nullopt for plain `?`
  std::vector<std::string> columns;
  std::vector<std::optional<std::string>> decltypes;
  bool is_explain = false;
  bool is_readonly = false;
};

struct ClientOptions {
  HttpOptions http;
};

// A Hrana stream kept open across requests: its connection, and so its transaction state,
// persist between calls. The server closes a stream idle for long (10 s by default); the next
// call then fails with kStreamExpired. The destructor closes the stream (best effort).
class Stream {
 public:
  explicit Stream(Transport* transport) : transport_(transport) {}
  Stream(Stream&& other) noexcept;
  Stream& operator=(Stream&& other) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  Result<ResultSet> Execute(const Statement& stmt);
  // Runs several statements separated by ';', without arguments, discarding rows.
  Status ExecuteMultiple(std::string_view sql);
  Result<Description> Describe(std::string_view sql);
  // Closes the stream; a transaction still open on it is rolled back by the server.
  Status Close();

  // False once the stream was closed (by Close or by the server).
  bool open() const { return !closed_; }
  // Whether the connection was outside a transaction after the last request.
  bool autocommit() const { return autocommit_; }

 private:
  friend class Client;
  friend class Transaction;
  // Sends `requests` plus a get_autocommit probe (and a close when `close_after`); returns
  // each request's response object or error, in order. Fails as a whole on transport errors
  // and errors of the whole pipeline (expired baton, ...), which also end the stream.
  Result<std::vector<Result<boost::json::object>>> Send(std::vector<boost::json::object> requests,
                                                        bool close_after);

  Transport* transport_;
  std::optional<std::string> baton_;
  bool started_ = false;
  bool closed_ = false;
  bool autocommit_ = true;
};

// An interactive transaction: BEGIN on a dedicated stream, statements, then Commit or
// Rollback. Destroying an unfinished Transaction rolls it back and closes the stream.
class Transaction {
 public:
  enum class Mode {
    kWrite,     // BEGIN IMMEDIATE: takes the write lock at once
    kRead,      // BEGIN TRANSACTION READONLY: a consistent read snapshot
    kDeferred,  // BEGIN DEFERRED
  };
  Transaction(Transaction&&) noexcept = default;
  Transaction& operator=(Transaction&&) noexcept = default;
  ~Transaction();

  Result<ResultSet> Execute(const Statement& stmt);
  Status ExecuteMultiple(std::string_view sql);
  Status Commit();
  Status Rollback();
  bool finished() const { return finished_; }

 private:
  friend class Client;
  explicit Transaction(Stream stream) : stream_(std::move(stream)) {}
  Status Finish(const char* sql);

  Stream stream_;
  bool finished_ = false;
};

class Client {
 public:
  // Opens a client for `url` (see url.h for the forms); `token` may be empty. An http URL
  // does not connect until the first request; a file: URL opens (creating) the file now.
  static Result<std::unique_ptr<Client>> Open(const std::string& url, const std::string& token,
                                              const ClientOptions& options = {});
  explicit Client(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}

  // Runs one statement in its own stream.
  Result<ResultSet> Execute(const Statement& stmt);
  Result<ResultSet> Execute(std::string sql, std::vector<Value> args) {
    return Execute(Statement(std::move(sql), std::move(args)));
  }
  // Runs the statements atomically, in one transaction: all apply or none does. Returns one
  // ResultSet per statement, or the first failing statement's error (prefixed with its index).
  Result<std::vector<ResultSet>> Batch(const std::vector<Statement>& stmts);
  // Runs a script of statements separated by ';' (not atomic), discarding rows.
  Status ExecuteMultiple(std::string_view sql);
  Result<Description> Describe(std::string_view sql);
  Result<Transaction> BeginTransaction(Transaction::Mode mode = Transaction::Mode::kWrite);
  // A stream for a sequence of requests sharing one connection (as the shell uses).
  Stream OpenStream() { return Stream(transport_.get()); }

  Transport& transport() { return *transport_; }

 private:
  std::unique_ptr<Transport> transport_;
};

}  // namespace quarry::client
