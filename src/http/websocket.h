#pragma once

// WebSocket, as code above `http/` sees it (no Beast here). An UpgradeHandler decides on each
// upgrade request; an accepted socket gets a WebSocketHandler for its messages and hands it a
// WebSocketChannel to answer through.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/message.h"

namespace quarry::http {

// The sending side of one socket. Implemented by the transport.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  virtual void Send(std::string message, bool binary) = 0;
  virtual void Close(uint16_t code, std::string reason) = 0;
  // Bytes of messages sent and not yet written to the socket.
  virtual size_t QueuedBytes() const = 0;
};

// A handle to a socket's sending side; copies refer to the same socket. Any thread. Once the
// socket is gone, calls do nothing. Holding a channel does not keep the socket open.
class WebSocketChannel {
 public:
  WebSocketChannel() = default;
  explicit WebSocketChannel(std::weak_ptr<WebSocketConnection> connection)
      : connection_(std::move(connection)) {}
  // Queues one message (a text frame unless `binary`).
  void Send(std::string message, bool binary) const {
    if (auto c = connection_.lock()) {
      c->Send(std::move(message), binary);
    }
  }
  // Bytes of messages sent and not yet written to the socket (0 once it is gone).
  size_t QueuedBytes() const {
    auto c = connection_.lock();
    return c ? c->QueuedBytes() : 0;
  }
  // Starts the closing handshake after the messages already queued; later messages from the
  // client are dropped. `reason` must fit a close frame (123 bytes).
  void Close(uint16_t code, std::string reason) const {
    if (auto c = connection_.lock()) {
      c->Close(code, std::move(reason));
    }
  }

 private:
  std::weak_ptr<WebSocketConnection> connection_;
};

// Receives one socket's messages. Called on the socket's I/O thread, one call at a time; must
// not block.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void OnMessage(std::string message, bool binary) = 0;
  // Asked after each message received and each one sent: while false, the socket is not read,
  // so TCP's flow control holds the client back.
  virtual bool ReadyForMore() = 0;
  // The socket closed or failed; the last call.
  virtual void OnClose() = 0;
};

// The answer to an upgrade request.
struct Upgrade {
  // Set: the upgrade is refused with this response.
  std::optional<Response> refusal;
  // The subprotocol to confirm in Sec-WebSocket-Protocol; empty: none.
  std::string subprotocol;
  // Called once the handshake is done: the handler of the socket.
  std::function<std::shared_ptr<WebSocketHandler>(WebSocketChannel)> accept;
};

// Decides on a WebSocket upgrade request (its body is empty). Called on an I/O thread: must not
// block.
using UpgradeHandler = std::function<Upgrade(const Request& request)>;

}  // namespace quarry::http
