#include "http/http_session.h"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>
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

constexpr std::string_view kCorsAllowHeaders =
    "Authorization, Content-Type, x-namespace, x-libsql-client-version";

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

// The transport-neutral form of a parsed request (the body is moved out of `message`).
Request ToRequest(bhttp::request<bhttp::string_body>& message, const tcp::socket& socket) {
  Request request;
  request.method = std::string(message.method_string());
  std::string_view target = message.target();
  size_t q = target.find('?');
  request.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    request.query = std::string(target.substr(q + 1));
  }
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(message.body());
  beast::error_code endpoint_ec;
  auto remote = socket.remote_endpoint(endpoint_ec);
  if (!endpoint_ec) {
    request.remote_address = remote.address().to_string();
  }
  return request;
}

// One client connection: reads requests one after another and writes their responses.
// `Stream` is the byte stream under HTTP: beast::tcp_stream, or beast::ssl_stream over one.
template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  // `buffer`: bytes already read from the stream (past a TLS handshake).
  HttpSession(Stream stream, SharedState& state, beast::flat_buffer buffer = {})
      : stream_(std::move(stream)), state_(state), buffer_(std::move(buffer)) {}

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&HttpSession::Read, this->shared_from_this()));
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  auto& lowest() { return beast::get_lowest_layer(stream_); }

  void Read() {
    parser_.emplace();
    parser_->body_limit(state_.options.max_body_bytes);
    parser_->header_limit(64 * 1024);
    lowest().expires_after(state_.options.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&HttpSession::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::connection_reset ||
        ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::ssl::error::stream_truncated) {
      // stream_truncated: a TLS client that closed its socket without a close_notify, as
      // many do between requests.
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
    // The read timer must not run while the request is handled: a request may wait for the
    // write lock longer than what is left of it after an idle keep-alive. Write sets its own.
    lowest().expires_never();
    auto message = parser_->release();
    keep_alive_ = message.keep_alive();
    version_ = message.version();
    if (state_.upgrade && beast::websocket::is_upgrade(message)) {
      HandleUpgrade(std::move(message));
      return;
    }
    Request request = ToRequest(message, lowest().socket());

    if (request.method == "OPTIONS") {
      Response preflight;
      preflight.status = 204;
      preflight.content_type.clear();
      Write(std::move(preflight));
      return;
    }
    // The handler may answer from any thread; the write goes back through our executor. Only
    // the first answer counts: a handler that answers and then throws must not write twice.
    auto self = this->shared_from_this();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Responder responder = [self, answered](Response response) {
      if (answered->exchange(true)) {
        return;
      }
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Write(std::move(response), /*counted=*/true);
      });
    };
    state_.in_flight.fetch_add(1);
    try {
      state_.handler(std::move(request), responder);
    } catch (const std::exception& e) {
      responder(ErrorResponse(ErrorCode::kInternal, std::string("internal error: ") + e.what()));
    } catch (...) {
      responder(ErrorResponse(ErrorCode::kInternal, "internal error"));
    }
  }

  // A WebSocket upgrade: refused with an HTTP answer, or the socket goes to a WebSocketSession.
  void HandleUpgrade(bhttp::request<bhttp::string_body> message) {
    bhttp::request<bhttp::string_body> copy = message;  // ToRequest takes the (empty) body
    Request request = ToRequest(copy, lowest().socket());
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
    StartWebSocketSession(std::move(stream_), std::move(message), std::move(upgrade), state_);
  }

  // `counted`: the response answers a request counted in in_flight, released once written.
  void Write(Response response, bool counted = false) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), version_);
    res->set(bhttp::field::server, "quarry");
    if (!response.content_type.empty()) {
      res->set(bhttp::field::content_type, response.content_type);
    }
    res->set(bhttp::field::access_control_allow_origin, "*");
    res->set(bhttp::field::access_control_allow_methods, "GET, POST, PATCH, DELETE, OPTIONS");
    res->set(bhttp::field::access_control_allow_headers, kCorsAllowHeaders);
    res->set(bhttp::field::access_control_max_age, "86400");
    for (auto& [name, value] : response.headers) {
      res->set(name, value);
    }
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    lowest().expires_after(state_.options.write_timeout);
    bhttp::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res, counted](beast::error_code ec, size_t) {
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

  // After refusing an oversized body: stop sending, then read and discard what the client is
  // still sending (bounded in bytes and time), so it sees our 413 rather than a reset.
  void Drain() {
    if (!drain_started_) {
      drain_started_ = true;
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
    if constexpr (kTls) {
      if (!tls_shutdown_started_) {
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
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().socket().close(ec);
  }

  Stream stream_;
  SharedState& state_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  static constexpr size_t kMaxDrainBytes = 256 << 20;
  bool drain_after_write_ = false;
  bool drain_started_ = false;
  size_t drained_bytes_ = 0;
  bool tls_shutdown_started_ = false;
  std::array<char, 16384> drain_buffer_{};
};

}  // namespace

void StartPlainHttpSession(tcp::socket socket, SharedState& state) {
  std::make_shared<HttpSession<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), state)
      ->Start();
}

void StartTlsHttpSession(beast::ssl_stream<beast::tcp_stream> stream, beast::flat_buffer buffer,
                         SharedState& state) {
  std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(std::move(stream), state,
                                                                      std::move(buffer))
      ->Start();
}

}  // namespace quarry::http
