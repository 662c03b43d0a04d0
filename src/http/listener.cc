#include "http/listener.h"

#include <boost/asio.hpp>
#include <boost/beast/core/error.hpp>

#include "http/http_session.h"
#include "http/tls_handshake.h"

namespace quarry::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(std::vector<net::io_context*> contexts, SharedState& state)
    : contexts_(std::move(contexts)),
      state_(state),
      acceptor_(contexts_.front()->get_executor()),
      backoff_(*contexts_.front()) {}

Status Listener::Listen() {
  boost::system::error_code ec;
  auto address = net::ip::make_address(state_.options.address, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid listen address '" + state_.options.address + "': " + ec.message());
  }
  tcp::endpoint endpoint(address, state_.options.port);
  std::string where = state_.options.address + ":" + std::to_string(state_.options.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return Status(ErrorCode::kUnavailable, "cannot listen on " + where + ": " + ec.message());
  }
  Accept();
  return Status::Ok();
}

void Listener::Accept() {
  net::io_context& context = *contexts_[next_context_];
  next_context_ = (next_context_ + 1) % contexts_.size();
  acceptor_.async_accept(context, [this](boost::system::error_code ec, Socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
      return;
    }
    if (ec) {
      // Out of file descriptors (or another accept failure): retrying at
      // once would spin a core; wait a little for connections to close.
      backoff_.expires_after(std::chrono::milliseconds(50));
      backoff_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec && acceptor_.is_open()) {
          Accept();
        }
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (state_.options.tls()) {
      StartTlsHandshake(std::move(socket), state_);
    } else {
      StartPlainHttpSession(std::move(socket), state_);
    }
    Accept();
  });
}

uint16_t Listener::port() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void Listener::Close(std::function<void()> then) {
  net::post(acceptor_.get_executor(), [this, then = std::move(then)] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    if (then) {
      then();
    }
  });
}

}  // namespace quarry::http
