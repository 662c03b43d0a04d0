#include "http/tls_handshake.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json.hpp>
#include <cassert>
#include <optional>

#include "common/error_code.h"
#include "http/http_session.h"

namespace quarry::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

// The first byte of every TLS record that opens a handshake (ContentType handshake).
constexpr unsigned char kTlsHandshakeRecord = 0x16;
// What is read and thrown away of a plaintext request after the refusal is written, at most.
constexpr size_t kMaxPlaintextDrainBytes = 1 << 20;
constexpr std::chrono::seconds kPlaintextDrainTimeout{5};

class TlsHandshake : public std::enable_shared_from_this<TlsHandshake> {
 public:
  TlsHandshake(Socket socket, SharedState& state)
      : tcp_(std::in_place, std::move(socket)), state_(state) {}

  void Start() {
    net::dispatch(tcp_->get_executor(),
                  beast::bind_front_handler(&TlsHandshake::ReadFirstBytes, shared_from_this()));
  }

 private:
  void ReadFirstBytes() {
    tcp_->expires_after(state_.options.read_timeout);
    tcp_->async_read_some(
        buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
          self->buffer_.commit(n);
          if (ec) {
            self->CloseTcp();
            return;
          }
          const auto* first = static_cast<const unsigned char*>(self->buffer_.data().data());
          if (*first == kTlsHandshakeRecord) {
            self->Handshake();
          } else {
            self->RefusePlaintext();
          }
        });
  }

  void Handshake() {
    std::shared_ptr<ssl::context> context = state_.tls.Current();
    assert(context != nullptr);
    tls_.emplace(std::move(*tcp_), *context);
    tcp_.reset();
    beast::get_lowest_layer(*tls_).expires_after(state_.options.read_timeout);
    // `used = 0`: Boost 1.81 constrains this handler with the unbuffered handshake's signature
    // (error_code) although it calls it with (error_code, bytes used); the default lets the
    // lambda satisfy both.
    tls_->async_handshake(ssl::stream_base::server, buffer_.data(),
                          [self = shared_from_this()](beast::error_code ec, size_t used = 0) {
                            if (ec) {
                              // Not a TLS client after all, or one that does not trust us or
                              // shares no protocol version: nothing to answer in plaintext.
                              beast::error_code ignored;
                              beast::get_lowest_layer(*self->tls_).socket().close(ignored);
                              return;
                            }
                            self->buffer_.consume(used);
                            StartTlsHttpSession(std::move(*self->tls_), std::move(self->buffer_),
                                                self->state_);
                          });
  }

  // A plaintext client: read its request head (so that it is ready to read the answer), answer,
  // then read and discard what else it sends until it closes, so it sees the answer rather than
  // a reset.
  void RefusePlaintext() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    bhttp::async_read_header(
        *tcp_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec == bhttp::error::end_of_stream || ec == net::error::connection_reset ||
              ec == beast::error::timeout || ec == net::error::operation_aborted) {
            self->CloseTcp();
            return;
          }
          self->WriteRefusal();
        });
  }

  void WriteRefusal() {
    auto answer =
        std::make_shared<bhttp::response<bhttp::string_body>>(bhttp::status::bad_request, 11);
    answer->set(bhttp::field::server, "quarry");
    answer->set(bhttp::field::content_type, "application/json");
    answer->set(bhttp::field::access_control_allow_origin, "*");
    answer->body() = boost::json::serialize(boost::json::object{
        {"message",
         "this port speaks HTTPS only: use an https:// URL (wss:// for WebSocket), not http:// "
         "or ws://"},
        {"code", WireCodeOf(ErrorCode::kInvalidArgument)}});
    answer->keep_alive(false);
    answer->prepare_payload();
    tcp_->expires_after(state_.options.write_timeout);
    bhttp::async_write(*tcp_, *answer,
                       [self = shared_from_this(), answer](beast::error_code ec, size_t) {
                         if (ec) {
                           self->CloseTcp();
                           return;
                         }
                         beast::error_code ignored;
                         self->tcp_->socket().shutdown(tcp::socket::shutdown_send, ignored);
                         self->tcp_->expires_after(kPlaintextDrainTimeout);
                         self->Drain();
                       });
  }

  void Drain() {
    buffer_.clear();
    if (drained_bytes_ > kMaxPlaintextDrainBytes) {
      CloseTcp();
      return;
    }
    tcp_->async_read_some(buffer_.prepare(16384),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            self->drained_bytes_ += n;
                            if (ec) {
                              self->CloseTcp();
                            } else {
                              self->Drain();
                            }
                          });
  }

  void CloseTcp() {
    beast::error_code ignored;
    tcp_->socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_->socket().close(ignored);
  }

  // The connection is on tcp_ until the handshake starts, then on tls_.
  std::optional<TcpStream> tcp_;
  std::optional<TlsStream> tls_;
  SharedState& state_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> parser_;
  size_t drained_bytes_ = 0;
};

}  // namespace

void StartTlsHandshake(Socket socket, SharedState& state) {
  std::make_shared<TlsHandshake>(std::move(socket), state)->Start();
}

}  // namespace quarry::http
