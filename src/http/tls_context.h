#pragma once

// TlsContext: the certificate and private key a TLS listener serves, held as an OpenSSL server
// context (TLS 1.2 and later) that can be replaced while connections are served: new
// connections are made from the context current when they arrive. Thread-safe. Internal to
// http/ (it includes Asio's ssl).

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"

namespace quarry::http {

class TlsContext {
 public:
  // Reads the PEM files (the certificate, optionally followed by its chain, and the private key)
  // into a new context and makes it current; returns a line describing the certificate (its
  // subject, serial and expiry). Fails, naming the flag and the file, when a file cannot be
  // read or holds no PEM certificate or key, or when the key is not the certificate's; the
  // current context, if any, is then kept.
  Result<std::string> Load(const std::string& cert_file, const std::string& key_file);

  // The context new connections are made from; null before the first successful Load. A
  // connection keeps the OpenSSL context it was made from alive by itself (SSL_new takes a
  // reference on its SSL_CTX), so a context replaced by Load may go while connections last.
  std::shared_ptr<boost::asio::ssl::context> Current() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> current_;  // GUARDED_BY(mutex_)
};

}  // namespace quarry::http
