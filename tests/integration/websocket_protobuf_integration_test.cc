// Hrana 3 over WebSocket with protobuf (subprotocol hrana3-protobuf) against the real server on
// a loopback port: a Beast client negotiates it, sends binary frames built with the classes
// protoc generated from src/protocol/proto/hrana_ws.proto, and decodes every answer with them.
// Covers hello, streams, execute, batches with conditions, stored SQL, cursors, describe,
// sequence, autocommit, the violations that close the socket, and a differential test: the
// same statements over hrana3 (JSON) and hrana3-protobuf carry the same results.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "protocol/json_body.h"
#include "protocol/proto/hrana.pb.h"
#include "protocol/proto/hrana_ws.pb.h"
#include "protocol/protobuf_codec.h"
#include "protocol/value.h"
#include "test_server.h"
#include "ws_client.h"

namespace quarry::testing {
namespace {
namespace json = boost::json;
namespace hpb = quarry::hrana;
namespace pbws = quarry::hrana::ws;

constexpr const char* kOffer = "hrana3-protobuf, hrana3, hrana2, hrana1";

WsClient::Options Offer(const std::string& subprotocols) {
  WsClient::Options options;
  options.subprotocols = subprotocols;
  return options;
}

// A client of hrana3-protobuf: ClientMsg out, ServerMsg in, both as binary frames.
class PbClient {
 public:
  explicit PbClient(uint16_t port) : ws_(port, Offer(kOffer)) {}
  WsClient& ws() { return ws_; }

  void Send(const pbws::ClientMsg& msg) { ws_.SendRaw(msg.SerializeAsString(), /*binary=*/true); }
  void Hello(const std::string& jwt) {
    pbws::ClientMsg msg;
    msg.mutable_hello()->set_jwt(jwt);
    Send(msg);
  }
  // Sends a request whose body `fill` writes.
  template <typename Fill>
  void Request(int32_t id, Fill fill) {
    pbws::ClientMsg msg;
    msg.mutable_request()->set_request_id(id);
    fill(*msg.mutable_request());
    Send(msg);
  }
  // The next ServerMsg; one with nothing set once the socket closed or on a frame that is not
  // a binary ServerMsg (which fails the test).
  pbws::ServerMsg Read() {
    std::string frame;
    bool binary = false;
    pbws::ServerMsg msg;
    if (!ws_.ReadFrame(frame, binary)) {
      return msg;
    }
    EXPECT_TRUE(binary) << "a text frame on a hrana3-protobuf socket: " << frame;
    EXPECT_TRUE(msg.ParseFromString(frame)) << "not a ServerMsg";
    return msg;
  }
  // Reads `n` responses (ok or error) and files them by request id.
  std::map<int32_t, pbws::ServerMsg> ReadResponses(size_t n) {
    std::map<int32_t, pbws::ServerMsg> out;
    for (size_t i = 0; i < n; ++i) {
      pbws::ServerMsg msg = Read();
      if (msg.has_response_ok()) {
        out[msg.response_ok().request_id()] = msg;
      } else if (msg.has_response_error()) {
        out[msg.response_error().request_id()] = msg;
      } else {
        ADD_FAILURE() << "message " << i << " of " << n
                      << " is no response: " << msg.ShortDebugString() << " (close "
                      << ws_.close_code() << " " << ws_.close_reason() << ")";
        break;
      }
    }
    return out;
  }

 private:
  WsClient ws_;
};

void SetStmt(hpb::Stmt* stmt, const std::string& sql) { stmt->set_sql(sql); }

auto OpenStream(int32_t stream) {
  return [stream](pbws::RequestMsg& r) { r.mutable_open_stream()->set_stream_id(stream); };
}
auto Execute(int32_t stream, const std::string& sql) {
  return [stream, sql](pbws::RequestMsg& r) {
    r.mutable_execute()->set_stream_id(stream);
    SetStmt(r.mutable_execute()->mutable_stmt(), sql);
  };
}

// The execute result of a response, or a failure naming what came instead.
const hpb::StmtResult& ResultOf(const pbws::ServerMsg& msg) {
  static const hpb::StmtResult kNone;
  if (!msg.has_response_ok() || !msg.response_ok().has_execute()) {
    ADD_FAILURE() << "not an execute response: " << msg.ShortDebugString();
    return kNone;
  }
  return msg.response_ok().execute().result();
}

TEST(WebSocketProtobufTest, NegotiatesProtobufAndServesEveryRequestType) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  PbClient pb(server.port());
  ASSERT_TRUE(pb.ws().ok()) << pb.ws().error();
  EXPECT_EQ(pb.ws().subprotocol(), "hrana3-protobuf");

  pb.Hello(server.AdminToken());
  pb.Request(1, OpenStream(1));
  pb.Request(2, Execute(1, "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, s TEXT, b BLOB)"));
  pb.Request(3, [](pbws::RequestMsg& r) {
    r.mutable_execute()->set_stream_id(1);
    hpb::Stmt* stmt = r.mutable_execute()->mutable_stmt();
    stmt->set_sql("INSERT INTO t (i, s, b) VALUES (:i, :s, :b)");
    auto named = [&](const std::string& name) {
      hpb::NamedArg* arg = stmt->add_named_args();
      arg->set_name(name);
      return arg->mutable_value();
    };
    named(":i")->set_integer(-9007199254740993);
    named(":s")->set_text("caf\xC3\xA9");
    named(":b")->set_blob(std::string("\0\xFF", 2));
  });
  // A batch as @libsql/client sends a transaction: each step only when the one before worked,
  // a rollback when one failed.
  pb.Request(4, [](pbws::RequestMsg& r) {
    r.mutable_batch()->set_stream_id(1);
    hpb::Batch* batch = r.mutable_batch()->mutable_batch();
    SetStmt(batch->add_steps()->mutable_stmt(), "BEGIN");
    hpb::BatchStep* insert = batch->add_steps();
    SetStmt(insert->mutable_stmt(), "INSERT INTO t (i) VALUES (2)");
    insert->mutable_condition()->set_step_ok(0);
    hpb::BatchStep* bad = batch->add_steps();
    SetStmt(bad->mutable_stmt(), "SELECT nope FROM t");
    bad->mutable_condition()->set_step_ok(1);
    hpb::BatchStep* commit = batch->add_steps();
    SetStmt(commit->mutable_stmt(), "COMMIT");
    commit->mutable_condition()->set_step_ok(2);
    hpb::BatchStep* rollback = batch->add_steps();
    SetStmt(rollback->mutable_stmt(), "ROLLBACK");
    rollback->mutable_condition()->mutable_not_()->set_step_ok(3);
  });
  pb.Request(5, [](pbws::RequestMsg& r) {
    r.mutable_store_sql()->set_sql_id(7);
    r.mutable_store_sql()->set_sql("SELECT i, s, b FROM t ORDER BY id");
  });
  pb.Request(6, [](pbws::RequestMsg& r) {
    r.mutable_execute()->set_stream_id(1);
    r.mutable_execute()->mutable_stmt()->set_sql_id(7);
  });
  pb.Request(7, [](pbws::RequestMsg& r) {
    r.mutable_open_cursor()->set_stream_id(1);
    r.mutable_open_cursor()->set_cursor_id(1);
    hpb::Batch* batch = r.mutable_open_cursor()->mutable_batch();
    batch->add_steps()->mutable_stmt()->set_sql_id(7);
    SetStmt(batch->add_steps()->mutable_stmt(), "SELECT nope");
  });
  pb.Request(8, [](pbws::RequestMsg& r) {
    r.mutable_fetch_cursor()->set_cursor_id(1);
    r.mutable_fetch_cursor()->set_max_count(100);
  });
  pb.Request(9, [](pbws::RequestMsg& r) { r.mutable_close_cursor()->set_cursor_id(1); });
  pb.Request(10, [](pbws::RequestMsg& r) {
    r.mutable_describe()->set_stream_id(1);
    r.mutable_describe()->set_sql("SELECT :a AS a, ?");
  });
  pb.Request(11, [](pbws::RequestMsg& r) {
    r.mutable_sequence()->set_stream_id(1);
    r.mutable_sequence()->set_sql("BEGIN; INSERT INTO t (i) VALUES (3)");
  });
  pb.Request(12, [](pbws::RequestMsg& r) { r.mutable_get_autocommit()->set_stream_id(1); });
  pb.Request(13, Execute(1, "ROLLBACK"));
  pb.Request(14, [](pbws::RequestMsg& r) { r.mutable_close_sql()->set_sql_id(7); });
  pb.Request(15, [](pbws::RequestMsg& r) {
    r.mutable_execute()->set_stream_id(1);
    r.mutable_execute()->mutable_stmt()->set_sql_id(7);
  });
  pb.Request(16, [](pbws::RequestMsg& r) { r.mutable_close_stream()->set_stream_id(1); });

  EXPECT_TRUE(pb.Read().has_hello_ok());
  auto r = pb.ReadResponses(16);
  ASSERT_EQ(r.size(), 16u);
  for (int id : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16}) {
    EXPECT_TRUE(r[id].has_response_ok()) << id << ": " << r[id].ShortDebugString();
  }
  EXPECT_TRUE(r[1].response_ok().has_open_stream());
  EXPECT_EQ(ResultOf(r[3]).affected_row_count(), 1u);
  EXPECT_EQ(ResultOf(r[3]).last_insert_rowid(), 1);

  const hpb::BatchResult& batch = r[4].response_ok().batch().result();
  EXPECT_EQ(batch.step_results().count(0), 1u);
  EXPECT_EQ(batch.step_results().count(1), 1u);
  ASSERT_EQ(batch.step_errors().count(2), 1u);
  EXPECT_EQ(batch.step_errors().at(2).code(), "SQLITE_ERROR");
  EXPECT_EQ(batch.step_results().count(3) + batch.step_errors().count(3), 0u) << "skipped";
  EXPECT_EQ(batch.step_results().count(4), 1u) << "the rollback ran";

  EXPECT_TRUE(r[5].response_ok().has_store_sql());
  const hpb::StmtResult& rows = ResultOf(r[6]);
  ASSERT_EQ(rows.cols_size(), 3);
  EXPECT_EQ(rows.cols(1).name(), "s");
  EXPECT_EQ(rows.cols(1).decltype_(), "TEXT");
  ASSERT_EQ(rows.rows_size(), 1) << "the batch's insert was rolled back";
  EXPECT_EQ(rows.rows(0).values(0).integer(), -9007199254740993);
  EXPECT_EQ(rows.rows(0).values(1).text(), "caf\xC3\xA9");
  EXPECT_EQ(rows.rows(0).values(2).blob(), std::string("\0\xFF", 2));

  EXPECT_TRUE(r[7].response_ok().has_open_cursor());
  const pbws::FetchCursorResp& fetched = r[8].response_ok().fetch_cursor();
  std::vector<hpb::CursorEntry::EntryCase> kinds;
  for (const hpb::CursorEntry& entry : fetched.entries()) {
    kinds.push_back(entry.entry_case());
  }
  EXPECT_EQ(kinds, (std::vector<hpb::CursorEntry::EntryCase>{
                       hpb::CursorEntry::kStepBegin, hpb::CursorEntry::kRow,
                       hpb::CursorEntry::kStepEnd, hpb::CursorEntry::kStepError}));
  EXPECT_TRUE(fetched.done());
  ASSERT_EQ(fetched.entries_size(), 4);
  EXPECT_EQ(fetched.entries(0).step_begin().cols(0).name(), "i");
  EXPECT_EQ(fetched.entries(1).row().values(1).text(), "caf\xC3\xA9");
  EXPECT_EQ(fetched.entries(3).step_error().step(), 1u);
  EXPECT_TRUE(r[9].response_ok().has_close_cursor());

  const hpb::DescribeResult& described = r[10].response_ok().describe().result();
  ASSERT_EQ(described.params_size(), 2);
  EXPECT_EQ(described.params(0).name(), ":a");
  EXPECT_FALSE(described.params(1).has_name());
  EXPECT_EQ(described.cols(0).name(), "a");
  EXPECT_TRUE(described.is_readonly());

  EXPECT_TRUE(r[11].response_ok().has_sequence());
  EXPECT_FALSE(r[12].response_ok().get_autocommit().is_autocommit()) << "inside the BEGIN";
  EXPECT_TRUE(r[14].response_ok().has_close_sql());
  ASSERT_TRUE(r[15].has_response_error()) << r[15].ShortDebugString();
  EXPECT_EQ(r[15].response_error().error().code(), "SQL_NOT_FOUND");
  EXPECT_TRUE(r[16].response_ok().has_close_stream());
}

TEST(WebSocketProtobufTest, HelloIsCheckedAsOverJson) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  PbClient pb(server.port());
  pbws::ClientMsg hello;
  hello.mutable_hello();  // no token
  pb.Send(hello);
  pbws::ServerMsg refused = pb.Read();
  ASSERT_TRUE(refused.has_hello_error()) << refused.ShortDebugString();
  EXPECT_EQ(refused.hello_error().error().code(), "AUTH_FAILED");
  EXPECT_TRUE(pb.ws().ReadUntilClosed());
  EXPECT_EQ(pb.ws().close_code(), 1008);
}

TEST(WebSocketProtobufTest, ProtocolViolationsCloseTheSocketWithAReason) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  {
    PbClient pb(server.port());
    pb.ws().SendRaw(R"({"type":"hello","jwt":null})", /*binary=*/false);
    EXPECT_TRUE(pb.ws().ReadUntilClosed());
    EXPECT_EQ(pb.ws().close_code(), 1003);
    EXPECT_NE(pb.ws().close_reason().find("binary frame"), std::string::npos)
        << pb.ws().close_reason();
  }
  {
    PbClient pb(server.port());
    pb.ws().SendRaw(std::string("\x12\x05\x08", 3), /*binary=*/true);  // truncated
    EXPECT_TRUE(pb.ws().ReadUntilClosed());
    EXPECT_EQ(pb.ws().close_code(), 1007);
    EXPECT_NE(pb.ws().close_reason().find("not a valid protobuf ClientMsg"), std::string::npos)
        << pb.ws().close_reason();
  }
  {
    PbClient pb(server.port());
    pb.Hello(server.AdminToken());
    pb.Request(1, [](pbws::RequestMsg&) {});  // a request message without its request
    EXPECT_TRUE(pb.Read().has_hello_ok());
    EXPECT_TRUE(pb.ws().ReadUntilClosed());
    EXPECT_EQ(pb.ws().close_code(), 1008);
    EXPECT_EQ(pb.ws().close_reason(), "request message has no request");
  }
  {
    PbClient pb(server.port());
    pb.Hello(server.AdminToken());
    pb.Request(1, Execute(3, "SELECT 1"));
    EXPECT_TRUE(pb.Read().has_hello_ok());
    EXPECT_TRUE(pb.ws().ReadUntilClosed());
    EXPECT_EQ(pb.ws().close_code(), 1008);
    EXPECT_NE(pb.ws().close_reason().find("stream 3 is not open"), std::string::npos);
  }
  // A bad request body is that request's error; the socket goes on.
  PbClient pb(server.port());
  pb.Hello(server.AdminToken());
  pb.Request(1, OpenStream(1));
  pb.Request(2, [](pbws::RequestMsg& r) {
    r.mutable_execute()->set_stream_id(1);
    r.mutable_execute()->mutable_stmt()->set_sql("SELECT ?");
    r.mutable_execute()->mutable_stmt()->add_args();  // a value with nothing set
  });
  pb.Request(3, [](pbws::RequestMsg& r) { r.mutable_execute()->set_stream_id(1); });
  pb.Request(4, Execute(1, "SELECT 4"));
  EXPECT_TRUE(pb.Read().has_hello_ok());
  auto r = pb.ReadResponses(4);
  ASSERT_TRUE(r[2].has_response_error()) << r[2].ShortDebugString();
  EXPECT_EQ(r[2].response_error().error().code(), "ARGS_INVALID");
  EXPECT_NE(r[2].response_error().error().message().find("request.stmt.args[0]"),
            std::string::npos);
  ASSERT_TRUE(r[3].has_response_error());
  EXPECT_EQ(r[3].response_error().error().message(), "request: missing field \"stmt\"");
  EXPECT_EQ(ResultOf(r[4]).rows(0).values(0).integer(), 4);
}

// A JSON value and a protobuf value agree, compared as protocol's Values.
void ExpectSameValue(const json::value& from_json, const hpb::Value& from_proto,
                     const std::string& at) {
  auto a = protocol::ValueFromJson(from_json, at);
  auto b = protocol::ValueFromProto(from_proto, at);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->type, b->type) << at;
  EXPECT_EQ(a->integer, b->integer) << at;
  EXPECT_EQ(a->real, b->real) << at;
  EXPECT_EQ(a->bytes, b->bytes) << at;
}

TEST(WebSocketProtobufTest, JsonAndProtobufSocketsAnswerTheSameStatementsAlike) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  WsClient js(server.port(), Offer("hrana3"));
  PbClient pb(server.port());
  ASSERT_EQ(js.subprotocol(), "hrana3");
  ASSERT_EQ(pb.ws().subprotocol(), "hrana3-protobuf");
  js.Hello(server.AdminToken());
  js.Request(1, {{"type", "open_stream"}, {"stream_id", 1}});
  ASSERT_EQ(js.Read().at("type"), "hello_ok");
  ASSERT_EQ(js.ReadResponses(1)[1].at("type"), "response_ok");
  pb.Hello(server.AdminToken());
  pb.Request(1, OpenStream(1));
  ASSERT_TRUE(pb.Read().has_hello_ok());
  ASSERT_TRUE(pb.ReadResponses(1)[1].has_response_ok());

  auto run_json = [&](const std::string& sql) {
    js.Request(2, {{"type", "execute"}, {"stream_id", 1}, {"stmt", {{"sql", sql}}}});
    std::string frame;
    bool binary = true;
    EXPECT_TRUE(js.ReadFrame(frame, binary));
    // Parsed exactly (Boost.JSON's default parser may round a double's last bit).
    auto parsed = protocol::ParseJsonBody(frame);
    EXPECT_TRUE(parsed.ok()) << frame;
    return parsed.ok() ? parsed->as_object() : json::object();
  };
  auto run_pb = [&](const std::string& sql) {
    pb.Request(2, Execute(1, sql));
    return pb.ReadResponses(1)[2];
  };
  // Each statement rolled back, so both sockets see the same database.
  auto in_transaction = [&](const std::string& sql, auto run) {
    run("BEGIN");
    auto answer = run(sql);
    run("ROLLBACK");
    return answer;
  };
  run_json("CREATE TABLE d (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB)");
  run_json(
      "INSERT INTO d (i, f, s, b) VALUES (9007199254740993, 1.0000000000000002, 'x', "
      "x'00ff'), (-1, -0.0, '', x''), (NULL, 1e308, 'caf\xC3\xA9', NULL)");
  const std::vector<std::string> statements = {
      "SELECT * FROM d ORDER BY id",
      "SELECT i * 2, f / 3, upper(s), hex(b), typeof(b) FROM d ORDER BY id",
      "SELECT 0.1 + 0.2, 9223372036854775807, -9223372036854775808",
      "UPDATE d SET s = s || '!' WHERE id > 1",
      "INSERT INTO d (s) VALUES ('new')",
      "SELECT * FROM nowhere",
      "INSERT INTO d (id) VALUES (1)",
  };
  for (const std::string& sql : statements) {
    json::object from_json = in_transaction(sql, run_json);
    pbws::ServerMsg from_pb = in_transaction(sql, run_pb);
    if (from_json.at("type") == "response_error") {
      ASSERT_TRUE(from_pb.has_response_error()) << sql << ": " << from_pb.ShortDebugString();
      const json::object& error = from_json.at("error").as_object();
      const hpb::Error& proto = from_pb.response_error().error();
      EXPECT_EQ(error.at("message").as_string(), proto.message()) << sql;
      EXPECT_EQ(error.at("code").as_string(), proto.code()) << sql;
      EXPECT_EQ(error.at("extended_code").as_string(), proto.extended_code()) << sql;
      continue;
    }
    ASSERT_EQ(from_json.at("type"), "response_ok") << sql;
    const json::object& result = from_json.at("response").at("result").as_object();
    const hpb::StmtResult& proto = ResultOf(from_pb);
    const json::array& cols = result.at("cols").as_array();
    ASSERT_EQ(static_cast<int>(cols.size()), proto.cols_size()) << sql;
    for (size_t c = 0; c < cols.size(); ++c) {
      const hpb::Col& col = proto.cols(static_cast<int>(c));
      EXPECT_EQ(cols[c].at("name").as_string(), col.name()) << sql;
      EXPECT_EQ(cols[c].at("decltype").is_null(), !col.has_decltype_()) << sql;
    }
    const json::array& rows = result.at("rows").as_array();
    ASSERT_EQ(static_cast<int>(rows.size()), proto.rows_size()) << sql;
    for (size_t i = 0; i < rows.size(); ++i) {
      const json::array& row = rows[i].as_array();
      const hpb::Row& proto_row = proto.rows(static_cast<int>(i));
      ASSERT_EQ(static_cast<int>(row.size()), proto_row.values_size()) << sql;
      for (size_t c = 0; c < row.size(); ++c) {
        ExpectSameValue(row[c], proto_row.values(static_cast<int>(c)),
                        sql + " row " + std::to_string(i) + " col " + std::to_string(c));
      }
    }
    EXPECT_EQ(result.at("affected_row_count").as_int64(),
              static_cast<int64_t>(proto.affected_row_count()))
        << sql;
    const json::value& rowid = result.at("last_insert_rowid");
    EXPECT_EQ(rowid.is_null(), !proto.has_last_insert_rowid()) << sql;
    if (!rowid.is_null()) {
      EXPECT_EQ(std::string(rowid.as_string()), std::to_string(proto.last_insert_rowid())) << sql;
    }
  }
}

}  // namespace
}  // namespace quarry::testing
