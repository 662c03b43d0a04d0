#pragma once

// The start of a connection accepted on a TLS port. The first bytes decide: a TLS handshake
// record (0x16) is answered with the handshake, from the certificate current at that moment,
// and the connection then goes to an HTTP session over TLS; anything else is taken for
// plaintext HTTP and answered with a plain `HTTP/1.1 400` saying the port speaks HTTPS (use
// https:// or wss://), after which the connection is closed. Internal to http/ (it includes
// Asio).

#include <boost/asio/ip/tcp.hpp>

#include "http/shared_state.h"
#include "http/streams.h"

namespace quarry::http {

// `state.tls` must hold a context.
void StartTlsHandshake(Socket socket, SharedState& state);

}  // namespace quarry::http
