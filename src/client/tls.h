#pragma once

// Client-side TLS for HttpConnection and RealtimeConnection: the context that verifies servers
// and the name check of one connection. Asio's OpenSSL streams; included only by the two
// translation units that compile Beast.

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>

#include "common/status.h"

namespace quarry::client::tls {

// A client context (TLS 1.2 or later) that verifies the server's certificate against the
// system's store (OpenSSL's default paths, which the SSL_CERT_FILE and SSL_CERT_DIR environment
// variables override) and the certificates of `ca_file` (PEM, one or more), when given.
// kInvalidArgument naming the file when it cannot be read.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientContext(const std::string& ca_file);

// Before the handshake on `ssl`: sends `host` as the server name (SNI) unless it is an address,
// and has the handshake fail unless the certificate names `host` (DNS name or IP address).
Status PrepareConnection(SSL* ssl, const std::string& host);

// Why the handshake with `origin` failed, for a message: the certificate verification error
// when there was one, with what to do about it, else the error's own text.
std::string HandshakeFailure(const boost::system::error_code& ec, SSL* ssl,
                             const std::string& origin);

// Whether `ec` means the peer closed the TLS connection without a close_notify (as servers do
// with idle keep-alive connections).
bool IsTruncated(const boost::system::error_code& ec);

}  // namespace quarry::client::tls
