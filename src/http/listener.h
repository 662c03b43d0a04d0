#pragma once

// Listener: the acceptor. Accepts connections and starts an HTTP session on each (after the TLS
// handshake when the server has a certificate), backing off briefly when accept fails (out of
// file descriptors). Internal to http/.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "common/status.h"
#include "http/shared_state.h"

namespace quarry::http {

class Listener {
 public:
  Listener(boost::asio::io_context& ioc, SharedState& state);
  // Binds and listens; names the address on failure.
  Status Listen();
  void Accept();
  uint16_t port() const;
  // Stops accepting; any thread. With `then`, runs it on the acceptor's strand afterwards.
  void Close(std::function<void()> then = {});

 private:
  boost::asio::io_context& ioc_;
  SharedState& state_;
  // The acceptor and its timer live on one strand: with several I/O threads, accept
  // completions and the closes posted by Close would otherwise race.
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
};

}  // namespace quarry::http
