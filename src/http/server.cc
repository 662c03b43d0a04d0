#include "http/server.h"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <thread>
#include <vector>

#include "common/error_code.h"

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

// One client connection: reads requests one after another and writes their responses.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const ServerOptions& options, const Handler& handler,
          std::atomic<int>& in_flight)
      : stream_(std::move(socket)), options_(options), handler_(handler), in_flight_(in_flight) {}

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(options_.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::connection_reset ||
        ec == beast::error::timeout || ec == net::error::operation_aborted) {
      Close();
      return;
    }
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      drain_after_write_ = true;
      Write(ErrorResponse(ErrorCode::kPayloadTooLarge, "request body is larger than the limit of " +
                                                           std::to_string(options_.max_body_bytes) +
                                                           " bytes"));
      return;
    }
    if (ec) {
      keep_alive_ = false;
      Write(ErrorResponse(ErrorCode::kInvalidArgument, "malformed HTTP request: " + ec.message()));
      return;
    }
    // The read timer must not run while the request is handled: a request may wait for the
    // write lock longer than what is left of it after an idle keep-alive. Write sets its own.
    stream_.expires_never();
    auto message = parser_->release();
    keep_alive_ = message.keep_alive();
    version_ = message.version();

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
    auto remote = stream_.socket().remote_endpoint(endpoint_ec);
    if (!endpoint_ec) {
      request.remote_address = remote.address().to_string();
    }

    if (request.method == "OPTIONS") {
      Response preflight;
      preflight.status = 204;
      preflight.content_type.clear();
      Write(std::move(preflight));
      return;
    }
    // The handler may answer from any thread; the write goes back through our executor. Only
    // the first answer counts: a handler that answers and then throws must not write twice.
    auto self = shared_from_this();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Responder responder = [self, answered](Response response) {
      if (answered->exchange(true)) {
        return;
      }
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Write(std::move(response), /*counted=*/true);
      });
    };
    in_flight_.fetch_add(1);
    try {
      handler_(std::move(request), responder);
    } catch (const std::exception& e) {
      responder(ErrorResponse(ErrorCode::kInternal, std::string("internal error: ") + e.what()));
    } catch (...) {
      responder(ErrorResponse(ErrorCode::kInternal, "internal error"));
    }
  }

  // `counted`: the response answers a request counted in in_flight_, released once written.
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
    stream_.expires_after(options_.write_timeout);
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, counted](beast::error_code ec, size_t) {
                         if (counted) {
                           self->in_flight_.fetch_sub(1);
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
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.expires_after(std::chrono::seconds(5));
    }
    if (drained_bytes_ > kMaxDrainBytes) {
      Close();
      return;
    }
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_bytes_ += n;
                              if (ec) {
                                self->Close();
                              } else {
                                self->Drain();
                              }
                            });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  const ServerOptions& options_;
  const Handler& handler_;
  std::atomic<int>& in_flight_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  static constexpr size_t kMaxDrainBytes = 256 << 20;
  bool drain_after_write_ = false;
  bool drain_started_ = false;
  size_t drained_bytes_ = 0;
  std::array<char, 16384> drain_buffer_{};
};

}  // namespace

struct Server::Impl {
  Impl(ServerOptions opts, Handler h)
      : options(std::move(opts)),
        handler(std::move(h)),
        acceptor(net::make_strand(ioc)),
        accept_backoff(acceptor.get_executor()) {}

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) {
        return;
      }
      if (ec) {
        // Out of file descriptors (or another accept failure): retrying at once would spin a
        // core; wait a little for connections to close.
        accept_backoff.expires_after(std::chrono::milliseconds(50));
        accept_backoff.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec && acceptor.is_open()) {
            Accept();
          }
        });
        return;
      }
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), options, handler, in_flight)->Start();
      Accept();
    });
  }

  ServerOptions options;
  Handler handler;
  std::atomic<int> in_flight{0};
  net::io_context ioc;
  tcp::acceptor acceptor;
  // The acceptor and its timer live on one strand: with several I/O threads, accept
  // completions and the closes posted by StopAccepting/Stop would otherwise race.
  net::steady_timer accept_backoff;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
};

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { Stop(); }

Status Server::Listen() {
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->options.address, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid listen address '" + impl_->options.address + "': " + ec.message());
  }
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  std::string where = impl_->options.address + ":" + std::to_string(impl_->options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return Status(ErrorCode::kUnavailable, "cannot listen on " + where + ": " + ec.message());
  }
  impl_->Accept();
  return Status::Ok();
}

uint16_t Server::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void Server::Run() {
  std::vector<std::thread> extra;
  for (int i = 1; i < impl_->options.io_threads; ++i) {
    extra.emplace_back([this] { impl_->ioc.run(); });
  }
  impl_->ioc.run();
  for (auto& t : extra) {
    t.join();
  }
}

void Server::StopAccepting() {
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
}

int Server::in_flight() const { return impl_->in_flight.load(); }

void Server::Stop() {
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->ioc.stop();
  });
}

}  // namespace quarry::http
