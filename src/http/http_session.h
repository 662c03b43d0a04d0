#pragma once

// HTTP sessions: read requests one after another on a connection, hand them to the Handler and
// write the answers; hand upgrade requests to the UpgradeHandler and the socket to a
// WebSocketSession. Internal to http/ (it includes Asio).

#include <boost/asio/ip/tcp.hpp>

#include "http/shared_state.h"

namespace quarry::http {

// Serves HTTP (and WebSocket upgrades) on an accepted plain TCP socket.
void StartPlainHttpSession(boost::asio::ip::tcp::socket socket, SharedState& state);

}  // namespace quarry::http
