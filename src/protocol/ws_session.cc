#include "protocol/ws_session.h"

#include <boost/json.hpp>
#include <chrono>
#include <utility>
#include <vector>

#include "common/sql_statement.h"
#include "protocol/cursor_writer.h"

namespace quarry::protocol {
namespace json = boost::json;

namespace {

WsResponse TypeOnly(WsRequest::Type type) {
  WsResponse response;
  response.type = type;
  return response;
}

// Keeps a WebSocket cursor's entries until fetch_cursor takes them.
class QueuedEntries : public CursorEntryWriter {
 public:
  explicit QueuedEntries(std::deque<CursorEntry>& queue) : queue_(queue) {}
  void Write(const CursorEntry& entry) override { queue_.push_back(entry); }

 private:
  std::deque<CursorEntry>& queue_;
};

WsViolation PolicyViolation(std::string reason) {
  return WsViolation{WsCloseCode::kPolicy, TruncateCloseReason(std::move(reason))};
}

}  // namespace

WsSession::WsSession(WsSubprotocol subprotocol, std::unique_ptr<WsCodec> codec, HranaService& hrana,
                     WsAuthenticator authenticate, WsExecutor executor,
                     std::shared_ptr<WsOutput> output, const Clock& clock, WsLimits limits)
    : subprotocol_(std::move(subprotocol)),
      codec_(std::move(codec)),
      hrana_(hrana),
      authenticate_(std::move(authenticate)),
      executor_(std::move(executor)),
      output_(std::move(output)),
      clock_(clock),
      limits_(limits) {}

WsSession::~WsSession() {
  // Every job holds the session, so none runs now: what is left is idle and released here.
  for (auto& [id, st] : streams_) {
    Release(*st);
  }
}

size_t WsSession::outstanding() {
  std::lock_guard lock(mutex_);
  return outstanding_;
}

size_t WsSession::open_streams() {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

bool WsSession::ReadyForMore() {
  std::lock_guard lock(mutex_);
  return !closed_ && outstanding_ < limits_.max_outstanding_requests;
}

void WsSession::OnFrame(std::string_view frame, bool binary) {
  auto decoded = codec_->Decode(frame, binary);
  Actions actions;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return;
    }
    if (auto* violation = std::get_if<WsViolation>(&decoded)) {
      Violate(std::move(*violation), actions);
    } else {
      ClientMsg& msg = std::get<ClientMsg>(decoded);
      if (msg.type == ClientMsg::Type::kRequest) {
        ++outstanding_;
      }
      if (hello_running_ || !pending_.empty()) {
        pending_.push_back(std::move(msg));  // after the hello being checked
      } else {
        Dispatch(std::move(msg), actions);
      }
    }
  }
  Perform(actions);
}

void WsSession::Shutdown() {
  Actions actions;
  {
    std::lock_guard lock(mutex_);
    CloseLocked(actions);
  }
  Perform(actions);
}

void WsSession::CloseLocked(Actions& actions) {
  closed_ = true;
  pending_.clear();
  cursors_.clear();
  sqls_.clear();
  for (auto& [id, st] : streams_) {
    st->queue.clear();
    if (!st->running) {
      // Rolling back blocks: done on the executor. A running stream is released by its runner.
      actions.run.push_back([self = shared_from_this(), st] { self->Release(*st); });
    }
  }
  streams_.clear();
}

void WsSession::Violate(WsViolation violation, Actions& actions) {
  CloseLocked(actions);
  actions.close = std::move(violation);
}

void WsSession::Perform(Actions& actions) {
  // Frames first: they answer the message that led to these tasks, which may answer more.
  for (const ServerMsg& msg : actions.send) {
    Send(msg);
  }
  if (actions.close) {
    output_->Close(actions.close->code, std::move(actions.close->reason));
  }
  for (auto& task : actions.run) {
    executor_(std::move(task));
  }
  for (auto& [st, job] : actions.inline_reads) {
    RunInline(st, std::move(job));
  }
}

void WsSession::Send(const ServerMsg& msg) {
  bool binary = false;
  std::string frame = codec_->Encode(msg, binary);
  output_->Send(std::move(frame), binary);
}

void WsSession::Respond(int32_t request_id, Result<WsResponse> response) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return;
    }
    --outstanding_;  // before the send: the transport re-asks ReadyForMore after it
  }
  ServerMsg msg;
  msg.request_id = request_id;
  if (response.ok()) {
    msg.type = ServerMsg::Type::kResponseOk;
    msg.response = std::move(*response);
  } else {
    msg.type = ServerMsg::Type::kResponseError;
    msg.error = response.status();
  }
  Send(msg);
}

void WsSession::Dispatch(ClientMsg msg, Actions& actions) {
  if (msg.type == ClientMsg::Type::kHello) {
    if (hello_seen_ && subprotocol_.version < 2) {
      Violate(PolicyViolation("a second hello needs Hrana 2 or later; this socket negotiated "
                              "hrana1"),
              actions);
      return;
    }
    StartHello(std::move(msg.jwt), actions);
    return;
  }
  if (!admission_) {
    Violate(PolicyViolation("request before hello: send hello with the token first"), actions);
    return;
  }
  DispatchRequest(msg, actions);
}

void WsSession::StartHello(std::optional<std::string> jwt, Actions& actions) {
  hello_seen_ = true;
  hello_running_ = true;
  actions.run.push_back([self = shared_from_this(), jwt = std::move(jwt)] {
    self->OnHelloDone(self->authenticate_(jwt));
  });
}

void WsSession::OnHelloDone(Result<WsAdmission> admission) {
  Actions actions;
  {
    std::lock_guard lock(mutex_);
    hello_running_ = false;
    if (closed_) {
      return;
    }
    ServerMsg reply;
    if (!admission.ok()) {
      reply.type = ServerMsg::Type::kHelloError;
      reply.error = admission.status();
      actions.send.push_back(std::move(reply));
      Violate(PolicyViolation("hello refused: " + admission.status().message()), actions);
    } else {
      admission_ = std::move(*admission);
      // Sent under the lock: once admission_ is set, a request arriving on the I/O thread may
      // be answered at once, and hello_ok must reach the socket's queue before that answer.
      reply.type = ServerMsg::Type::kHelloOk;
      Send(reply);
      // The messages that waited for this hello, in order, up to the next hello.
      while (!pending_.empty() && !hello_running_ && !closed_) {
        ClientMsg next = std::move(pending_.front());
        pending_.pop_front();
        Dispatch(std::move(next), actions);
      }
    }
  }
  Perform(actions);
}

Status WsSession::ResolveSql(std::optional<std::string>& sql, std::optional<int64_t>& sql_id) {
  if (sql || !sql_id) {
    return Status::Ok();
  }
  auto it = sql_id >= INT32_MIN && *sql_id <= INT32_MAX ? sqls_.find(static_cast<int32_t>(*sql_id))
                                                        : sqls_.end();
  if (it == sqls_.end()) {
    return Status(ErrorCode::kSqlNotFound, "sql_id " + std::to_string(*sql_id) +
                                               " is not stored on this connection (store_sql)");
  }
  sql = it->second;
  sql_id.reset();
  return Status::Ok();
}

Status WsSession::ResolveBatch(BatchSpec& batch) {
  for (BatchStep& step : batch.steps) {
    QUARRY_RETURN_IF_ERROR(ResolveSql(step.stmt.sql, step.stmt.sql_id));
  }
  return Status::Ok();
}

void WsSession::DispatchRequest(ClientMsg& msg, Actions& actions) {
  const int32_t request_id = msg.request_id;
  auto respond_now = [&](Result<WsResponse> response) {
    --outstanding_;
    ServerMsg reply;
    reply.request_id = request_id;
    if (response.ok()) {
      reply.type = ServerMsg::Type::kResponseOk;
      reply.response = std::move(*response);
    } else {
      reply.type = ServerMsg::Type::kResponseError;
      reply.error = response.status();
    }
    actions.send.push_back(std::move(reply));
  };
  if (admission_->expires_at) {
    int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.SystemNow().time_since_epoch())
            .count();
    if (now >= *admission_->expires_at) {
      respond_now(Status(ErrorCode::kUnauthorized,
                         "the token this connection sent in hello has expired; send hello with "
                         "a fresh token"));
      return;
    }
  }
  if (!msg.request.ok()) {
    respond_now(msg.request.status());
    return;
  }
  WsRequest& req = *msg.request;
  auto needs = [&](int version) {
    if (subprotocol_.version >= version) {
      return true;
    }
    Violate(PolicyViolation("`" + req.name + "` needs Hrana " + std::to_string(version) +
                            " or later; this socket negotiated hrana" +
                            std::to_string(subprotocol_.version)),
            actions);
    return false;
  };
  auto find_stream = [&](int32_t id) -> std::shared_ptr<StreamState> {
    auto it = streams_.find(id);
    if (it == streams_.end()) {
      Violate(PolicyViolation(req.name + ": stream " + std::to_string(id) +
                              " is not open on this connection (open_stream first)"),
              actions);
      return nullptr;
    }
    return it->second;
  };
  // The stream of a request that runs SQL, or the error the request gets.
  auto usable = [](StreamState& st) -> Status {
    if (!st.stream) {
      return Status(st.open_error.code(), "stream " + std::to_string(st.id) +
                                              " failed to open: " + st.open_error.message());
    }
    return st.stream->CheckUsable();
  };
  auto self = shared_from_this();

  switch (req.type) {
    case WsRequest::Type::kOpenStream: {
      if (streams_.count(req.stream_id) != 0) {
        Violate(PolicyViolation("open_stream: stream " + std::to_string(req.stream_id) +
                                " is already open on this connection"),
                actions);
        return;
      }
      if (streams_.size() >= limits_.max_stream_ids) {
        Violate(PolicyViolation("open_stream: this connection already uses " +
                                std::to_string(limits_.max_stream_ids) +
                                " stream ids, its limit; close streams first"),
                actions);
        return;
      }
      auto st = std::make_shared<StreamState>(req.stream_id);
      streams_.emplace(req.stream_id, st);
      Schedule(
          st,
          [self, st, request_id, owner = admission_->owner] {
            Result<std::unique_ptr<Stream>> opened = self->hrana_.NewStream(owner);
            if (!opened.ok()) {
              st->open_error = opened.status();
              return Reply{request_id, opened.status()};
            }
            st->stream = std::move(*opened);
            return Reply{request_id, TypeOnly(WsRequest::Type::kOpenStream)};
          },
          actions);
      return;
    }
    case WsRequest::Type::kCloseStream: {
      auto st = find_stream(req.stream_id);
      if (!st) {
        return;
      }
      streams_.erase(req.stream_id);
      if (st->cursor_id) {
        cursors_.erase(*st->cursor_id);
        st->cursor_id.reset();
      }
      Schedule(
          st,
          [self, st, request_id] {
            self->Release(*st);
            return Reply{request_id, TypeOnly(WsRequest::Type::kCloseStream)};
          },
          actions);
      return;
    }
    case WsRequest::Type::kStream: {
      Request& request = req.stream;
      if (request.type == Request::Type::kSequence || request.type == Request::Type::kDescribe) {
        if (!needs(2)) {
          return;
        }
      } else if (request.type == Request::Type::kGetAutocommit && !needs(3)) {
        return;
      }
      auto st = find_stream(req.stream_id);
      if (!st) {
        return;
      }
      Status resolved = request.type == Request::Type::kExecute
                            ? ResolveSql(request.stmt.sql, request.stmt.sql_id)
                        : request.type == Request::Type::kBatch
                            ? ResolveBatch(request.batch)
                            : ResolveSql(request.sql, request.sql_id);
      if (!resolved.ok()) {
        respond_now(resolved);
        return;
      }
      bool lone_read = limits_.inline_read_budget.count() > 0 && !st->running &&
                       st->queue.empty() && !st->cursor_id &&
                       request.type == Request::Type::kExecute && request.stmt.sql &&
                       sql::IsPlainRead(*request.stmt.sql);
      Job job = [self, st, request_id, request = std::move(request), usable] {
        Status ok = usable(*st);
        if (!ok.ok()) {
          return Reply{request_id, ok};
        }
        st->stream->BeginResponse();
        Result<StreamResponse> handled = st->stream->Handle(request);
        if (!handled.ok()) {
          return Reply{request_id, handled.status()};
        }
        WsResponse response = TypeOnly(WsRequest::Type::kStream);
        response.stream = std::move(*handled);
        return Reply{request_id, std::move(response)};
      };
      if (lone_read) {
        st->running = true;
        actions.inline_reads.emplace_back(st, std::move(job));
      } else {
        Schedule(st, std::move(job), actions);
      }
      return;
    }
    case WsRequest::Type::kStoreSql: {
      if (!needs(2)) {
        return;
      }
      const StreamLimits& limits = hrana_.streams().limits();
      if (sqls_.count(req.sql_id) != 0) {
        respond_now(Status(ErrorCode::kSqlIdExists,
                           "sql_id " + std::to_string(req.sql_id) + " is already stored"));
      } else if (sqls_.size() >= limits.max_stored_sql) {
        respond_now(Status(ErrorCode::kTooManyStoredSql, "a connection may store at most " +
                                                             std::to_string(limits.max_stored_sql) +
                                                             " SQL texts"));
      } else if (req.sql.size() > limits.max_sql_bytes ||
                 sql_bytes_ + req.sql.size() > limits.max_stored_sql_bytes) {
        respond_now(Status(ErrorCode::kStoredSqlTooLarge,
                           "storing this SQL text would exceed the connection's limit (" +
                               std::to_string(limits.max_sql_bytes >> 10) + " KiB per text, " +
                               std::to_string(limits.max_stored_sql_bytes >> 20) +
                               " MiB in all); close_sql texts no longer needed"));
      } else {
        sql_bytes_ += req.sql.size();
        sqls_.emplace(req.sql_id, std::move(req.sql));
        respond_now(TypeOnly(WsRequest::Type::kStoreSql));
      }
      return;
    }
    case WsRequest::Type::kCloseSql: {
      if (!needs(2)) {
        return;
      }
      if (auto it = sqls_.find(req.sql_id); it != sqls_.end()) {
        sql_bytes_ -= it->second.size();
        sqls_.erase(it);
      }
      respond_now(TypeOnly(WsRequest::Type::kCloseSql));
      return;
    }
    case WsRequest::Type::kOpenCursor: {
      if (!needs(3)) {
        return;
      }
      auto st = find_stream(req.stream_id);
      if (!st) {
        return;
      }
      if (st->cursor_id) {
        Violate(PolicyViolation("open_cursor: stream " + std::to_string(req.stream_id) +
                                " already has cursor " + std::to_string(*st->cursor_id) +
                                " open (close_cursor first)"),
                actions);
        return;
      }
      if (cursors_.count(req.cursor_id) != 0) {
        Violate(PolicyViolation("open_cursor: cursor " + std::to_string(req.cursor_id) +
                                " is already open on this connection"),
                actions);
        return;
      }
      cursors_.emplace(req.cursor_id, req.stream_id);
      st->cursor_id = req.cursor_id;
      Status resolved = ResolveBatch(req.batch);
      Schedule(
          st,
          [self, st, request_id, resolved, batch = std::move(req.batch), usable] {
            st->cursor.emplace();
            Status ok = resolved.ok() ? usable(*st) : resolved;
            if (!ok.ok()) {
              st->cursor->error = ok;
              return Reply{request_id, ok};
            }
            st->stream->BeginResponse();
            QueuedEntries queued(st->cursor->entries);
            CursorWriter(queued).Run(*st->stream, batch);
            return Reply{request_id, TypeOnly(WsRequest::Type::kOpenCursor)};
          },
          actions);
      return;
    }
    case WsRequest::Type::kFetchCursor:
    case WsRequest::Type::kCloseCursor: {
      if (!needs(3)) {
        return;
      }
      auto it = cursors_.find(req.cursor_id);
      if (it == cursors_.end()) {
        Violate(PolicyViolation(req.name + ": cursor " + std::to_string(req.cursor_id) +
                                " is not open on this connection"),
                actions);
        return;
      }
      auto st = streams_.at(it->second);
      if (req.type == WsRequest::Type::kCloseCursor) {
        cursors_.erase(it);
        st->cursor_id.reset();
        Schedule(
            st,
            [self, st, request_id] {
              st->cursor.reset();
              return Reply{request_id, TypeOnly(WsRequest::Type::kCloseCursor)};
            },
            actions);
        return;
      }
      Schedule(
          st,
          [self, st, request_id, cursor_id = req.cursor_id, max_count = req.max_count] {
            if (!st->cursor) {
              return Reply{request_id, Status(ErrorCode::kInternal, "cursor not opened")};
            }
            if (!st->cursor->error.ok()) {
              return Reply{request_id,
                           Status(st->cursor->error.code(),
                                  "cursor " + std::to_string(cursor_id) +
                                      " failed to open: " + st->cursor->error.message())};
            }
            WsResponse response = TypeOnly(WsRequest::Type::kFetchCursor);
            auto& queued = st->cursor->entries;
            while (response.entries.size() < max_count && !queued.empty()) {
              response.entries.push_back(std::move(queued.front()));
              queued.pop_front();
            }
            response.done = queued.empty();
            return Reply{request_id, std::move(response)};
          },
          actions);
      return;
    }
  }
}

void WsSession::Schedule(const std::shared_ptr<StreamState>& st, Job job, Actions& actions) {
  st->queue.push_back(std::move(job));
  if (!st->running) {
    st->running = true;
    actions.run.push_back([self = shared_from_this(), st] { self->RunStream(st); });
  }
}

void WsSession::RunStream(const std::shared_ptr<StreamState>& st) {
  StreamManager& manager = hrana_.streams();
  for (;;) {
    Job job;
    bool release = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) {
        st->queue.clear();
        release = true;
      } else if (!st->queue.empty()) {
        job = std::move(st->queue.front());
        st->queue.pop_front();
      } else if (!st->stream) {
        st->running = false;  // nothing in hand: the stream (if any) is held
        return;
      }
    }
    if (release) {
      Release(*st);
      std::lock_guard lock(mutex_);
      st->running = false;
      return;
    }
    if (!job) {
      // Idle: hand the stream to the manager, whose timer still watches its write lock, then
      // look at the queue once more (a job may have come meanwhile).
      st->held_key = manager.Hold(std::move(st->stream));
      continue;
    }
    if (!st->stream && st->held_key != 0) {
      st->stream = manager.TakeHeld(std::exchange(st->held_key, 0));
    }
    Reply reply = job();
    bool idle = false;
    {
      std::lock_guard lock(mutex_);
      idle = st->queue.empty();
    }
    if (idle && st->stream) {
      st->held_key = manager.Hold(std::move(st->stream));
    }
    Respond(reply.request_id, std::move(reply.response));
  }
}

void WsSession::RunInline(const std::shared_ptr<StreamState>& st, Job job) {
  StreamManager& manager = hrana_.streams();
  bool closed = false;
  {
    std::lock_guard lock(mutex_);
    closed = closed_;
  }
  if (closed) {
    Release(*st);
    std::lock_guard lock(mutex_);
    st->running = false;
    return;
  }
  if (!st->stream && st->held_key != 0) {
    st->stream = manager.TakeHeld(std::exchange(st->held_key, 0));
  }
  // Outside a transaction a read holds no lock another request waits for, and interrupting it
  // (past the budget) leaves nothing behind.
  if (st->stream && !st->stream->InTransaction() && st->stream->TryBindIdle()) {
    st->stream->LimitQueryTime(limits_.inline_read_budget);
    Reply reply = job();
    st->stream->LimitQueryTime({});
    bool past_budget =
        !reply.response.ok() && reply.response.status().code() == ErrorCode::kQueryTimeout;
    if (!past_budget) {
      inline_reads_.fetch_add(1, std::memory_order_relaxed);
      st->held_key = manager.Hold(std::move(st->stream));
      bool more = false;
      {
        std::lock_guard lock(mutex_);
        more = !st->queue.empty();
        st->running = more;
      }
      Respond(reply.request_id, std::move(reply.response));
      if (more) {
        executor_([self = shared_from_this(), st] { self->RunStream(st); });
      }
      return;
    }
  }
  {
    std::lock_guard lock(mutex_);
    st->queue.push_front(std::move(job));
  }
  executor_([self = shared_from_this(), st] { self->RunStream(st); });
}

void WsSession::Release(StreamState& st) {
  if (st.held_key != 0) {
    std::unique_ptr<Stream> held = hrana_.streams().TakeHeld(std::exchange(st.held_key, 0));
    held.reset();
  }
  st.stream.reset();
  st.cursor.reset();
}

}  // namespace quarry::protocol
