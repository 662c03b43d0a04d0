#include "protocol/ws_codec.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace quarry::protocol {
namespace {

TEST(WsCodecTest, NegotiatesTheNewestOfferedSubprotocol) {
  auto picked = NegotiateWsSubprotocol("hrana1, HRANA3 ,hrana2");
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->name, "hrana3");
  EXPECT_EQ(picked->version, 3);
  // What @libsql/client offers today: protobuf first, which this build does not speak yet.
  picked = NegotiateWsSubprotocol("hrana3-protobuf, hrana3, hrana2, hrana1");
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->name, "hrana3");
  picked = NegotiateWsSubprotocol(std::nullopt);
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->name, "");
  EXPECT_EQ(picked->version, 1);
  auto refused = NegotiateWsSubprotocol("graphql-ws, hrana9");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("hrana3, hrana2 and hrana1"), std::string::npos);
}

TEST(WsCodecTest, DecodesHelloAndRequests) {
  auto codec = MakeJsonWsCodec();
  auto hello = codec->Decode(R"({"type":"hello","jwt":null,"extra":1})", false);
  ASSERT_TRUE(std::holds_alternative<ClientMsg>(hello));
  EXPECT_EQ(std::get<ClientMsg>(hello).type, ClientMsg::Type::kHello);
  EXPECT_FALSE(std::get<ClientMsg>(hello).jwt);

  auto exec = codec->Decode(
      R"({"type":"request","request_id":-5,"request":{"type":"execute","stream_id":2,)"
      R"("stmt":{"sql":"SELECT ?","args":[{"type":"float","value":0.1}]}}})",
      false);
  ASSERT_TRUE(std::holds_alternative<ClientMsg>(exec));
  const ClientMsg& msg = std::get<ClientMsg>(exec);
  EXPECT_EQ(msg.request_id, -5);
  ASSERT_TRUE(msg.request.ok()) << msg.request.status().ToString();
  EXPECT_EQ(msg.request->type, WsRequest::Type::kStream);
  EXPECT_EQ(msg.request->stream_id, 2);
  EXPECT_EQ(*msg.request->stream.stmt.sql, "SELECT ?");

  auto fetch = codec->Decode(
      R"({"type":"request","request_id":1,"request":{"type":"fetch_cursor","cursor_id":3}})",
      false);
  const ClientMsg& bad = std::get<ClientMsg>(fetch);
  ASSERT_FALSE(bad.request.ok());
  EXPECT_NE(bad.request.status().message().find("max_count"), std::string::npos);

  auto big_id = codec->Decode(
      R"({"type":"request","request_id":4294967296,"request":{"type":"open_stream"}})", false);
  EXPECT_TRUE(std::holds_alternative<WsViolation>(big_id));
}

TEST(WsCodecTest, EncodesServerMessages) {
  auto codec = MakeJsonWsCodec();
  ServerMsg ok;
  ok.type = ServerMsg::Type::kResponseOk;
  ok.request_id = 7;
  ok.response.type = WsRequest::Type::kCloseStream;
  bool binary = true;
  EXPECT_EQ(codec->Encode(ok, binary),
            R"({"type":"response_ok","request_id":7,"response":{"type":"close_stream"}})");
  EXPECT_FALSE(binary);
  ServerMsg error;
  error.type = ServerMsg::Type::kHelloError;
  error.error = Status(ErrorCode::kUnauthorized, "expired");
  EXPECT_EQ(codec->Encode(error, binary),
            R"({"type":"hello_error","error":{"message":"expired","code":"AUTH_FAILED"}})");
}

TEST(WsCodecTest, CloseReasonsAreCutAtACharacterBoundary) {
  std::string reason(121, 'a');
  reason += "é";   // bytes 121-122
  reason += "日";  // bytes 123-125: would straddle the limit
  std::string cut = TruncateCloseReason(reason);
  EXPECT_EQ(cut.size(), 123u);
  EXPECT_EQ(cut.substr(121), "é");
  EXPECT_EQ(TruncateCloseReason("short"), "short");
}

}  // namespace
}  // namespace quarry::protocol
