#include "client/tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

namespace quarry::client::tls {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> MakeClientContext(const std::string& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1,
                       ec);
  context->set_verify_mode(ssl::verify_peer, ec);
  // The system's store always; a CA file adds to it (an internal authority beside the public
  // ones a webhook receiver or an identity provider may use).
  context->set_default_verify_paths(ec);
  if (ec && ca_file.empty()) {
    return Status(ErrorCode::kUnavailable,
                  "cannot load the system's certificate authorities: " + ec.message());
  }
  if (!ca_file.empty()) {
    ec.clear();
    context->load_verify_file(ca_file, ec);
    if (ec) {
      return Status(ErrorCode::kInvalidArgument,
                    "cannot read certificate authorities from " + ca_file +
                        " (expected PEM certificates): " + ec.message());
    }
  }
  return context;
}

Status PrepareConnection(SSL* ssl, const std::string& host) {
  boost::system::error_code ec;
  // An IPv6 address's zone (fe80::1%eth0) is not part of the address a certificate names.
  std::string address_text = host.substr(0, host.find('%'));
  auto address = boost::asio::ip::make_address(address_text, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  bool ok = false;
  if (!ec) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, address_text.c_str()) == 1;
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 &&
         X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
  }
  if (!ok) {
    ERR_clear_error();
    return Status(ErrorCode::kInvalidArgument,
                  "cannot check TLS certificates for host '" + host + "'");
  }
  return Status::Ok();
}

std::string HandshakeFailure(const boost::system::error_code& ec, SSL* ssl,
                             const std::string& origin) {
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return "the TLS certificate of " + origin +
           " was not accepted: " + X509_verify_cert_error_string(verify) +
           " (trust the authority that signed it with --ca-file FILE)";
  }
  return "the TLS handshake with " + origin + " failed: " + ec.message() +
         (ec.category() == boost::asio::error::get_ssl_category()
              ? " (is the server serving TLS on that port? use http:// if not)"
              : "");
}

bool IsTruncated(const boost::system::error_code& ec) { return ec == ssl::error::stream_truncated; }

}  // namespace quarry::client::tls
