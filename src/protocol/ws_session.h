#pragma once

// WsSession: the Hrana semantics of one WebSocket connection, independent of the socket. The
// transport hands it each frame in order of arrival; it answers through a WsOutput.
//
//  - hello authenticates (on the executor, as token checks may block); requests that arrive
//    while it is checked wait for it, a request before any hello is a protocol violation, and
//    a later hello re-authenticates: streams opened after it use its access, streams already
//    open keep theirs. A hello that fails is answered hello_error and the socket is closed.
//    A request arriving after the hello's token expired is refused (UNAUTHORIZED).
//  - streams (open_stream/close_stream) are the HTTP streams (protocol/stream.h): the same
//    limits, access rules and errors. Between requests a stream is held by the StreamManager,
//    which does not close it for idling (the socket bounds its life) but still rolls back a
//    transaction holding the write lock past the limit.
//  - SQL texts (store_sql/close_sql) belong to the connection, with the per-stream limits of
//    StreamLimits; a request's sql_id is resolved when the request arrives.
//  - cursors run their batch when opened and keep its entries (bounded like an HTTP cursor's
//    response) for fetch_cursor.
//  - requests on one stream run in order on the executor, one at a time; different streams run
//    in parallel and responses go out as they finish.
//  - connection-level misuse (an unknown stream or cursor id, an id reused while open, a
//    request the negotiated version lacks, a frame the codec cannot decode) closes the socket
//    with a code and reason; a request whose body is invalid gets a response_error.
//
// Thread-safe. Create with std::make_shared: work on the executor keeps the session alive.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "protocol/hrana_service.h"
#include "protocol/stream.h"
#include "protocol/ws_codec.h"
#include "protocol/ws_message.h"

namespace quarry::protocol {

// What a successful hello grants.
struct WsAdmission {
  StreamOwner owner;
  std::optional<int64_t> expires_at;  // unix seconds; none: never
};

// Checks a hello's token (null: none sent). Runs on the executor.
using WsAuthenticator = std::function<Result<WsAdmission>(const std::optional<std::string>& jwt)>;
// Runs a task that may block (SQLite, token checks) off the I/O thread.
using WsExecutor = std::function<void(std::function<void()>)>;

// Where a session's frames go. Thread-safe; calls after the socket closed are ignored. The
// session may call it with its own lock held: it must queue the frame and return, never call
// back into the session.
class WsOutput {
 public:
  virtual ~WsOutput() = default;
  virtual void Send(std::string frame, bool binary) = 0;
  // Closes the socket after the frames already sent.
  virtual void Close(WsCloseCode code, std::string reason) = 0;
};

struct WsLimits {
  // Requests received and not yet answered; past it ReadyForMore() is false, so the transport
  // stops reading and TCP's flow control slows the client.
  size_t max_outstanding_requests = 128;
  // Stream ids in use on one socket (open, or failed to open and not yet closed).
  size_t max_stream_ids = 1024;
  // A lone read (an execute of a plain SELECT, sql::IsPlainRead, on an idle stream outside a
  // transaction) runs on the
  // thread that received it when it finishes within this budget; else it is interrupted and
  // runs on the executor. 0: every request goes to the executor.
  std::chrono::microseconds inline_read_budget{0};
};

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(WsSubprotocol subprotocol, std::unique_ptr<WsCodec> codec, HranaService& hrana,
            WsAuthenticator authenticate, WsExecutor executor, std::shared_ptr<WsOutput> output,
            const Clock& clock, WsLimits limits = {});
  // Releases the streams still open (inline, rolling back their transactions).
  ~WsSession();
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  // One frame from the client, in order of arrival. Must not be called concurrently.
  void OnFrame(std::string_view frame, bool binary);
  // False while the client has max_outstanding_requests unanswered, or after the session
  // closed. Re-ask after each frame sent.
  bool ReadyForMore();
  // The socket is gone: drops queued work, closes every stream (on the executor). Idempotent.
  void Shutdown();

  size_t outstanding();
  size_t open_streams();
  // Lone reads answered on the thread that received them (WsLimits::inline_read_budget).
  uint64_t inline_reads() const { return inline_reads_.load(std::memory_order_relaxed); }

 private:
  struct CursorState {
    Status error;  // the open_cursor failed: fetch_cursor reports it
    std::deque<CursorEntry> entries;
  };
  // A request's answer, sent by the stream's runner once the stream is back with the manager
  // when nothing else is queued on it (so the answer never precedes the write-lock timer).
  struct Reply {
    int32_t request_id = 0;
    Result<WsResponse> response = WsResponse();
  };
  using Job = std::function<Reply()>;
  // One stream id of the connection.
  struct StreamState {
    explicit StreamState(int32_t id) : id(id) {}
    const int32_t id;
    // GUARDED_BY(mutex_):
    std::deque<Job> queue;
    bool running = false;  // a runner is on the executor
    std::optional<int32_t> cursor_id;
    // Touched only by the running job (one at a time):
    std::unique_ptr<Stream> stream;  // while jobs run; between them held by the StreamManager
    uint64_t held_key = 0;           // 0: not held
    Status open_error;               // why open_stream failed
    std::optional<CursorState> cursor;
  };
  // What a message led to, done once mutex_ is released.
  struct Actions {
    std::vector<std::function<void()>> run;  // to the executor
    // Lone reads, tried on this thread (RunInline) after the rest.
    std::vector<std::pair<std::shared_ptr<StreamState>, Job>> inline_reads;
    std::vector<ServerMsg> send;
    std::optional<WsViolation> close;
  };

  void Dispatch(ClientMsg msg, Actions& actions);                     // requires mutex_
  void DispatchRequest(ClientMsg& msg, Actions& actions);             // requires mutex_
  void StartHello(std::optional<std::string> jwt, Actions& actions);  // requires mutex_
  void OnHelloDone(Result<WsAdmission> admission);
  // Queues `job` on the stream; starts its runner when idle. Requires mutex_.
  void Schedule(const std::shared_ptr<StreamState>& st, Job job, Actions& actions);
  void RunStream(const std::shared_ptr<StreamState>& st);
  // Runs a lone read's `job` here within the inline budget; when the stream is in a
  // transaction or the read runs past the budget, hands it to the executor (ahead of anything
  // queued on the stream since). The stream is marked running.
  void RunInline(const std::shared_ptr<StreamState>& st, Job job);
  // Closes the session for `violation`. Requires mutex_.
  void Violate(WsViolation violation, Actions& actions);
  // Marks the session closed and hands every idle stream to a release task. Requires mutex_.
  void CloseLocked(Actions& actions);
  void Perform(Actions& actions);
  void Respond(int32_t request_id, Result<WsResponse> response);
  // Encodes `msg` and hands it to the output; with or without mutex_ held.
  void Send(const ServerMsg& msg);
  // The SQL of sql/sql_id, resolved against the connection's texts. Requires mutex_.
  Status ResolveSql(std::optional<std::string>& sql, std::optional<int64_t>& sql_id);
  Status ResolveBatch(BatchSpec& batch);  // requires mutex_
  // Frees a stream state's stream (held or in hand). Blocks on SQLite.
  void Release(StreamState& st);

  const WsSubprotocol subprotocol_;
  const std::unique_ptr<WsCodec> codec_;
  HranaService& hrana_;
  const WsAuthenticator authenticate_;
  const WsExecutor executor_;
  const std::shared_ptr<WsOutput> output_;
  const Clock& clock_;
  const WsLimits limits_;

  std::mutex mutex_;
  bool closed_ = false;                   // GUARDED_BY(mutex_)
  bool hello_seen_ = false;               // GUARDED_BY(mutex_)
  bool hello_running_ = false;            // GUARDED_BY(mutex_)
  std::optional<WsAdmission> admission_;  // GUARDED_BY(mutex_)
  std::deque<ClientMsg> pending_;         // GUARDED_BY(mutex_); waiting for a hello's check
  size_t outstanding_ = 0;                // GUARDED_BY(mutex_)
  std::atomic<uint64_t> inline_reads_{0};
  std::unordered_map<int32_t, std::shared_ptr<StreamState>> streams_;  // GUARDED_BY(mutex_)
  std::unordered_map<int32_t, int32_t> cursors_;   // cursor id -> stream id; GUARDED_BY(mutex_)
  std::unordered_map<int32_t, std::string> sqls_;  // GUARDED_BY(mutex_)
  size_t sql_bytes_ = 0;                           // GUARDED_BY(mutex_)
};

}  // namespace quarry::protocol
