#pragma once

// Stream: a Hrana stream, the unit of state between requests. It owns one connection for its
// life (so transactions span requests) and the SQL texts stored with store_sql. A stream is
// used by one request at a time: StreamManager hands it out against a single-use baton.
//
// A lending stream (the second constructor; WebSocket streams) starts without a connection and
// borrows one of the namespace's pool for each request while all it has run are lone reads (an
// execute of a plain SELECT, sql::IsPlainRead, that leaves no transaction open), giving it back
// after each: such reads neither leave anything on the connection that the next request could
// see nor see what earlier ones left, and many idle or read-only
// streams then share a few warm connections instead of each holding its own. The first other
// request keeps the connection it ran on for the rest of the stream's life, as an ordinary
// stream's (its transactions, temporary tables and changes() are the client's view).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>

#include "auth/sql_authorizer.h"
#include "common/clock.h"
#include "common/status.h"
#include "protocol/executor.h"
#include "protocol/request.h"
#include "protocol/response.h"
#include "storage/database.h"

namespace quarry::protocol {

// Who a stream belongs to. A baton is only honoured for the same namespace and access.
struct StreamOwner {
  std::string ns;
  auth::SqlAccess access = auth::SqlAccess::kReadWrite;
  // Which credential opened the stream (a digest of the token): its share of streams is
  // counted, and only it may continue the stream.
  std::string token_id;
  bool operator==(const StreamOwner&) const = default;
};

// A place for one open stream in the counts StreamManager bounds; freed on destruction.
// What gives a StreamSlot its place back (the StreamManager).
class StreamSlotOwner {
 public:
  // `in_namespace` and `of_token`: the counters the slot was taken from.
  virtual void ReleaseSlot(size_t* in_namespace, size_t* of_token) = 0;

 protected:
  ~StreamSlotOwner() = default;
};

class StreamSlot {
 public:
  StreamSlot() = default;
  StreamSlot(StreamSlotOwner* owner, size_t* in_namespace, size_t* of_token)
      : owner_(owner), in_namespace_(in_namespace), of_token_(of_token) {}
  StreamSlot(StreamSlot&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)),
        in_namespace_(other.in_namespace_),
        of_token_(other.of_token_) {}
  StreamSlot& operator=(StreamSlot&& other) noexcept {
    if (this != &other) {
      Release();
      owner_ = std::exchange(other.owner_, nullptr);
      in_namespace_ = other.in_namespace_;
      of_token_ = other.of_token_;
    }
    return *this;
  }
  ~StreamSlot() { Release(); }

 private:
  void Release() {
    if (owner_ != nullptr) {
      std::exchange(owner_, nullptr)->ReleaseSlot(in_namespace_, of_token_);
    }
  }
  StreamSlotOwner* owner_ = nullptr;
  size_t* in_namespace_ = nullptr;
  size_t* of_token_ = nullptr;
};

struct StreamLimits {
  std::chrono::milliseconds idle_timeout{10'000};
  std::chrono::milliseconds transaction_timeout{5'000};
  std::chrono::milliseconds query_timeout{30'000};
  size_t max_stored_sql = 1000;
  size_t max_sql_bytes = 1 << 20;         // one stored SQL text
  size_t max_stored_sql_bytes = 4 << 20;  // all SQL texts stored on one stream
  // Bound on one statement's rows in a response (estimated JSON bytes).
  size_t max_result_bytes = kDefaultMaxResultBytes;
  // Bound on all rows of one response (a pipeline, a cursor), however many statements it has.
  size_t max_response_bytes = kDefaultMaxResultBytes;
  // Bounds on open streams (each holds a database connection): in all, of one namespace, and
  // of one token, so one tenant can only use up its own share.
  size_t max_streams = 4096;
  size_t max_streams_per_namespace = 128;
  size_t max_streams_per_token = 1024;
  // Merge concurrent autocommit writes to a database into one transaction (see
  // storage::Database::RunGrouped).
  bool group_commit = true;
};

class Stream {
 public:
  Stream(StreamOwner owner, storage::ConnectionLease conn, const StreamLimits& limits,
         StreamSlot slot = {});
  // A lending stream of `db` (see above).
  Stream(StreamOwner owner, std::shared_ptr<storage::Database> db, const StreamLimits& limits,
         StreamSlot slot = {});
  ~Stream();

  const StreamOwner& owner() const { return owner_; }
  // The stream's connection; a lending stream has none between requests (Bind first).
  storage::Connection& connection() { return *conn_; }
  bool InTransaction() const { return conn_ && conn_->InTransaction(); }
  // Gives the stream a connection when it has none: from the pool's idle connections only
  // (false when none is idle or it could not take the stream's access), for a caller that
  // must not block. Handle and RunBatch bind by themselves, blocking when they must.
  bool TryBindIdle();

  // Runs one request and returns its response; a failure is the request's error, which the
  // caller reports as that request's error result.
  Result<StreamResponse> Handle(const Request& request);

  // Runs a batch; used by the `batch` request and by cursors (with a row sink per step).
  // `on_step` gets each executed step's outcome or error, in order.
  class BatchObserver {
   public:
    virtual ~BatchObserver() = default;
    virtual RowSink& StepSink(size_t step) = 0;
    virtual void StepDone(size_t step, const Result<StmtOutcome>& outcome) = 0;
  };
  Status RunBatch(const BatchSpec& batch, BatchObserver& observer);

  // Starts a response: the statements run until the next call share one bound on their rows
  // (StreamLimits::max_response_bytes).
  void BeginResponse();

  // OK when the stream can take a request: its namespace still exists and its transaction
  // was not rolled back by the server.
  Status CheckUsable() const;
  // Statements from now on are interrupted after `limit` (at most the stream's query timeout;
  // rounded up to whole milliseconds), until called with 0. For a read tried on a network
  // thread within a budget.
  void LimitQueryTime(std::chrono::microseconds limit);
  bool closed() const { return closed_; }
  void Close();

  // Called by StreamManager while the stream is parked (not running a request).
  // Rolls back a write transaction held longer than the limit; returns true when it did.
  bool ExpireTransactionIfDue(std::chrono::steady_clock::time_point now);
  void MarkParked(std::chrono::steady_clock::time_point now);
  std::chrono::steady_clock::time_point parked_at() const { return parked_at_; }

 private:
  Result<StreamResponse> HandleBound(const Request& request);
  Result<std::string_view> ResolveSql(const std::optional<std::string>& sql,
                                      const std::optional<int64_t>& sql_id) const;
  void ArmDeadline();
  // Runs one statement under the deadline, the access rules and the response's bound.
  Result<StmtOutcome> RunStmt(std::string_view sql, const StmtSpec& spec, RowSink& sink);
  // Rewrites libSQL's `BEGIN TRANSACTION READONLY` to SQLite's `BEGIN DEFERRED` and holds the
  // connection to read-only access until that transaction ends.
  std::string_view TranslateSql(std::string_view sql);
  void SetAccess(storage::AccessMode mode);
  // Borrows a connection of the pool when the stream has none (blocks on SQLite).
  Status Bind();
  // After a request of a lending stream: gives the connection back when the request was a
  // lone read, else keeps it for good.
  void SettleLending(const Request& request);
  // Called after each request: leaves read-only mode once the read transaction is over.
  void SettleAccess();

  const StreamOwner owner_;
  StreamSlot slot_;
  std::chrono::milliseconds query_time_limit_{0};  // 0: limits_.query_timeout
  const std::shared_ptr<storage::Database> db_;
  storage::ConnectionLease conn_;
  bool lending_ = false;  // borrows conn_ per request (see above)
  const StreamLimits limits_;
  std::unordered_map<int64_t, std::string> stored_sql_;
  size_t stored_sql_bytes_ = 0;
  size_t response_budget_ = 0;
  bool closed_ = false;
  bool transaction_timed_out_ = false;
  bool read_only_transaction_ = false;
  std::chrono::steady_clock::time_point parked_at_;
  // When the connection was first seen holding the write lock while parked.
  std::optional<std::chrono::steady_clock::time_point> write_lock_since_;
};

}  // namespace quarry::protocol
