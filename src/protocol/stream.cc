#include "protocol/stream.h"

#include <cctype>

#include "common/sql_statement.h"
#include "protocol/executor.h"

namespace quarry::protocol {

namespace {

bool Evaluate(const Condition& cond, const std::vector<std::optional<bool>>& step_ok,
              storage::Connection& conn) {
  switch (cond.kind) {
    case Condition::Kind::kOk:
      return step_ok[cond.step].has_value() && *step_ok[cond.step];
    case Condition::Kind::kError:
      return step_ok[cond.step].has_value() && !*step_ok[cond.step];
    case Condition::Kind::kNot:
      return !Evaluate(cond.conds.at(0), step_ok, conn);
    case Condition::Kind::kAnd:
      for (const auto& c : cond.conds) {
        if (!Evaluate(c, step_ok, conn)) {
          return false;
        }
      }
      return true;
    case Condition::Kind::kOr:
      for (const auto& c : cond.conds) {
        if (Evaluate(c, step_ok, conn)) {
          return true;
        }
      }
      return false;
    case Condition::Kind::kIsAutocommit:
      return !conn.InTransaction();
  }
  return false;
}

StreamResponse TypeOnly(Request::Type type) {
  StreamResponse response;
  response.type = type;
  return response;
}

}  // namespace

Stream::Stream(StreamOwner owner, storage::ConnectionLease conn, const StreamLimits& limits,
               StreamSlot slot)
    : owner_(std::move(owner)),
      slot_(std::move(slot)),
      db_(conn.database().shared_from_this()),
      conn_(std::move(conn)),
      limits_(limits) {}

Stream::Stream(StreamOwner owner, std::shared_ptr<storage::Database> db, const StreamLimits& limits,
               StreamSlot slot)
    : owner_(std::move(owner)),
      slot_(std::move(slot)),
      db_(std::move(db)),
      lending_(true),
      limits_(limits) {}

Status Stream::Bind() {
  if (!conn_) {
    QUARRY_ASSIGN_OR_RETURN(conn_, db_->Acquire(auth::AccessModeFor(owner_.access)));
  }
  return Status::Ok();
}

bool Stream::TryBindIdle() {
  if (conn_) {
    return true;
  }
  std::optional<Result<storage::ConnectionLease>> lease =
      db_->TryAcquireIdle(auth::AccessModeFor(owner_.access));
  if (!lease || !lease->ok()) {
    return false;
  }
  conn_ = std::move(**lease);
  return true;
}

void Stream::SettleLending(const Request& request) {
  if (!lending_ || !conn_ || closed_) {
    return;
  }
  bool lone_read =
      request.type == Request::Type::kExecute && !read_only_transaction_ && !conn_->InTransaction();
  if (lone_read) {
    Result<std::string_view> sql = ResolveSql(request.stmt.sql, request.stmt.sql_id);
    lone_read = sql.ok() && sql::IsPlainRead(*sql);
  }
  if (lone_read) {
    conn_ = storage::ConnectionLease();
  } else {
    lending_ = false;
  }
}

void Stream::SetAccess(storage::AccessMode mode) {
  // A failure leaves the connection denying everything, so it cannot widen access; the next
  // statement reports the denial.
  conn_->SetAccess(mode).PermitUncheckedError();
}

std::string_view Stream::TranslateSql(std::string_view sql) {
  if (sql.size() < 64 && sql::IsBeginReadonly(sql)) {
    read_only_transaction_ = true;
    SetAccess(storage::AccessMode::kReadOnly);
    return "BEGIN DEFERRED";
  }
  return sql;
}

void Stream::SettleAccess() {
  if (read_only_transaction_ && !closed_ && conn_ && !conn_->InTransaction()) {
    read_only_transaction_ = false;
    SetAccess(auth::AccessModeFor(owner_.access));
  }
}

Stream::~Stream() { Close(); }

void Stream::Close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  stored_sql_.clear();
  // The lease rolls back an open transaction before the connection goes back to the pool.
  conn_ = storage::ConnectionLease();
}

Status Stream::CheckUsable() const {
  if (closed_) {
    return Status(ErrorCode::kStreamClosed, "the stream is closed");
  }
  if (db_->deleted()) {
    return Status(ErrorCode::kNamespaceNotFound,
                  "namespace '" + owner_.ns + "' was deleted while this stream was open");
  }
  return Status::Ok();
}

void Stream::MarkParked(std::chrono::steady_clock::time_point now) {
  parked_at_ = now;
  if (closed_ || !conn_ || !conn_->HoldsWriteLock()) {
    write_lock_since_.reset();
  } else if (!write_lock_since_) {
    write_lock_since_ = now;
  }
}

bool Stream::ExpireTransactionIfDue(std::chrono::steady_clock::time_point now) {
  if (closed_ || !write_lock_since_ || now - *write_lock_since_ < limits_.transaction_timeout) {
    return false;
  }
  conn_->RollbackIfOpen().PermitUncheckedError();
  write_lock_since_.reset();
  transaction_timed_out_ = true;
  return true;
}

void Stream::BeginResponse() { response_budget_ = limits_.max_response_bytes; }

Result<StmtOutcome> Stream::RunStmt(std::string_view sql, const StmtSpec& spec, RowSink& sink) {
  ArmDeadline();
  size_t cap = std::min(limits_.max_result_bytes, response_budget_);
  Result<StmtOutcome> outcome = ExecuteStmt(*conn_, TranslateSql(sql), spec, sink, cap);
  if (outcome.ok()) {
    response_budget_ -= std::min(response_budget_, outcome->result_bytes);
  } else if (outcome.status().code() == ErrorCode::kResponseTooLarge &&
             cap < limits_.max_result_bytes) {
    return Status(ErrorCode::kResponseTooLarge,
                  "the response (all results of the request together) would be larger than the "
                  "limit of " +
                      storage::FormatBytes(limits_.max_response_bytes) +
                      "; split the work over several requests");
  }
  return outcome;
}

void Stream::ArmDeadline() {
  // The query deadline is real time: SQLite's progress handler checks it while a statement runs.
  std::chrono::milliseconds timeout = query_time_limit_.count() > 0
                                          ? std::min(query_time_limit_, limits_.query_timeout)
                                          : limits_.query_timeout;
  conn_->SetDeadline(std::chrono::steady_clock::now() + timeout);
}

void Stream::LimitQueryTime(std::chrono::microseconds limit) {
  query_time_limit_ = std::chrono::ceil<std::chrono::milliseconds>(limit);
}

Result<std::string_view> Stream::ResolveSql(const std::optional<std::string>& sql,
                                            const std::optional<int64_t>& sql_id) const {
  if (sql) {
    return std::string_view(*sql);
  }
  auto it = stored_sql_.find(*sql_id);
  if (it == stored_sql_.end()) {
    return Status(ErrorCode::kSqlNotFound,
                  "sql_id " + std::to_string(*sql_id) + " is not stored on this stream");
  }
  return std::string_view(it->second);
}

Status Stream::RunBatch(const BatchSpec& batch, BatchObserver& observer) {
  QUARRY_RETURN_IF_ERROR(Bind());
  lending_ = false;  // a batch may leave anything on the connection
  std::vector<std::optional<bool>> step_ok(batch.steps.size());
  for (size_t i = 0; i < batch.steps.size(); ++i) {
    const BatchStep& step = batch.steps[i];
    if (step.condition && !Evaluate(*step.condition, step_ok, *conn_)) {
      continue;
    }
    Result<StmtOutcome> outcome = [&]() -> Result<StmtOutcome> {
      QUARRY_ASSIGN_OR_RETURN(std::string_view sql, ResolveSql(step.stmt.sql, step.stmt.sql_id));
      return RunStmt(sql, step.stmt, observer.StepSink(i));
    }();
    step_ok[i] = outcome.ok();
    observer.StepDone(i, outcome);
    SettleAccess();
  }
  return Status::Ok();
}

namespace {

// Collects a batch request's step results and errors.
class BatchResultObserver : public Stream::BatchObserver {
 public:
  explicit BatchResultObserver(size_t steps) {
    result_.step_results.resize(steps);
    result_.step_errors.resize(steps);
  }
  RowSink& StepSink(size_t) override {
    sink_ = StmtResultSink();
    return sink_;
  }
  void StepDone(size_t step, const Result<StmtOutcome>& outcome) override {
    if (outcome.ok()) {
      result_.step_results[step] = sink_.Finish(*outcome);
    } else {
      result_.step_errors[step] = outcome.status();
    }
  }
  BatchResult Finish() { return std::move(result_); }

 private:
  StmtResultSink sink_;
  BatchResult result_;
};

}  // namespace

Result<StreamResponse> Stream::Handle(const Request& request) {
  bool needs_connection =
      request.type == Request::Type::kExecute || request.type == Request::Type::kSequence ||
      request.type == Request::Type::kDescribe || request.type == Request::Type::kBatch;
  if (needs_connection && !closed_ && !transaction_timed_out_) {
    QUARRY_RETURN_IF_ERROR(Bind());
  }
  Result<StreamResponse> response = HandleBound(request);
  SettleLending(request);
  return response;
}

Result<StreamResponse> Stream::HandleBound(const Request& request) {
  if (transaction_timed_out_ && request.type != Request::Type::kClose) {
    return Status(ErrorCode::kTransactionTimeout,
                  "the transaction held the write lock longer than " +
                      std::to_string(limits_.transaction_timeout.count()) +
                      " ms and was rolled back; close this stream and retry");
  }
  switch (request.type) {
    case Request::Type::kExecute: {
      QUARRY_ASSIGN_OR_RETURN(std::string_view sql,
                              ResolveSql(request.stmt.sql, request.stmt.sql_id));
      // A stream's statements run on its own connection (its temporary tables, pragmas and
      // changes() are the client's view), a lending stream's lone reads on one borrowed for
      // each; only stream-less lone writes are grouped, in HranaService::PipelineAsync.
      StmtResultSink sink;
      Result<StmtOutcome> outcome = RunStmt(sql, request.stmt, sink);
      SettleAccess();
      if (!outcome.ok()) {
        return outcome.status();
      }
      StreamResponse response = TypeOnly(Request::Type::kExecute);
      response.execute = sink.Finish(*outcome);
      return response;
    }
    case Request::Type::kBatch: {
      BatchResultObserver observer(request.batch.steps.size());
      QUARRY_RETURN_IF_ERROR(RunBatch(request.batch, observer));
      StreamResponse response = TypeOnly(Request::Type::kBatch);
      response.batch = observer.Finish();
      return response;
    }
    case Request::Type::kSequence: {
      QUARRY_ASSIGN_OR_RETURN(std::string_view sql, ResolveSql(request.sql, request.sql_id));
      ArmDeadline();
      Status done = auth::ExplainDenial(storage::ExecuteScript(*conn_, sql));
      SettleAccess();
      QUARRY_RETURN_IF_ERROR(done);
      return TypeOnly(Request::Type::kSequence);
    }
    case Request::Type::kDescribe: {
      QUARRY_ASSIGN_OR_RETURN(std::string_view sql, ResolveSql(request.sql, request.sql_id));
      StreamResponse response = TypeOnly(Request::Type::kDescribe);
      QUARRY_ASSIGN_OR_RETURN(response.describe, DescribeSql(*conn_, sql));
      return response;
    }
    case Request::Type::kStoreSql: {
      if (stored_sql_.count(*request.sql_id) != 0) {
        return Status(ErrorCode::kSqlIdExists,
                      "sql_id " + std::to_string(*request.sql_id) + " is already stored");
      }
      if (stored_sql_.size() >= limits_.max_stored_sql) {
        return Status(
            ErrorCode::kTooManyStoredSql,
            "a stream may store at most " + std::to_string(limits_.max_stored_sql) + " SQL texts");
      }
      if (request.sql->size() > limits_.max_sql_bytes ||
          stored_sql_bytes_ + request.sql->size() > limits_.max_stored_sql_bytes) {
        return Status(ErrorCode::kStoredSqlTooLarge,
                      "storing this SQL text would exceed the stream's limit (" +
                          std::to_string(limits_.max_sql_bytes >> 10) + " KiB per text, " +
                          std::to_string(limits_.max_stored_sql_bytes >> 20) +
                          " MiB in all); close_sql texts no longer needed");
      }
      stored_sql_bytes_ += request.sql->size();
      stored_sql_.emplace(*request.sql_id, *request.sql);
      return TypeOnly(Request::Type::kStoreSql);
    }
    case Request::Type::kCloseSql:
      if (auto it = stored_sql_.find(*request.sql_id); it != stored_sql_.end()) {
        stored_sql_bytes_ -= it->second.size();
        stored_sql_.erase(it);
      }
      return TypeOnly(Request::Type::kCloseSql);
    case Request::Type::kClose:
      Close();
      return TypeOnly(Request::Type::kClose);
    case Request::Type::kGetAutocommit: {
      StreamResponse response = TypeOnly(Request::Type::kGetAutocommit);
      response.is_autocommit = !InTransaction();
      return response;
    }
  }
  return Status(ErrorCode::kInternal, "unhandled request type");
}

}  // namespace quarry::protocol
