#pragma once

// HTTP sessions: read requests one after another on a connection, hand them to the Handler and
// write the answers; hand upgrade requests to the UpgradeHandler and the socket to a
// WebSocketSession. Internal to http/ (it includes Asio).

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "http/shared_state.h"
#include "http/streams.h"

namespace quarry::http {

// Serves HTTP (and WebSocket upgrades) on an accepted plain TCP socket.
void StartPlainHttpSession(Socket socket, SharedState& state);

// Serves HTTPS (and WSS upgrades) on a connection whose TLS handshake is done; `buffer` holds
// what was read past the handshake (the start of the first request, if any).
void StartTlsHttpSession(TlsStream stream, boost::beast::flat_buffer buffer, SharedState& state);

}  // namespace quarry::http
