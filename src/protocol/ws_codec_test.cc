#include "protocol/ws_codec.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "protocol/proto/hrana_ws.pb.h"
#include "protocol/protobuf_codec.h"
#include "protocol/response_json.h"

namespace quarry::protocol {
namespace {

TEST(WsCodecTest, NegotiatesTheNewestOfferedSubprotocol) {
  auto picked = NegotiateWsSubprotocol("hrana1, HRANA3 ,hrana2");
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->name, "hrana3");
  EXPECT_EQ(picked->version, 3);
  EXPECT_EQ(picked->encoding, WsEncoding::kJson);
  // What @libsql/client offers: protobuf is preferred whatever the client's order.
  picked = NegotiateWsSubprotocol("hrana3-protobuf, hrana3, hrana2, hrana1");
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->name, "hrana3-protobuf");
  EXPECT_EQ(picked->version, 3);
  EXPECT_EQ(picked->encoding, WsEncoding::kProtobuf);
  picked = NegotiateWsSubprotocol("hrana3, HRANA3-Protobuf");
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->name, "hrana3-protobuf");
  picked = NegotiateWsSubprotocol(std::nullopt);
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->name, "");
  EXPECT_EQ(picked->version, 1);
  auto refused = NegotiateWsSubprotocol("graphql-ws, hrana9");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("hrana3-protobuf, hrana3, hrana2 and hrana1"),
            std::string::npos);
  EXPECT_NE(MakeWsCodec(WsEncoding::kProtobuf), nullptr);
  EXPECT_NE(MakeWsCodec(WsEncoding::kJson), nullptr);
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

// The answer to an execute is written without a DOM; it must be the text the DOM serializes to.
TEST(WsCodecTest, ExecuteAnswersAreTheTextTheDomWouldSerialize) {
  auto codec = MakeJsonWsCodec();
  ServerMsg ok;
  ok.type = ServerMsg::Type::kResponseOk;
  ok.request_id = -12;
  ok.response.type = WsRequest::Type::kStream;
  ok.response.stream.type = Request::Type::kExecute;
  StmtResult& result = ok.response.stream.execute;
  result.cols = {{"id", "INTEGER"}, {std::nullopt, std::nullopt}, {"t\"x\u00e9", "TEXT"}};
  Value integer{Value::Type::kInteger, -9007199254740993, 0, ""};
  Value real{Value::Type::kFloat, 0, 0.1, ""};
  Value text{Value::Type::kText, 0, 0, "line\nbreak \"quoted\" \x01"};
  Value blob{Value::Type::kBlob, 0, 0, std::string("\0\xff", 2)};
  Value null;
  result.rows = {{integer, real, text}, {blob, null, integer}};
  result.affected_row_count = 3;
  result.last_insert_rowid = 42;
  result.rows_read = 2;
  result.query_duration_ms = 0.125;
  bool binary = true;
  std::string text_frame = codec->Encode(ok, binary);
  EXPECT_FALSE(binary);
  boost::json::object dom{{"type", "response_ok"},
                          {"request_id", -12},
                          {"response", StreamResponseJson(ok.response.stream)}};
  EXPECT_EQ(text_frame, boost::json::serialize(dom));

  ok.response.stream = StreamResponse();  // close
  EXPECT_EQ(codec->Encode(ok, binary),
            R"({"type":"response_ok","request_id":-12,"response":{"type":"close"}})");
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

// The frame of a ClientMsg built by the protobuf library, decoded by the hrana3-protobuf codec.
ClientMsg DecodeProtobuf(const hrana::ws::ClientMsg& message) {
  auto codec = MakeWsCodec(WsEncoding::kProtobuf);
  auto decoded = codec->Decode(message.SerializeAsString(), /*binary=*/true);
  if (std::holds_alternative<WsViolation>(decoded)) {
    ADD_FAILURE() << "violation: " << std::get<WsViolation>(decoded).reason;
    return ClientMsg();
  }
  return std::get<ClientMsg>(std::move(decoded));
}

// A decoded request that must be valid.
WsRequest DecodeProtobufRequest(const hrana::ws::ClientMsg& message, int32_t request_id) {
  ClientMsg msg = DecodeProtobuf(message);
  EXPECT_EQ(msg.type, ClientMsg::Type::kRequest);
  EXPECT_EQ(msg.request_id, request_id);
  if (!msg.request.ok()) {
    ADD_FAILURE() << msg.request.status().ToString();
    return WsRequest();
  }
  return *msg.request;
}

WsViolation ProtobufViolationOf(std::string_view frame, bool binary) {
  auto decoded = MakeWsCodec(WsEncoding::kProtobuf)->Decode(frame, binary);
  if (!std::holds_alternative<WsViolation>(decoded)) {
    ADD_FAILURE() << "decoded without a violation";
    return WsViolation();
  }
  return std::get<WsViolation>(decoded);
}

TEST(ProtobufWsCodecTest, DecodesHelloWithAndWithoutAToken) {
  hrana::ws::ClientMsg hello;
  hello.mutable_hello()->set_jwt("token.of.client");
  ClientMsg msg = DecodeProtobuf(hello);
  EXPECT_EQ(msg.type, ClientMsg::Type::kHello);
  EXPECT_EQ(msg.jwt, "token.of.client");
  hello.mutable_hello()->clear_jwt();
  msg = DecodeProtobuf(hello);
  EXPECT_EQ(msg.type, ClientMsg::Type::kHello);
  EXPECT_FALSE(msg.jwt);
}

TEST(ProtobufWsCodecTest, DecodesEveryRequestType) {
  hrana::ws::ClientMsg message;
  hrana::ws::RequestMsg* request = message.mutable_request();
  request->set_request_id(-3);

  request->mutable_open_stream()->set_stream_id(4);
  WsRequest req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.type, WsRequest::Type::kOpenStream);
  EXPECT_EQ(req.name, "open_stream");
  EXPECT_EQ(req.stream_id, 4);

  request->mutable_close_stream()->set_stream_id(5);
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.type, WsRequest::Type::kCloseStream);
  EXPECT_EQ(req.stream_id, 5);

  hrana::ws::ExecuteReq* execute = request->mutable_execute();
  execute->set_stream_id(6);
  execute->mutable_stmt()->set_sql_id(9);
  execute->mutable_stmt()->add_args()->set_integer(-7);
  hrana::NamedArg* named = execute->mutable_stmt()->add_named_args();
  named->set_name(":n");
  named->mutable_value()->set_text("x");
  execute->mutable_stmt()->set_want_rows(false);
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.type, WsRequest::Type::kStream);
  EXPECT_EQ(req.name, "execute");
  EXPECT_EQ(req.stream_id, 6);
  EXPECT_EQ(req.stream.type, Request::Type::kExecute);
  EXPECT_FALSE(req.stream.stmt.sql);
  EXPECT_EQ(req.stream.stmt.sql_id, 9);
  ASSERT_EQ(req.stream.stmt.args.size(), 1u);
  EXPECT_EQ(req.stream.stmt.args[0].integer, -7);
  ASSERT_EQ(req.stream.stmt.named_args.size(), 1u);
  EXPECT_EQ(req.stream.stmt.named_args[0].first, ":n");
  EXPECT_EQ(req.stream.stmt.named_args[0].second.bytes, "x");
  EXPECT_FALSE(req.stream.stmt.want_rows);

  hrana::ws::BatchReq* batch = request->mutable_batch();
  batch->set_stream_id(7);
  batch->mutable_batch()->add_steps()->mutable_stmt()->set_sql("BEGIN");
  hrana::BatchStep* second = batch->mutable_batch()->add_steps();
  second->mutable_stmt()->set_sql("COMMIT");
  hrana::BatchCond::CondList* both = second->mutable_condition()->mutable_and_();
  both->add_conds()->set_step_ok(0);
  both->add_conds()->mutable_not_()->mutable_is_autocommit();
  hrana::BatchStep* third = batch->mutable_batch()->add_steps();
  third->mutable_stmt()->set_sql("ROLLBACK");
  third->mutable_condition()->mutable_or_()->add_conds()->set_step_error(1);
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.type, WsRequest::Type::kStream);
  EXPECT_EQ(req.name, "batch");
  EXPECT_EQ(req.stream_id, 7);
  EXPECT_EQ(req.stream.type, Request::Type::kBatch);
  ASSERT_EQ(req.stream.batch.steps.size(), 3u);
  EXPECT_FALSE(req.stream.batch.steps[0].condition);
  const Condition& cond = *req.stream.batch.steps[1].condition;
  EXPECT_EQ(cond.kind, Condition::Kind::kAnd);
  ASSERT_EQ(cond.conds.size(), 2u);
  EXPECT_EQ(cond.conds[0].kind, Condition::Kind::kOk);
  EXPECT_EQ(cond.conds[0].step, 0u);
  EXPECT_EQ(cond.conds[1].kind, Condition::Kind::kNot);
  EXPECT_EQ(cond.conds[1].conds.at(0).kind, Condition::Kind::kIsAutocommit);
  EXPECT_EQ(req.stream.batch.steps[2].condition->kind, Condition::Kind::kOr);
  EXPECT_EQ(req.stream.batch.steps[2].condition->conds.at(0).kind, Condition::Kind::kError);
  EXPECT_EQ(*req.stream.batch.steps[2].stmt.sql, "ROLLBACK");

  request->mutable_sequence()->set_stream_id(8);
  request->mutable_sequence()->set_sql_id(2);
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.name, "sequence");
  EXPECT_EQ(req.stream_id, 8);
  EXPECT_EQ(req.stream.type, Request::Type::kSequence);
  EXPECT_EQ(req.stream.sql_id, 2);

  request->mutable_describe()->set_stream_id(9);
  request->mutable_describe()->set_sql("SELECT ?");
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.name, "describe");
  EXPECT_EQ(req.stream.type, Request::Type::kDescribe);
  EXPECT_EQ(req.stream.sql, "SELECT ?");

  request->mutable_get_autocommit()->set_stream_id(10);
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.name, "get_autocommit");
  EXPECT_EQ(req.stream_id, 10);
  EXPECT_EQ(req.stream.type, Request::Type::kGetAutocommit);

  request->mutable_store_sql()->set_sql_id(11);
  request->mutable_store_sql()->set_sql("SELECT 11");
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.type, WsRequest::Type::kStoreSql);
  EXPECT_EQ(req.sql_id, 11);
  EXPECT_EQ(req.sql, "SELECT 11");

  request->mutable_close_sql()->set_sql_id(12);
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.type, WsRequest::Type::kCloseSql);
  EXPECT_EQ(req.sql_id, 12);

  hrana::ws::OpenCursorReq* open = request->mutable_open_cursor();
  open->set_stream_id(13);
  open->set_cursor_id(14);
  open->mutable_batch()->add_steps()->mutable_stmt()->set_sql("SELECT 1");
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.type, WsRequest::Type::kOpenCursor);
  EXPECT_EQ(req.stream_id, 13);
  EXPECT_EQ(req.cursor_id, 14);
  ASSERT_EQ(req.batch.steps.size(), 1u);
  EXPECT_EQ(*req.batch.steps[0].stmt.sql, "SELECT 1");

  request->mutable_fetch_cursor()->set_cursor_id(15);
  request->mutable_fetch_cursor()->set_max_count(100);
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.type, WsRequest::Type::kFetchCursor);
  EXPECT_EQ(req.cursor_id, 15);
  EXPECT_EQ(req.max_count, 100u);

  request->mutable_close_cursor()->set_cursor_id(16);
  req = DecodeProtobufRequest(message, -3);
  EXPECT_EQ(req.type, WsRequest::Type::kCloseCursor);
  EXPECT_EQ(req.cursor_id, 16);
}

// The same request in both encodings decodes to the same WsRequest.
TEST(ProtobufWsCodecTest, DecodesAsTheJsonCodecDoes) {
  auto json_msg = MakeJsonWsCodec()->Decode(
      R"({"type":"request","request_id":8,"request":{"type":"execute","stream_id":2,)"
      R"("stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"5"}],"want_rows":true}}})",
      false);
  hrana::ws::ClientMsg message;
  message.mutable_request()->set_request_id(8);
  hrana::ws::ExecuteReq* execute = message.mutable_request()->mutable_execute();
  execute->set_stream_id(2);
  execute->mutable_stmt()->set_sql("SELECT ?");
  execute->mutable_stmt()->add_args()->set_integer(5);
  WsRequest from_proto = DecodeProtobufRequest(message, 8);
  const ClientMsg& from_json = std::get<ClientMsg>(json_msg);
  ASSERT_TRUE(from_json.request.ok());
  EXPECT_EQ(from_json.request->name, from_proto.name);
  EXPECT_EQ(from_json.request->stream_id, from_proto.stream_id);
  EXPECT_EQ(from_json.request->stream.stmt.sql, from_proto.stream.stmt.sql);
  EXPECT_EQ(from_json.request->stream.stmt.args.at(0).integer,
            from_proto.stream.stmt.args.at(0).integer);
  EXPECT_EQ(from_json.request->stream.stmt.want_rows, from_proto.stream.stmt.want_rows);
}

// The request's own body is invalid but its envelope is fine: the request's error, for a
// response_error with its id.
TEST(ProtobufWsCodecTest, AnInvalidRequestBodyIsThatRequestsError) {
  hrana::ws::ClientMsg message;
  hrana::ws::RequestMsg* request = message.mutable_request();
  request->set_request_id(21);
  request->mutable_execute()->set_stream_id(1);
  ClientMsg msg = DecodeProtobuf(message);
  EXPECT_EQ(msg.request_id, 21);
  ASSERT_FALSE(msg.request.ok());
  EXPECT_EQ(msg.request.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(msg.request.status().message(), "request: missing field \"stmt\"");

  request->mutable_execute()->mutable_stmt()->set_sql("SELECT ?");
  request->mutable_execute()->mutable_stmt()->add_args();
  msg = DecodeProtobuf(message);
  ASSERT_FALSE(msg.request.ok());
  EXPECT_EQ(msg.request.status().message(),
            "request.stmt.args[0]: the value sets none of null, integer, float, text, blob");

  request->mutable_sequence()->set_sql("SELECT 1");
  request->mutable_sequence()->set_sql_id(1);
  msg = DecodeProtobuf(message);
  ASSERT_FALSE(msg.request.ok());
  EXPECT_EQ(msg.request.status().code(), ErrorCode::kSqlConflict);

  request->mutable_batch()->mutable_batch()->add_steps()->mutable_condition()->set_step_ok(0);
  msg = DecodeProtobuf(message);
  ASSERT_FALSE(msg.request.ok());
  EXPECT_NE(msg.request.status().message().find("request.batch.steps[0].condition"),
            std::string::npos)
      << msg.request.status().message();

  request->mutable_open_cursor()->set_cursor_id(1);
  msg = DecodeProtobuf(message);
  ASSERT_FALSE(msg.request.ok());
  EXPECT_EQ(msg.request.status().message(), "request: missing field \"batch\"");

  // A request of a kind this server does not know (field 99 of RequestMsg, a varint).
  hrana::ws::RequestMsg newer;
  newer.set_request_id(22);
  std::string bytes = newer.SerializeAsString() + std::string("\x98\x06\x01", 3);
  ASSERT_TRUE(message.mutable_request()->ParseFromString(bytes));
  msg = DecodeProtobuf(message);
  EXPECT_EQ(msg.request_id, 22);
  ASSERT_FALSE(msg.request.ok());
  EXPECT_EQ(msg.request.status().code(), ErrorCode::kUnknownRequest);
  EXPECT_NE(msg.request.status().message().find("open_stream"), std::string::npos);
}

TEST(ProtobufWsCodecTest, ViolationsCloseTheSocketWithAReason) {
  hrana::ws::ClientMsg hello;
  hello.mutable_hello();
  WsViolation text = ProtobufViolationOf(hello.SerializeAsString(), /*binary=*/false);
  EXPECT_EQ(text.code, WsCloseCode::kUnsupportedData);
  EXPECT_NE(text.reason.find("binary"), std::string::npos) << text.reason;

  WsViolation json = ProtobufViolationOf(R"({"type":"hello","jwt":null})", /*binary=*/true);
  EXPECT_EQ(json.code, WsCloseCode::kInvalidPayload);
  EXPECT_NE(json.reason.find("not a valid protobuf ClientMsg"), std::string::npos) << json.reason;
  EXPECT_LE(json.reason.size(), 123u);

  WsViolation truncated = ProtobufViolationOf(std::string("\x12\x05\x08", 3), true);
  EXPECT_EQ(truncated.code, WsCloseCode::kInvalidPayload);

  WsViolation empty = ProtobufViolationOf("", true);
  EXPECT_EQ(empty.code, WsCloseCode::kPolicy);
  EXPECT_NE(empty.reason.find("neither hello nor request"), std::string::npos) << empty.reason;

  hrana::ws::ClientMsg bare;
  bare.mutable_request()->set_request_id(3);
  WsViolation no_request = ProtobufViolationOf(bare.SerializeAsString(), true);
  EXPECT_EQ(no_request.code, WsCloseCode::kPolicy);
  EXPECT_EQ(no_request.reason, "request message has no request");

  hrana::ws::ClientMsg not_utf8;
  not_utf8.mutable_hello()->set_jwt("ok");
  std::string bytes = not_utf8.SerializeAsString();
  bytes.back() = '\xFF';
  EXPECT_EQ(ProtobufViolationOf(bytes, true).code, WsCloseCode::kInvalidPayload);
}

// A ServerMsg encoded by the codec, parsed back by the protobuf library.
hrana::ws::ServerMsg EncodeProtobuf(const ServerMsg& msg) {
  bool binary = false;
  std::string frame = MakeWsCodec(WsEncoding::kProtobuf)->Encode(msg, binary);
  EXPECT_TRUE(binary);
  hrana::ws::ServerMsg parsed;
  EXPECT_TRUE(parsed.ParseFromString(frame));
  return parsed;
}

ServerMsg ResponseOk(int32_t request_id, WsRequest::Type type) {
  ServerMsg msg;
  msg.type = ServerMsg::Type::kResponseOk;
  msg.request_id = request_id;
  msg.response.type = type;
  return msg;
}

ServerMsg StreamOk(int32_t request_id, Request::Type type) {
  ServerMsg msg = ResponseOk(request_id, WsRequest::Type::kStream);
  msg.response.stream.type = type;
  return msg;
}

TEST(ProtobufWsCodecTest, EncodesHelloAndErrors) {
  ServerMsg hello_ok;
  hello_ok.type = ServerMsg::Type::kHelloOk;
  EXPECT_EQ(EncodeProtobuf(hello_ok).msg_case(), hrana::ws::ServerMsg::kHelloOk);

  ServerMsg hello_error;
  hello_error.type = ServerMsg::Type::kHelloError;
  hello_error.error = Status(ErrorCode::kUnauthorized, "expired");
  hrana::ws::ServerMsg parsed = EncodeProtobuf(hello_error);
  ASSERT_EQ(parsed.msg_case(), hrana::ws::ServerMsg::kHelloError);
  EXPECT_EQ(parsed.hello_error().error().message(), "expired");
  EXPECT_EQ(parsed.hello_error().error().code(), "AUTH_FAILED");

  ServerMsg response_error;
  response_error.type = ServerMsg::Type::kResponseError;
  response_error.request_id = -9;
  response_error.error = Status(ErrorCode::kSqlite, "no such table: t", 1);
  parsed = EncodeProtobuf(response_error);
  ASSERT_EQ(parsed.msg_case(), hrana::ws::ServerMsg::kResponseError);
  EXPECT_EQ(parsed.response_error().request_id(), -9);
  EXPECT_EQ(parsed.response_error().error().message(), "no such table: t");
  EXPECT_EQ(parsed.response_error().error().code(), "SQLITE_ERROR");
  EXPECT_EQ(parsed.response_error().error().raw_code(), 1);
}

TEST(ProtobufWsCodecTest, EncodesEveryResponseType) {
  using Ok = hrana::ws::ResponseOkMsg;
  const std::pair<WsRequest::Type, Ok::ResponseCase> type_only[] = {
      {WsRequest::Type::kOpenStream, Ok::kOpenStream},
      {WsRequest::Type::kCloseStream, Ok::kCloseStream},
      {WsRequest::Type::kStoreSql, Ok::kStoreSql},
      {WsRequest::Type::kCloseSql, Ok::kCloseSql},
      {WsRequest::Type::kOpenCursor, Ok::kOpenCursor},
      {WsRequest::Type::kCloseCursor, Ok::kCloseCursor},
  };
  for (const auto& [type, expected] : type_only) {
    hrana::ws::ServerMsg parsed = EncodeProtobuf(ResponseOk(5, type));
    ASSERT_EQ(parsed.msg_case(), hrana::ws::ServerMsg::kResponseOk);
    EXPECT_EQ(parsed.response_ok().request_id(), 5);
    EXPECT_EQ(parsed.response_ok().response_case(), expected);
  }

  ServerMsg execute = StreamOk(1, Request::Type::kExecute);
  StmtResult& result = execute.response.stream.execute;
  result.cols.push_back(Column{"v", "INTEGER"});
  Row row(1);
  row[0].type = Value::Type::kInteger;
  row[0].integer = 42;
  result.rows.push_back(row);
  result.affected_row_count = 3;
  result.last_insert_rowid = 17;
  hrana::ws::ServerMsg parsed = EncodeProtobuf(execute);
  ASSERT_EQ(parsed.response_ok().response_case(), Ok::kExecute);
  const hrana::StmtResult& stmt = parsed.response_ok().execute().result();
  EXPECT_EQ(stmt.cols(0).name(), "v");
  EXPECT_EQ(stmt.cols(0).decltype_(), "INTEGER");
  EXPECT_EQ(stmt.rows(0).values(0).integer(), 42);
  EXPECT_EQ(stmt.affected_row_count(), 3u);
  EXPECT_EQ(stmt.last_insert_rowid(), 17);

  ServerMsg batch = StreamOk(2, Request::Type::kBatch);
  batch.response.stream.batch.step_results = {StmtResult(), std::nullopt, std::nullopt};
  batch.response.stream.batch.step_errors = {std::nullopt, Status(ErrorCode::kSqlite, "boom"),
                                             std::nullopt};
  parsed = EncodeProtobuf(batch);
  ASSERT_EQ(parsed.response_ok().response_case(), Ok::kBatch);
  const hrana::BatchResult& steps = parsed.response_ok().batch().result();
  EXPECT_EQ(steps.step_results().size(), 1u);
  EXPECT_TRUE(steps.step_results().count(0) == 1);
  ASSERT_EQ(steps.step_errors().count(1), 1u);
  EXPECT_EQ(steps.step_errors().at(1).message(), "boom");
  EXPECT_EQ(steps.step_errors().count(2), 0u);

  EXPECT_EQ(EncodeProtobuf(StreamOk(3, Request::Type::kSequence)).response_ok().response_case(),
            Ok::kSequence);

  ServerMsg describe = StreamOk(4, Request::Type::kDescribe);
  describe.response.stream.describe.params = {std::string(":a"), std::nullopt};
  describe.response.stream.describe.is_readonly = true;
  parsed = EncodeProtobuf(describe);
  ASSERT_EQ(parsed.response_ok().response_case(), Ok::kDescribe);
  const hrana::DescribeResult& described = parsed.response_ok().describe().result();
  ASSERT_EQ(described.params_size(), 2);
  EXPECT_EQ(described.params(0).name(), ":a");
  EXPECT_FALSE(described.params(1).has_name());
  EXPECT_TRUE(described.is_readonly());

  ServerMsg autocommit = StreamOk(6, Request::Type::kGetAutocommit);
  autocommit.response.stream.is_autocommit = false;
  parsed = EncodeProtobuf(autocommit);
  ASSERT_EQ(parsed.response_ok().response_case(), Ok::kGetAutocommit);
  EXPECT_FALSE(parsed.response_ok().get_autocommit().is_autocommit());

  ServerMsg fetch = ResponseOk(7, WsRequest::Type::kFetchCursor);
  CursorEntry begin;
  begin.kind = CursorEntry::Kind::kStepBegin;
  begin.step = 0;
  begin.cols.push_back(Column{"x", std::nullopt});
  CursorEntry value_row;
  value_row.kind = CursorEntry::Kind::kRow;
  value_row.row = row;
  CursorEntry end;
  end.kind = CursorEntry::Kind::kStepEnd;
  end.affected_row_count = 1;
  CursorEntry failed;
  failed.kind = CursorEntry::Kind::kStepError;
  failed.step = 1;
  failed.error = Status(ErrorCode::kSqlite, "no such column: nope", 1);
  fetch.response.entries = {begin, value_row, end, failed};
  fetch.response.done = true;
  parsed = EncodeProtobuf(fetch);
  ASSERT_EQ(parsed.response_ok().response_case(), Ok::kFetchCursor);
  const hrana::ws::FetchCursorResp& entries = parsed.response_ok().fetch_cursor();
  ASSERT_EQ(entries.entries_size(), 4);
  EXPECT_EQ(entries.entries(0).step_begin().cols(0).name(), "x");
  EXPECT_EQ(entries.entries(1).row().values(0).integer(), 42);
  EXPECT_EQ(entries.entries(2).step_end().affected_row_count(), 1u);
  EXPECT_EQ(entries.entries(3).step_error().step(), 1u);
  EXPECT_EQ(entries.entries(3).step_error().error().message(), "no such column: nope");
  EXPECT_TRUE(entries.done());
}

}  // namespace
}  // namespace quarry::protocol
