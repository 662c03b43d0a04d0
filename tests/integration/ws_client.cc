#include "ws_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace quarry::testing {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;

WsClient::WsClient(uint16_t port, Options options) : ws_(ioc_) {
  beast::error_code ec;
  ws_.next_layer().connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    error_ = "connect: " + ec.message();
    return;
  }
  timeval timeout{30, 0};
  setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ws_.set_option(websocket::stream_base::decorator([options](websocket::request_type& req) {
    if (!options.subprotocols.empty()) {
      req.set(beast::http::field::sec_websocket_protocol, options.subprotocols);
    }
    for (const auto& [name, value] : options.headers) {
      req.set(name, value);
    }
  }));
  ws_.read_message_max(64 << 20);
  std::string host = options.host.empty() ? "127.0.0.1:" + std::to_string(port) : options.host;
  ws_.handshake(response_, host, options.target, ec);
  if (ec) {
    error_ = "handshake: " + ec.message();
  }
}

std::string WsClient::subprotocol() const {
  return std::string(response_[beast::http::field::sec_websocket_protocol]);
}

void WsClient::SendRaw(const std::string& frame, bool binary) {
  ws_.binary(binary);
  beast::error_code ec;
  ws_.write(net::buffer(frame), ec);
  EXPECT_FALSE(ec) << ec.message();
}

void WsClient::Request(int id, json::object request) {
  Send({{"type", "request"}, {"request_id", id}, {"request", std::move(request)}});
}

bool WsClient::ReadFrame(std::string& frame, bool& binary) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  ws_.read(buffer, ec);
  if (ec) {
    closed_ = true;
    EXPECT_EQ(ec, websocket::error::closed) << ec.message();
    return false;
  }
  frame = beast::buffers_to_string(buffer.data());
  binary = ws_.got_binary();
  return true;
}

json::object WsClient::Read() {
  std::string frame;
  bool binary = false;
  if (!ReadFrame(frame, binary)) {
    return {};
  }
  EXPECT_FALSE(binary) << "a binary frame where JSON was expected";
  return json::parse(frame).as_object();
}

std::map<int, json::object> WsClient::ReadResponses(size_t n) {
  std::map<int, json::object> out;
  for (size_t i = 0; i < n; ++i) {
    json::object msg = Read();
    if (msg.empty()) {
      ADD_FAILURE() << "socket closed after " << i << " of " << n << " messages: " << close_code()
                    << " " << close_reason();
      break;
    }
    out[static_cast<int>(msg.at("request_id").as_int64())] = msg;
  }
  return out;
}

bool WsClient::ReadUntilClosed() {
  std::string frame;
  bool binary = false;
  while (!closed_) {
    ReadFrame(frame, binary);
  }
  return closed_;
}

std::string WsClient::close_reason() const {
  return std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
}

}  // namespace quarry::testing
