#pragma once

// WebSocketSession: one upgraded connection. Completes the handshake with the subprotocol the
// UpgradeHandler chose, then reads messages into the WebSocketHandler (pausing while it is not
// ReadyForMore, or while too many answers wait to be written) and writes what the channel
// queues, one frame at a time. Internal to http/; templated on the stream below the WebSocket
// (plain TCP or TLS over it) and instantiated for both in websocket_session.cc.

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "http/shared_state.h"
#include "http/streams.h"
#include "http/websocket.h"

namespace quarry::http {

template <class NextLayer>
void StartWebSocketSession(NextLayer stream,
                           boost::beast::http::request<boost::beast::http::string_body> request,
                           Upgrade upgrade, SharedState& state);

extern template void StartWebSocketSession<TcpStream>(
    TcpStream, boost::beast::http::request<boost::beast::http::string_body>, Upgrade, SharedState&);

extern template void StartWebSocketSession<TlsStream>(
    TlsStream, boost::beast::http::request<boost::beast::http::string_body>, Upgrade, SharedState&);

}  // namespace quarry::http
