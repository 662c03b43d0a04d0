#pragma once

// Server: HTTP/1.1 and WebSocket on one port. Parses requests with Beast, enforces size limits,
// answers CORS preflights, and hands each request to the Handler; an upgrade request goes to
// the UpgradeHandler, and an accepted socket's messages to the WebSocketHandler it names.
// Network I/O runs on its own threads; handlers must hand blocking work elsewhere.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/message.h"
#include "http/websocket.h"

namespace quarry::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port; see Server::port()
  size_t max_body_bytes = 10 << 20;
  int io_threads = 1;
  // How long a connection may take to send a request (and how long an idle keep-alive
  // connection stays open). Not applied while the request is being handled.
  std::chrono::milliseconds read_timeout{60'000};
  // How long writing one response may take.
  std::chrono::milliseconds write_timeout{60'000};
  // A WebSocket that sends nothing for half of this is pinged; one silent for all of it (no
  // pong either) is closed.
  std::chrono::milliseconds websocket_idle_timeout{60'000};
  // Answers queued on one WebSocket, not yet written, past which it is not read (a client that
  // does not read its answers stops being served rather than growing the queue).
  size_t websocket_max_queued_messages = 256;
  // PEM files of the certificate (optionally followed by its chain) and its private key: both
  // set, the port speaks HTTPS and WSS only (TLS 1.2 and later) and answers plaintext HTTP
  // with a 400 saying so; both empty, plain HTTP and WebSocket.
  std::string tls_cert_file;
  std::string tls_key_file;

  bool tls() const { return !tls_cert_file.empty() || !tls_key_file.empty(); }
};

class Server {
 public:
  // Without `upgrade`, upgrade requests are handed to `handler` as any other request.
  Server(ServerOptions options, Handler handler, UpgradeHandler upgrade = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the certificate (with TLS), binds and listens. Fails naming the flag and file when a
  // TLS file cannot be read, does not parse or the key is not the certificate's, and naming the
  // address when the port is taken or invalid.
  Status Listen();
  // Re-reads the TLS files: connections accepted from now on are served the new certificate,
  // open ones keep theirs. On failure (as Listen's) the certificate served so far is kept.
  // Returns a line describing the certificate now served (subject, serial, expiry). Fails when
  // the server has no TLS. Any thread.
  Result<std::string> ReloadTls();
  // The bound port (after Listen).
  uint16_t port() const;
  // Serves on io_threads threads until Stop(); blocks.
  void Run();
  // Stops accepting new connections; requests on open ones are still served. Any thread.
  void StopAccepting();
  // Stops accepting and ends Run(); any thread. Responses not yet written are dropped, and
  // WebSockets are dropped without a closing handshake.
  void Stop();
  // Requests handed to the handler whose response has not been written (or failed to write)
  // yet. After StopAccepting, waiting for this to reach 0 lets every answer reach its client.
  int in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quarry::http
