#include "http/http_session.h"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>
#include <type_traits>

#include "common/error_code.h"
#include "http/websocket_session.h"

namespace quarry::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string ErrorBody(ErrorCode code, std::string_view message) {
  return boost::json::serialize(
      boost::json::object{{"message", message}, {"code", WireCodeOf(code)}});
}

Response ErrorResponse(ErrorCode code, std::string_view message) {
  Response response;
  response.status = HttpStatusOf(code);
  response.body = ErrorBody(code, message);
  return response;
}

// Beast's HTTP/1.1 parser writing the request straight into a Request (names lower-cased),
// without building Beast's own message first.
class RequestParser : public bhttp::basic_parser<true> {
 public:
  Request request;
  unsigned version = 11;

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int http_version, beast::error_code&) override {
    version = static_cast<unsigned>(http_version);
    request.headers.reserve(8);  // what clients send, in one allocation
    request.method.assign(method.data(), method.size());
    size_t q = target.find('?');
    request.path.assign(target.data(), std::min(q, target.size()));
    if (q != beast::string_view::npos) {
      request.query.assign(target.data() + q + 1, target.size() - q - 1);
    }
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    auto& [lower, text] = request.headers.emplace_back(std::string(name.data(), name.size()),
                                                       std::string(value.data(), value.size()));
    for (char& c : lower) {
      c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;  // header names are ASCII
    }
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         beast::error_code&) override {
    if (content_length) {
      request.body.reserve(static_cast<size_t>(*content_length));  // within body_limit
    }
  }
  size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    request.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code&) override {
    request.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}
};

// Beast's form of an upgrade request, which its WebSocket handshake reads.
bhttp::request<bhttp::string_body> ToBeastRequest(const Request& request, unsigned version) {
  bhttp::request<bhttp::string_body> message;
  message.method_string(request.method);
  message.target(request.query.empty() ? request.path : request.path + "?" + request.query);
  message.version(version);
  for (const auto& [name, value] : request.headers) {
    message.insert(name, value);
  }
  message.body() = request.body;
  return message;
}

// The headers every response carries after Server (CORS: browsers call Quarry directly).
constexpr std::string_view kFixedHeaders =
    "Access-Control-Allow-Origin: *\r\n"
    "Access-Control-Allow-Methods: GET, POST, PATCH, DELETE, OPTIONS\r\n"
    "Access-Control-Allow-Headers: Authorization, Content-Type, x-namespace, "
    "x-libsql-client-version\r\n"
    "Access-Control-Max-Age: 86400\r\n";

// The writer of a streamed body (Response::stream): hands chunks to its session's executor.
class StreamWriter : public BodyWriter {
 public:
  StreamWriter(std::function<void(std::string)> write, std::function<void()> end)
      : write_(std::move(write)), end_(std::move(end)) {}
  void Write(std::string bytes) override {
    if (gone_.load(std::memory_order_acquire)) {
      return;
    }
    queued_.fetch_add(bytes.size(), std::memory_order_relaxed);
    write_(std::move(bytes));
  }
  void End() override {
    if (!gone_.load(std::memory_order_acquire)) {
      end_();
    }
  }
  size_t QueuedBytes() const override { return queued_.load(std::memory_order_relaxed); }
  void Sent(size_t bytes) { queued_.fetch_sub(bytes, std::memory_order_relaxed); }
  void Gone() { gone_.store(true, std::memory_order_release); }

 private:
  const std::function<void(std::string)> write_;
  const std::function<void()> end_;
  std::atomic<size_t> queued_{0};
  std::atomic<bool> gone_{false};
};

// One client connection: reads requests one after another and writes their responses.
// `Stream` is the byte stream under HTTP: TcpStream, or TlsStream over one.
//
// Timeouts: one timer per connection checks the phase the connection is in (reading a request,
// writing an answer) against the time that phase began, rather than arming and cancelling a
// timer around every read and write.
template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  // `buffer`: bytes already read from the stream (past a TLS handshake).
  HttpSession(Stream stream, SharedState& state, beast::flat_buffer buffer = {})
      : stream_(std::move(stream)),
        state_(state),
        buffer_(std::move(buffer)),
        watchdog_(stream_.get_executor()) {}

  void Start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      self->lowest().expires_never();  // the TLS handshake's limit; the watchdog takes over
      beast::error_code ec;
      auto remote = self->lowest().socket().remote_endpoint(ec);
      if (!ec) {
        self->remote_address_ = remote.address().to_string();
      }
      self->Read();
      self->ArmWatchdog(self->state_.options.read_timeout);
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, TcpStream>;
  using Clock = std::chrono::steady_clock;
  // What the connection is doing, for the watchdog: only reading and writing are timed.
  enum class Phase { kReading, kHandling, kWriting, kClosing };

  auto& lowest() { return beast::get_lowest_layer(stream_); }

  void EnterPhase(Phase phase) {
    phase_ = phase;
    phase_start_ = Clock::now();
  }

  void ArmWatchdog(std::chrono::milliseconds after) {
    watchdog_.expires_after(after);
    watchdog_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (!ec && self != nullptr) {
        self->OnWatchdog();
      }
    });
  }

  void OnWatchdog() {
    std::chrono::milliseconds limit = state_.options.read_timeout;
    if (phase_ == Phase::kClosing) {
      return;  // Close and Drain set the stream's own limits
    }
    if (phase_ == Phase::kWriting) {
      limit = state_.options.write_timeout;
    }
    if (phase_ == Phase::kHandling) {
      ArmWatchdog(limit);  // not timed: a request may wait for the write lock
      return;
    }
    auto elapsed = Clock::now() - phase_start_;
    if (elapsed >= limit) {
      // A client too slow to send its request (or an idle keep-alive), or to take its answer.
      phase_ = Phase::kClosing;
      CloseSocket();
      return;
    }
    ArmWatchdog(std::chrono::ceil<std::chrono::milliseconds>(limit - elapsed));
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(state_.options.max_body_bytes);
    parser_->header_limit(64 * 1024);
    EnterPhase(Phase::kReading);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&HttpSession::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::connection_reset ||
        ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::error::bad_descriptor || ec == net::ssl::error::stream_truncated) {
      // stream_truncated: a TLS client that closed its socket without a close_notify, as
      // many do between requests. operation_aborted/bad_descriptor: the watchdog closed it.
      Close();
      return;
    }
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      drain_after_write_ = true;
      Write(ErrorResponse(ErrorCode::kPayloadTooLarge,
                          "request body is larger than the limit of " +
                              std::to_string(state_.options.max_body_bytes) + " bytes"));
      return;
    }
    if (ec) {
      keep_alive_ = false;
      Write(ErrorResponse(ErrorCode::kInvalidArgument, "malformed HTTP request: " + ec.message()));
      return;
    }
    // Not timed while the request is handled: it may wait for the write lock longer than what
    // is left of the read timeout after an idle keep-alive. Write starts its own.
    phase_ = Phase::kHandling;  // untimed: no clock reading
    keep_alive_ = parser_->keep_alive();
    version_ = parser_->version;
    Request request = std::move(parser_->request);
    request.remote_address = remote_address_;
    if (state_.upgrade && parser_->upgrade()) {
      auto message = ToBeastRequest(request, version_);
      if (beast::websocket::is_upgrade(message)) {
        HandleUpgrade(std::move(request), std::move(message));
        return;
      }
    }

    if (request.method == "OPTIONS") {
      Response preflight;
      preflight.status = 204;
      preflight.content_type = {};
      Write(std::move(preflight));
      return;
    }
    // The handler may answer from any thread; the write goes back through our executor (at
    // once when it answers on this connection's own thread). Only the first answer counts: a
    // handler that answers and then throws must not write twice.
    auto self = this->shared_from_this();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    // The handler takes its responder; a throw gets another one sharing `answered`.
    auto responder = [&self, &answered] {
      return Responder([self, answered](Response response) {
        if (answered->exchange(true)) {
          return;
        }
        net::dispatch(self->stream_.get_executor(),
                      [self, response = std::move(response)]() mutable {
                        self->Write(std::move(response), /*counted=*/true);
                      });
      });
    };
    state_.in_flight.fetch_add(1);
    try {
      state_.handler(std::move(request), responder());
    } catch (const std::exception& e) {
      responder()(ErrorResponse(ErrorCode::kInternal, std::string("internal error: ") + e.what()));
    } catch (...) {
      responder()(ErrorResponse(ErrorCode::kInternal, "internal error"));
    }
  }

  // A WebSocket upgrade: refused with an HTTP answer, or the socket goes to a WebSocketSession.
  void HandleUpgrade(Request request, bhttp::request<bhttp::string_body> message) {
    http::Upgrade upgrade;
    try {
      upgrade = state_.upgrade(request);
    } catch (const std::exception& e) {
      upgrade.refusal =
          ErrorResponse(ErrorCode::kInternal, std::string("internal error: ") + e.what());
    }
    if (upgrade.refusal || !upgrade.accept) {
      keep_alive_ = false;
      Write(upgrade.refusal ? std::move(*upgrade.refusal)
                            : ErrorResponse(ErrorCode::kInternal, "upgrade not handled"));
      return;
    }
    phase_ = Phase::kClosing;  // the socket is the WebSocket's now
    watchdog_.cancel();
    StartWebSocketSession(std::move(stream_), std::move(message), std::move(upgrade), state_);
  }

  // The status line and headers of `response` into head_ (its body goes out as it is).
  void FormatHead(const Response& response, bool streamed = false) {
    head_.clear();
    head_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    head_ += std::to_string(response.status);
    head_ += ' ';
    beast::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
    head_.append(reason.data(), reason.size());
    head_ += "\r\nServer: quarry\r\n";
    if (!response.content_type.empty()) {
      head_ += "Content-Type: ";
      head_ += response.content_type;
      head_ += "\r\n";
    }
    head_ += kFixedHeaders;
    for (const auto& [name, value] : response.headers) {
      head_ += name;
      head_ += ": ";
      head_ += value;
      head_ += "\r\n";
    }
    bool bodyless = response.status < 200 || response.status == 204 || response.status == 304;
    if (streamed) {
      // HTTP/1.0 has no chunks: its body simply ends with the connection.
      head_ += version_ == 10 ? "Cache-Control: no-cache\r\n"
                              : "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n";
    } else if (!bodyless) {
      head_ += "Content-Length: ";
      head_ += std::to_string(response.body.size());
      head_ += "\r\n";
    }
    if (version_ == 10 && keep_alive_) {
      head_ += "Connection: keep-alive\r\n";
    } else if (version_ != 10 && !keep_alive_) {
      head_ += "Connection: close\r\n";
    }
    head_ += "\r\n";
  }

  // `counted`: the response answers a request counted in in_flight, released once written.
  void Write(Response response, bool counted = false) {
    if (response.stream) {
      StartStream(std::move(response), counted);
      return;
    }
    FormatHead(response);
    body_ = std::move(response.body);
    if (phase_ != Phase::kClosing) {
      EnterPhase(Phase::kWriting);
    }
    std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(body_)};
    if constexpr (kTls) {
      // One buffer: Beast's ssl_stream writes nothing for a sequence that starts with an empty
      // buffer and continues with one over 16 KiB (what the second round of a two-buffer write
      // is once the head is out), and async_write takes that as the end.
      head_ += body_;
      buffers = {net::buffer(head_), net::const_buffer()};
    }
    net::async_write(stream_, buffers,
                     [self = this->shared_from_this(), counted](beast::error_code ec, size_t) {
                       if (counted) {
                         self->state_.in_flight.fetch_sub(1);
                       }
                       self->OnWrite(ec);
                     });
  }

  void OnWrite(beast::error_code ec) {
    if (!ec && drain_after_write_) {
      Drain();
      return;
    }
    if (ec || !keep_alive_) {
      Close();
      return;
    }
    Read();
  }

  // A streamed body: the head, then the handler's chunks as it writes them, until it ends the
  // body or the client goes. The connection reads on meanwhile only to see the client leave.
  void StartStream(Response response, bool counted) {
    keep_alive_ = false;
    FormatHead(response, /*streamed=*/true);
    stream_start_ = std::move(response.stream);
    EnterPhase(Phase::kWriting);
    net::async_write(stream_, net::buffer(head_),
                     [self = this->shared_from_this(), counted](beast::error_code ec, size_t) {
                       if (counted) {
                         self->state_.in_flight.fetch_sub(1);
                       }
                       if (ec) {
                         self->EndStream();
                         return;
                       }
                       self->OnStreamHead();
                     });
  }

  void OnStreamHead() {
    phase_ = Phase::kHandling;  // untimed while nothing is being written
    std::weak_ptr<HttpSession> weak = this->shared_from_this();
    auto executor = stream_.get_executor();
    writer_ = std::make_shared<StreamWriter>(
        [weak, executor](std::string bytes) {
          net::post(executor, [weak, bytes = std::move(bytes)]() mutable {
            if (auto self = weak.lock()) {
              self->QueueChunk(std::move(bytes));
            }
          });
        },
        [weak, executor] {
          net::post(executor, [weak] {
            if (auto self = weak.lock()) {
              self->stream_ending_ = true;
              self->WriteChunks();
            }
          });
        });
    auto start = std::move(stream_start_);
    stream_start_ = nullptr;
    try {
      on_stream_end_ = start(writer_);
    } catch (...) {
      EndStream();  // the handler could not start the body: end it rather than leave it open
      return;
    }
    WatchForLeaving();
    WriteChunks();
  }

  void WatchForLeaving() {
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) {
                                self->EndStream();
                              } else {
                                self->WatchForLeaving();  // a client sends nothing here
                              }
                            });
  }

  void QueueChunk(std::string bytes) {
    if (stream_done_ || stream_ending_) {
      writer_->Sent(bytes.size());
      return;
    }
    size_t raw = bytes.size();
    if (bytes.empty()) {
      return;  // an empty chunk would end the body
    }
    if (version_ != 10) {
      char size[24];
      std::snprintf(size, sizeof(size), "%zx\r\n", bytes.size());
      bytes.insert(0, size);
      bytes += "\r\n";
    }
    chunks_.emplace_back(std::move(bytes), raw);
    WriteChunks();
  }

  void WriteChunks() {
    if (chunk_writing_ || stream_done_) {
      return;
    }
    if (chunks_.empty()) {
      if (!stream_ending_) {
        return;
      }
      if (version_ == 10 || ended_written_) {
        EndStream();
        return;
      }
      ended_written_ = true;
      chunks_.emplace_back("0\r\n\r\n", 0);
    }
    chunk_writing_ = true;
    EnterPhase(Phase::kWriting);
    net::async_write(stream_, net::buffer(chunks_.front().first),
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       self->chunk_writing_ = false;
                       if (self->stream_done_) {
                         return;  // EndStream counted and dropped what was left
                       }
                       self->phase_ = Phase::kHandling;
                       self->writer_->Sent(self->chunks_.front().second);
                       self->chunks_.pop_front();
                       if (ec) {
                         self->EndStream();
                         return;
                       }
                       self->WriteChunks();
                     });
  }

  // The stream is over (ended, or the client left): the handler hears of it once.
  void EndStream() {
    if (stream_done_) {
      return;
    }
    stream_done_ = true;
    if (writer_) {
      writer_->Gone();
      for (const auto& chunk : chunks_) {
        writer_->Sent(chunk.second);
      }
    }
    // chunks_ stays: a write in flight still reads its front; it goes with the session.
    if (auto on_end = std::move(on_stream_end_)) {
      on_stream_end_ = nullptr;
      on_end();
    }
    // No TLS close_notify: it would read while the read that watches for the client leaving
    // is pending. The body's last chunk has said where it ends.
    phase_ = Phase::kClosing;
    CloseSocket();
  }

  // After refusing an oversized body: stop sending, then read and discard what the client is
  // still sending (bounded in bytes and time), so it sees our 413 rather than a reset.
  void Drain() {
    if (!drain_started_) {
      drain_started_ = true;
      phase_ = Phase::kClosing;
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      lowest().expires_after(std::chrono::seconds(5));
    }
    if (drained_bytes_ > kMaxDrainBytes) {
      CloseSocket();
      return;
    }
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_bytes_ += n;
                              if (ec) {
                                self->CloseSocket();
                              } else {
                                self->Drain();
                              }
                            });
  }

  // Over TLS, sends a close_notify first (bounded in time: a peer that is gone or does not
  // answer it does not hold the socket).
  void Close() {
    phase_ = Phase::kClosing;
    if constexpr (kTls) {
      if (!tls_shutdown_started_ && lowest().socket().is_open()) {
        tls_shutdown_started_ = true;
        lowest().expires_after(std::chrono::seconds(5));
        stream_.async_shutdown(
            [self = this->shared_from_this()](beast::error_code) { self->CloseSocket(); });
        return;
      }
    }
    CloseSocket();
  }

  void CloseSocket() {
    beast::error_code ec;
    watchdog_.cancel();
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().socket().close(ec);
  }

  Stream stream_;
  SharedState& state_;
  beast::flat_buffer buffer_;
  net::steady_timer watchdog_;
  Phase phase_ = Phase::kReading;
  Clock::time_point phase_start_ = Clock::now();
  std::string remote_address_;
  std::optional<RequestParser> parser_;
  std::string head_;  // the response being written: its status line and headers
  std::string body_;  // and its body
  bool keep_alive_ = true;
  unsigned version_ = 11;
  static constexpr size_t kMaxDrainBytes = 256 << 20;
  bool drain_after_write_ = false;
  bool drain_started_ = false;
  size_t drained_bytes_ = 0;
  bool tls_shutdown_started_ = false;
  std::array<char, 16384> drain_buffer_{};
  // A streamed body (StartStream): its writer, chunks (framed, and their unframed size) not
  // yet written, and what to call when it is over.
  std::function<std::function<void()>(std::shared_ptr<BodyWriter>)> stream_start_;
  std::shared_ptr<StreamWriter> writer_;
  std::deque<std::pair<std::string, size_t>> chunks_;
  std::function<void()> on_stream_end_;
  bool chunk_writing_ = false;
  bool stream_ending_ = false;
  bool ended_written_ = false;
  bool stream_done_ = false;
};

}  // namespace

void StartPlainHttpSession(Socket socket, SharedState& state) {
  std::make_shared<HttpSession<TcpStream>>(TcpStream(std::move(socket)), state)->Start();
}

void StartTlsHttpSession(TlsStream stream, beast::flat_buffer buffer, SharedState& state) {
  std::make_shared<HttpSession<TlsStream>>(std::move(stream), state, std::move(buffer))->Start();
}

}  // namespace quarry::http
