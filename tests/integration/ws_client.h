#pragma once

// WsClient: a blocking Beast WebSocket client for the integration tests, speaking to a
// TestServer on 127.0.0.1. Frames go out and come in whole; Read() and the helpers parse them as
// Hrana's JSON, ReadFrame() hands them over raw (for hrana3-protobuf). Reads give up after 30 s
// (a hang guard, not a timing check). Not thread-safe: one test thread drives it.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace quarry::testing {

class WsClient {
 public:
  struct Options {
    std::string target = "/";
    std::string subprotocols = "hrana3";  // empty: no Sec-WebSocket-Protocol header
    std::vector<std::pair<std::string, std::string>> headers;
    std::string host;  // the Host header; empty: 127.0.0.1:<port>
  };
  explicit WsClient(uint16_t port) : WsClient(port, Options{}) {}
  // Connects and performs the handshake; ok() says whether it succeeded.
  WsClient(uint16_t port, Options options);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int http_status() const { return response_.result_int(); }
  // The subprotocol the server picked (Sec-WebSocket-Protocol of its answer).
  std::string subprotocol() const;
  std::string body() const { return response_.body(); }

  void SendRaw(const std::string& frame, bool binary = false);
  void Send(const boost::json::object& msg) { SendRaw(boost::json::serialize(msg)); }
  void Hello(const std::string& jwt) { Send({{"type", "hello"}, {"jwt", jwt}}); }
  void Request(int id, boost::json::object request);

  // The next frame and its kind; false once the socket closed (see close_code()).
  bool ReadFrame(std::string& frame, bool& binary);
  // The next message as JSON; an empty object once the socket closed.
  boost::json::object Read();
  // Reads `n` JSON messages and files responses by request id.
  std::map<int, boost::json::object> ReadResponses(size_t n);
  // Reads until the server closes; true when it did.
  bool ReadUntilClosed();
  int close_code() const { return ws_.reason().code; }
  std::string close_reason() const;

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::websocket::response_type response_;
  std::string error_;
  bool closed_ = false;
};

}  // namespace quarry::testing
