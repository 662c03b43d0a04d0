#pragma once

// Listener: the acceptor. Accepts connections and starts an HTTP session on each (after the TLS
// handshake when the server has a certificate), backing off briefly when accept fails (out of
// file descriptors). Internal to http/.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <vector>

#include "common/status.h"
#include "http/shared_state.h"
#include "http/streams.h"

namespace quarry::http {

class Listener {
 public:
  // Accepts on the first of `contexts` and hands the connections to all of them in turn: each
  // context is run by one thread, so a connection's handlers never run concurrently and need
  // no strand.
  Listener(std::vector<boost::asio::io_context*> contexts, SharedState& state);
  // Binds and listens; names the address on failure.
  Status Listen();
  void Accept();
  uint16_t port() const;
  // Stops accepting; any thread. With `then`, runs it on the acceptor's thread afterwards.
  void Close(std::function<void()> then = {});

 private:
  std::vector<boost::asio::io_context*> contexts_;
  size_t next_context_ = 0;  // only touched on the acceptor's thread
  SharedState& state_;
  Acceptor acceptor_;
  boost::asio::steady_timer backoff_;
};

}  // namespace quarry::http
