#pragma once

// HttpConnection: a synchronous HTTP/1.1 client for one server, reusing its TCP connection
// across requests (keep-alive), over TLS for an https origin (the server's certificate is
// verified, and its name against the host). Beast lives only in http_connection.cc. Not
// thread-safe: one request at a time.
//
// A request fails with kUnavailable when the server cannot be reached or does not answer in
// time, with a message naming the URL and the cause. A reused connection that the server
// closed while idle is reopened and the request sent again, once, only when no byte of a
// response was received.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace quarry::client {

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // Whole request: sending the body and reading the response.
  std::chrono::milliseconds request_timeout{60'000};
  // https: a PEM file of certificate authorities to trust besides the system's store (OpenSSL's
  // default paths, which SSL_CERT_FILE and SSL_CERT_DIR override); empty: the store alone.
  std::string ca_file;
};

// Further request headers (name, value), sent as given.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Whether `ca_file` (HttpOptions::ca_file) reads as PEM certificate authorities: OK, or
// kInvalidArgument naming the file and OpenSSL's reason. For checking a flag at start-up rather
// than at the first https request.
Status CheckCaFile(const std::string& ca_file);

class HttpConnection {
 public:
  // `origin` is "http://host:port" or "https://host:port" (TLS), used in error messages and
  // the Host header.
  HttpConnection(std::string host, uint16_t port, std::string origin, HttpOptions options);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request; `bearer_token` empty sends no Authorization header; a body (and any POST)
  // is labelled `content_type`. Returns the response whatever its status; a non-OK Status only
  // for transport failures.
  Result<HttpResponse> Send(std::string_view method, std::string_view target, std::string_view body,
                            std::string_view bearer_token,
                            std::string_view content_type = "application/json",
                            const HttpHeaders& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quarry::client
