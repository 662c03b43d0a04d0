#include "client/http_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <optional>

#include "client/tls.h"

namespace quarry::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct HttpConnection::Impl {
  std::string host;
  uint16_t port;
  std::string origin;
  bool use_tls = false;
  HttpOptions options;
  asio::io_context ioc;
  std::shared_ptr<asio::ssl::context> tls_context;  // made on the first https connection
  // The open connection, if any: `plain`, or `secure` over TLS.
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  bool Open() const { return plain.has_value() || secure.has_value(); }
  void Reset() {
    plain.reset();
    secure.reset();
  }
  beast::tcp_stream& Tcp() { return secure ? secure->next_layer() : *plain; }
  // Calls `f` with the open stream, plain or TLS.
  template <class F>
  void WithStream(F&& f) {
    if (secure) {
      f(*secure);
    } else {
      f(*plain);
    }
  }

  // Runs the queued asynchronous operations to completion.
  void RunAll() {
    ioc.restart();
    ioc.run();
  }

  Status Connect() {
    Reset();
    buffer.clear();
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(host, std::to_string(port),
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                           });
    RunAll();
    if (ec) {
      return Status(ErrorCode::kUnavailable,
                    "cannot resolve host '" + host + "' of " + origin + ": " + ec.message());
    }
    if (use_tls && tls_context == nullptr) {
      QUARRY_ASSIGN_OR_RETURN(tls_context, tls::MakeClientContext(options.ca_file));
    }
    if (use_tls) {
      secure.emplace(ioc, *tls_context);
    } else {
      plain.emplace(ioc);
    }
    Tcp().expires_after(options.connect_timeout);
    Tcp().async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    RunAll();
    if (ec) {
      Reset();
      std::string why =
          ec == beast::error::timeout
              ? "timed out after " + std::to_string(options.connect_timeout.count()) + " ms"
              : ec.message();
      return Status(ErrorCode::kUnavailable,
                    "cannot connect to " + origin + ": " + why + " — is `quarry serve` running?");
    }
    Tcp().socket().set_option(tcp::no_delay(true), ec);
    if (secure) {
      if (Status prepared = tls::PrepareConnection(secure->native_handle(), host); !prepared.ok()) {
        Reset();
        return prepared;
      }
      secure->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
      RunAll();
      if (ec) {
        std::string why = ec == beast::error::timeout
                              ? "the TLS handshake with " + origin + " timed out after " +
                                    std::to_string(options.connect_timeout.count()) + " ms"
                              : tls::HandshakeFailure(ec, secure->native_handle(), origin);
        Reset();
        return Status(ErrorCode::kUnavailable, why);
      }
    }
    return Status::Ok();
  }

  // Errors that mean the peer had closed the connection before reading the request.
  static bool ClosedByPeer(const beast::error_code& ec) {
    return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           tls::IsTruncated(ec);
  }

  // One exchange on the open connection. `retryable` is set when the request failed because
  // the server had closed the connection, before any byte of a response arrived.
  Result<HttpResponse> Exchange(const bhttp::request<bhttp::string_body>& request,
                                bool& retryable) {
    retryable = false;
    beast::error_code ec;
    Tcp().expires_after(options.request_timeout);
    WithStream([&](auto& stream) {
      bhttp::async_write(stream, request, [&](beast::error_code e, size_t) { ec = e; });
    });
    RunAll();
    if (ec) {
      retryable = ClosedByPeer(ec);
      return Status(ErrorCode::kUnavailable,
                    "sending the request to " + origin + " failed: " + ec.message());
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1ull << 31);
    WithStream([&](auto& stream) {
      bhttp::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    });
    RunAll();
    if (ec) {
      retryable = !parser.got_some() && ClosedByPeer(ec);
      std::string why =
          ec == beast::error::timeout
              ? "no response within " + std::to_string(options.request_timeout.count()) + " ms"
              : ec.message();
      return Status(ErrorCode::kUnavailable,
                    "reading the response from " + origin + " failed: " + why);
    }
    auto& message = parser.get();
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    response.content_type = std::string(message[bhttp::field::content_type]);
    response.body = std::move(message.body());
    if (!message.keep_alive()) {
      Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
      Reset();
    }
    return response;
  }
};

Status CheckCaFile(const std::string& ca_file) { return tls::MakeClientContext(ca_file).status(); }

HttpConnection::HttpConnection(std::string host, uint16_t port, std::string origin,
                               HttpOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->origin = std::move(origin);
  impl_->use_tls = impl_->origin.starts_with("https://");
  impl_->options = std::move(options);
}

HttpConnection::~HttpConnection() {
  if (impl_->Open()) {
    beast::error_code ec;
    impl_->Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
  }
}

Result<HttpResponse> HttpConnection::Send(std::string_view method, std::string_view target,
                                          std::string_view body, std::string_view bearer_token,
                                          std::string_view content_type,
                                          const HttpHeaders& headers) {
  bhttp::request<bhttp::string_body> request;
  request.method(bhttp::string_to_verb(method));
  request.target(target);
  request.version(11);
  std::string host_header = impl_->origin.substr(impl_->origin.find("://") + 3);
  request.set(bhttp::field::host, host_header);
  request.set(bhttp::field::user_agent, "quarry-client/0.1");
  request.keep_alive(true);
  if (!bearer_token.empty()) {
    request.set(bhttp::field::authorization, "Bearer " + std::string(bearer_token));
  }
  for (const auto& [name, value] : headers) {
    request.set(name, value);
  }
  if (!body.empty() || method == "POST") {
    request.set(bhttp::field::content_type, content_type);
    request.body() = std::string(body);
  }
  request.prepare_payload();

  bool reused = impl_->Open();
  if (!reused) {
    QUARRY_RETURN_IF_ERROR(impl_->Connect());
  }
  bool retryable = false;
  auto response = impl_->Exchange(request, retryable);
  if (!response.ok()) {
    impl_->Reset();
    if (reused && retryable) {
      // The server closed the idle connection; nothing of this request was answered.
      QUARRY_RETURN_IF_ERROR(impl_->Connect());
      response = impl_->Exchange(request, retryable);
      if (!response.ok()) {
        impl_->Reset();
      }
    }
  }
  return response;
}

}  // namespace quarry::client
