// Hrana over WebSocket against the real server on a loopback port, driven by a Beast WebSocket
// client: the upgrade (paths, namespaces, subprotocols), hello and re-hello, pipelined requests
// and their order, stored SQL per connection, cursors, protocol violations, the bound on
// outstanding requests, stream limits shared with HTTP, and the write-lock timeout of a stream
// on an idle but open socket.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "client/http_connection.h"
#include "common/clock.h"
#include "test_server.h"
#include "ws_client.h"

namespace quarry {
namespace {

namespace json = boost::json;
using quarry::testing::TestServer;
using quarry::testing::WsClient;

json::object Open(int stream) { return {{"type", "open_stream"}, {"stream_id", stream}}; }
json::object Execute(int stream, const std::string& sql) {
  return {{"type", "execute"}, {"stream_id", stream}, {"stmt", {{"sql", sql}}}};
}
std::string TypeOf(const json::object& msg) { return std::string(msg.at("type").as_string()); }
std::string ErrorCodeOf(const json::object& msg) {
  return msg.contains("error") ? std::string(msg.at("error").at("code").as_string()) : "";
}
// The first column of the first row of an execute response.
std::string FirstValue(const json::object& msg) {
  if (TypeOf(msg) != "response_ok") {
    ADD_FAILURE() << json::serialize(msg);
    return "";
  }
  const auto& rows = msg.at("response").at("result").at("rows").as_array();
  const auto& v = rows.at(0).as_array().at(0).as_object();
  return v.contains("value") ? json::serialize(v.at("value")) : "null";
}

std::string UserToken(TestServer& server) {
  auth::Claims claims;
  claims.user = json::object{{"id", 1}};
  claims.all_namespaces = true;
  claims.issued_at = std::time(nullptr);
  claims.expires_at = claims.issued_at + 3600;
  return server.server().key().Sign(claims);
}

std::string NamespaceToken(TestServer& server, const std::string& ns) {
  auth::Claims claims;
  claims.access = auth::Access::kReadWrite;
  claims.namespaces = {ns};
  claims.issued_at = std::time(nullptr);
  claims.expires_at = claims.issued_at + 3600;
  return server.server().key().Sign(claims);
}

TEST(WebSocketTest, PipelinedHelloAndRequestsAreAnsweredAndRunInOrder) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  ASSERT_EQ(server.Admin("POST", "/namespaces", R"({"name":"shop"})"), 201);
  WsClient ws(server.port(), {.target = "/db/shop/", .subprotocols = "hrana3, hrana2"});
  ASSERT_TRUE(ws.ok()) << ws.error();
  EXPECT_EQ(ws.subprotocol(), "hrana3");
  ws.Hello(server.AdminToken());
  ws.Request(1, Open(1));
  ws.Request(2, Execute(1, "CREATE TABLE t (v)"));
  for (int i = 0; i < 20; ++i) {
    ws.Request(10 + i, Execute(1, "INSERT INTO t VALUES (" + std::to_string(i) + ")"));
  }
  ws.Request(3, Execute(1, "SELECT group_concat(v) FROM t"));
  ws.Request(4, {{"type", "close_stream"}, {"stream_id", 1}});
  EXPECT_EQ(TypeOf(ws.Read()), "hello_ok");
  auto responses = ws.ReadResponses(24);
  for (auto& [id, msg] : responses) {
    EXPECT_EQ(TypeOf(msg), "response_ok") << id << ": " << json::serialize(msg);
  }
  EXPECT_EQ(FirstValue(responses[3]), R"("0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19")");
  // The table is in namespace "shop", not "default".
  client::HttpConnection http("127.0.0.1", server.port(), server.url(), {});
  auto other = http.Send(
      "POST", "/v2/pipeline",
      R"({"requests":[{"type":"execute","stmt":{"sql":"SELECT * FROM t"}},{"type":"close"}]})",
      server.AdminToken());
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->body.find("no such table"), std::string::npos) << other->body;
}

TEST(WebSocketTest, UpgradeUsesTheHttpPathsAndNamespaces) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  ASSERT_EQ(server.Admin("POST", "/namespaces", R"({"name":"shop"})"), 201);
  WsClient wrong_path(server.port(), {.target = "/v2/pipeline"});
  EXPECT_FALSE(wrong_path.ok());
  EXPECT_EQ(wrong_path.http_status(), 404);
  EXPECT_NE(wrong_path.body().find("/db/<name>/"), std::string::npos) << wrong_path.body();
  WsClient wrong_protocol(server.port(), {.subprotocols = "graphql-ws"});
  EXPECT_FALSE(wrong_protocol.ok());
  EXPECT_EQ(wrong_protocol.http_status(), 400);
  EXPECT_NE(wrong_protocol.body().find("hrana3"), std::string::npos);
  WsClient bad_name(server.port(), {.target = "/db/Bad..Name/"});
  EXPECT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.http_status(), 400);

  // No subprotocol offered: Hrana 1, which has no stored SQL.
  WsClient v1(server.port(), {.subprotocols = ""});
  ASSERT_TRUE(v1.ok()) << v1.error();
  EXPECT_EQ(v1.subprotocol(), "");
  v1.Hello(server.AdminToken());
  v1.Request(1, {{"type", "store_sql"}, {"sql_id", 1}, {"sql", "SELECT 1"}});
  EXPECT_EQ(TypeOf(v1.Read()), "hello_ok");
  EXPECT_TRUE(v1.ReadUntilClosed());
  EXPECT_EQ(v1.close_code(), 1008);
  EXPECT_NE(v1.close_reason().find("needs Hrana 2"), std::string::npos) << v1.close_reason();

  // The x-namespace header selects the namespace, as over HTTP; a token of another namespace
  // is refused at hello.
  WsClient by_header(server.port(), {.headers = {{"x-namespace", "shop"}}});
  ASSERT_TRUE(by_header.ok()) << by_header.error();
  by_header.Hello(NamespaceToken(server, "other"));
  json::object refused = by_header.Read();
  EXPECT_EQ(TypeOf(refused), "hello_error");
  EXPECT_EQ(ErrorCodeOf(refused), "FORBIDDEN");
  EXPECT_NE(json::serialize(refused).find("'shop'"), std::string::npos) << json::serialize(refused);
  EXPECT_TRUE(by_header.ReadUntilClosed());
}

TEST(WebSocketTest, HostUnderTheBaseDomainSelectsTheNamespace) {
  TestServer server([](server::ServerConfig& config) { config.base_domain = "db.test"; });
  ASSERT_TRUE(server.ok()) << server.error();
  ASSERT_EQ(server.Admin("POST", "/namespaces", R"({"name":"shop"})"), 201);
  WsClient shop(server.port(), {.host = "shop.db.test:443"});
  ASSERT_TRUE(shop.ok()) << shop.error();
  shop.Hello(NamespaceToken(server, "shop"));
  shop.Request(1, Open(1));
  shop.Request(2, Execute(1, "CREATE TABLE in_shop (v)"));
  EXPECT_EQ(TypeOf(shop.Read()), "hello_ok");
  auto r = shop.ReadResponses(2);
  EXPECT_EQ(TypeOf(r[2]), "response_ok") << json::serialize(r[2]);
  WsClient by_path(server.port(), {.target = "/db/shop/"});
  by_path.Hello(server.AdminToken());
  by_path.Request(1, Open(1));
  by_path.Request(2, Execute(1, "SELECT count(*) FROM in_shop"));
  EXPECT_EQ(TypeOf(by_path.Read()), "hello_ok");
  EXPECT_EQ(FirstValue(by_path.ReadResponses(2)[2]), R"("0")");
}

TEST(WebSocketTest, HelloChecksTheTokenAndALaterHelloReauthenticates) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  {
    WsClient ws(server.port());
    ASSERT_TRUE(ws.ok()) << ws.error();
    std::string forged = server.AdminToken();
    char& c = forged[forged.size() - 10];  // inside the signature (the last char has spare bits)
    c = c == 'A' ? 'B' : 'A';
    ws.Hello(forged);
    ws.Request(1, Open(1));
    json::object refused = ws.Read();
    EXPECT_EQ(TypeOf(refused), "hello_error");
    EXPECT_EQ(ErrorCodeOf(refused), "AUTH_FAILED");
    EXPECT_TRUE(ws.ReadUntilClosed()) << "requests after a refused hello must not be answered";
    EXPECT_EQ(ws.close_code(), 1008);
  }
  {
    WsClient ws(server.port());
    ws.Hello(UserToken(server));
    json::object refused = ws.Read();
    EXPECT_EQ(ErrorCodeOf(refused), "FORBIDDEN") << "user tokens never reach raw SQL";
    EXPECT_TRUE(ws.ReadUntilClosed());
  }
  {
    WsClient ws(server.port());
    ws.Request(1, Open(1));
    EXPECT_TRUE(ws.ReadUntilClosed());
    EXPECT_EQ(ws.close_code(), 1008);
    EXPECT_NE(ws.close_reason().find("before hello"), std::string::npos);
  }
  WsClient ws(server.port());
  ws.Hello(server.Token(auth::Access::kReadWrite));
  ws.Request(1, Open(1));
  ws.Request(2, Execute(1, "CREATE TABLE t (v)"));
  ws.Hello(server.Token(auth::Access::kReadOnly));
  ws.Request(3, Open(2));
  ws.Request(4, Execute(2, "INSERT INTO t VALUES (1)"));
  ws.Request(5, Execute(1, "INSERT INTO t VALUES (2)"));
  // Two hello_ok and five responses; the first hello's requests may be answered after the
  // second hello_ok (answers come in any order).
  std::map<int, json::object> r;
  int hello_oks = 0;
  for (int i = 0; i < 7; ++i) {
    json::object msg = ws.Read();
    ASSERT_FALSE(msg.empty()) << ws.close_reason();
    if (TypeOf(msg) == "hello_ok") {
      ++hello_oks;
    } else {
      r[static_cast<int>(msg.at("request_id").as_int64())] = msg;
    }
  }
  EXPECT_EQ(hello_oks, 2);
  EXPECT_EQ(TypeOf(r[2]), "response_ok");
  EXPECT_EQ(TypeOf(r[4]), "response_error") << "a stream opened after a read-only hello wrote";
  EXPECT_EQ(TypeOf(r[5]), "response_ok");
}

TEST(WebSocketTest, StoredSqlBelongsToItsConnection) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  WsClient a(server.port());
  WsClient b(server.port());
  for (WsClient* ws : {&a, &b}) {
    ws->Hello(server.AdminToken());
    ws->Request(1, Open(1));
  }
  a.Request(2, {{"type", "store_sql"}, {"sql_id", 5}, {"sql", "SELECT 'from a'"}});
  a.Request(3, {{"type", "execute"}, {"stream_id", 1}, {"stmt", {{"sql_id", 5}}}});
  b.Request(3, {{"type", "execute"}, {"stream_id", 1}, {"stmt", {{"sql_id", 5}}}});
  EXPECT_EQ(TypeOf(a.Read()), "hello_ok");
  EXPECT_EQ(TypeOf(b.Read()), "hello_ok");
  auto from_a = a.ReadResponses(3);
  auto from_b = b.ReadResponses(2);
  EXPECT_EQ(FirstValue(from_a[3]), R"("from a")");
  EXPECT_EQ(ErrorCodeOf(from_b[3]), "SQL_NOT_FOUND");
}

TEST(WebSocketTest, CursorsAndDescribeAndAutocommit) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  WsClient ws(server.port());
  ws.Hello(server.AdminToken());
  ws.Request(1, Open(1));
  ws.Request(2, Execute(1, "BEGIN"));
  ws.Request(3, {{"type", "get_autocommit"}, {"stream_id", 1}});
  json::object batch{{"steps", json::array{
                                   json::object{{"stmt", {{"sql", "SELECT 1 UNION SELECT 2"}}}},
                                   json::object{{"stmt", {{"sql", "SELECT nope"}}}},
                               }}};
  ws.Request(4, {{"type", "open_cursor"}, {"stream_id", 1}, {"cursor_id", 1}, {"batch", batch}});
  ws.Request(5, {{"type", "fetch_cursor"}, {"cursor_id", 1}, {"max_count", 1000}});
  ws.Request(6, {{"type", "close_cursor"}, {"cursor_id", 1}});
  ws.Request(7, {{"type", "describe"}, {"stream_id", 1}, {"sql", "SELECT ?1 AS a"}});
  ws.Request(8, {{"type", "sequence"}, {"stream_id", 1}, {"sql", "CREATE TABLE s (v); ROLLBACK"}});
  ws.Request(9, {{"type", "get_autocommit"}, {"stream_id", 1}});
  EXPECT_EQ(TypeOf(ws.Read()), "hello_ok");
  auto r = ws.ReadResponses(9);
  EXPECT_EQ(r[3].at("response").at("is_autocommit"), false);
  const auto& entries = r[5].at("response").at("entries").as_array();
  std::vector<std::string> types;
  for (const auto& entry : entries) {
    types.emplace_back(entry.at("type").as_string());
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{"step_begin", "row", "row", "step_end", "step_error"}));
  EXPECT_EQ(r[5].at("response").at("done"), true);
  EXPECT_EQ(TypeOf(r[6]), "response_ok");
  EXPECT_EQ(r[7].at("response").at("result").at("params").as_array().size(), 1u);
  EXPECT_EQ(TypeOf(r[8]), "response_ok");
  EXPECT_EQ(r[9].at("response").at("is_autocommit"), true);
}

TEST(WebSocketTest, ProtocolViolationsCloseTheSocketWithAReason) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  {
    WsClient ws(server.port());
    ws.SendRaw("{\"type\": \"hello\", ");
    EXPECT_TRUE(ws.ReadUntilClosed());
    EXPECT_EQ(ws.close_code(), 1007);
    EXPECT_NE(ws.close_reason().find("not valid JSON"), std::string::npos) << ws.close_reason();
  }
  {
    WsClient ws(server.port());
    ws.SendRaw(R"({"type":"hello","jwt":null})", /*binary=*/true);
    EXPECT_TRUE(ws.ReadUntilClosed());
    EXPECT_EQ(ws.close_code(), 1003);
  }
  {
    WsClient ws(server.port());
    ws.Hello(server.AdminToken());
    ws.Request(1, Execute(7, "SELECT 1"));
    EXPECT_EQ(TypeOf(ws.Read()), "hello_ok");
    EXPECT_TRUE(ws.ReadUntilClosed());
    EXPECT_EQ(ws.close_code(), 1008);
    EXPECT_NE(ws.close_reason().find("stream 7 is not open"), std::string::npos);
  }
  // A bad request body is that request's error; the socket goes on.
  WsClient ws(server.port());
  ws.Hello(server.AdminToken());
  ws.Request(1, Open(1));
  ws.Request(2, {{"type", "execute"},
                 {"stream_id", 1},
                 {"stmt", {{"sql", "SELECT ?"}, {"args", json::array{7}}}}});
  ws.Request(3, Execute(1, "SELECT 3"));
  EXPECT_EQ(TypeOf(ws.Read()), "hello_ok");
  auto r = ws.ReadResponses(3);
  EXPECT_EQ(ErrorCodeOf(r[2]), "ARGS_INVALID");
  EXPECT_EQ(FirstValue(r[3]), R"("3")");
}

// With a bound of one outstanding request, the server does not read the next request while one
// waits: a request answered at once (store_sql) sent behind one waiting for the write lock is
// answered after it, not before. And many pipelined requests still all complete.
TEST(WebSocketTest, OutstandingRequestsAreBoundedPerSocket) {
  TestServer server([](server::ServerConfig& config) { config.ws_max_outstanding_requests = 1; });
  ASSERT_TRUE(server.ok()) << server.error();
  WsClient holder(server.port());
  holder.Hello(server.AdminToken());
  holder.Request(1, Open(1));
  holder.Request(2, Execute(1, "CREATE TABLE t (v)"));
  holder.Request(3, Execute(1, "BEGIN IMMEDIATE"));
  EXPECT_EQ(TypeOf(holder.Read()), "hello_ok");
  holder.ReadResponses(3);

  WsClient ws(server.port());
  ws.Hello(server.AdminToken());
  ws.Request(1, Open(1));
  EXPECT_EQ(TypeOf(ws.Read()), "hello_ok");
  ws.ReadResponses(1);
  ws.Request(2, Execute(1, "INSERT INTO t VALUES (1)"));  // waits for the holder's lock
  ws.Request(3, {{"type", "store_sql"}, {"sql_id", 1}, {"sql", "SELECT 1"}});
  // Give a server that (wrongly) read request 3 the time of a few round trips to answer it.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(server.Admin("GET", "/namespaces", ""), 200);
  }
  holder.Request(4, Execute(1, "COMMIT"));
  EXPECT_EQ(TypeOf(holder.ReadResponses(1)[4]), "response_ok");
  json::object first = ws.Read();
  EXPECT_EQ(first.at("request_id"), 2) << "a request was read while one was outstanding";
  EXPECT_EQ(ws.Read().at("request_id"), 3);

  for (int i = 0; i < 300; ++i) {
    ws.Request(100 + i, Execute(1, "SELECT " + std::to_string(i)));
  }
  auto all = ws.ReadResponses(300);
  EXPECT_EQ(all.size(), 300u);
  EXPECT_EQ(FirstValue(all[399]), R"("299")");
}

TEST(WebSocketTest, StreamLimitsAreSharedWithHttp) {
  TestServer server([](server::ServerConfig& config) { config.max_streams_per_token = 2; });
  ASSERT_TRUE(server.ok()) << server.error();
  std::string token = server.Token(auth::Access::kReadWrite, "limited");
  WsClient ws(server.port());
  ws.Hello(token);
  EXPECT_EQ(TypeOf(ws.Read()), "hello_ok");
  // One open at a time: opens on different streams run in parallel, so sent together any one
  // of the three could be the one refused.
  std::map<int, json::object> r;
  for (int i = 1; i <= 3; ++i) {
    ws.Request(i, Open(i));
    r.merge(ws.ReadResponses(1));
  }
  ws.Request(4, Execute(3, "SELECT 1"));
  r.merge(ws.ReadResponses(1));
  EXPECT_EQ(TypeOf(r[1]), "response_ok");
  EXPECT_EQ(TypeOf(r[2]), "response_ok");
  EXPECT_EQ(ErrorCodeOf(r[3]), "TOO_MANY_STREAMS");
  EXPECT_EQ(ErrorCodeOf(r[4]), "TOO_MANY_STREAMS");
  client::HttpConnection http("127.0.0.1", server.port(), server.url(), {});
  auto over_http = http.Send(
      "POST", "/v2/pipeline",
      R"({"requests":[{"type":"execute","stmt":{"sql":"SELECT 1"}},{"type":"close"}]})", token);
  ASSERT_TRUE(over_http.ok());
  EXPECT_EQ(over_http->status, 503) << "the token's two WebSocket streams count over HTTP too";
  ws.Request(5, {{"type", "close_stream"}, {"stream_id", 1}});
  EXPECT_EQ(TypeOf(ws.ReadResponses(1)[5]), "response_ok");
  over_http = http.Send(
      "POST", "/v2/pipeline",
      R"({"requests":[{"type":"execute","stmt":{"sql":"SELECT 1"}},{"type":"close"}]})", token);
  ASSERT_TRUE(over_http.ok());
  EXPECT_EQ(over_http->status, 200) << over_http->body;
}

// Streams of an open socket never idle out, but one holding the write lock is still rolled back
// after the transaction limit (on a clock the test moves).
TEST(WebSocketTest, IdleSocketStreamsStayButTheWriteLockStillTimesOut) {
  ManualClock clock;
  TestServer server([&](server::ServerConfig& config) {
    config.stream_clock = &clock;
    config.stream_idle_timeout = std::chrono::milliseconds(500);
    config.transaction_timeout = std::chrono::milliseconds(300);
  });
  ASSERT_TRUE(server.ok()) << server.error();
  WsClient ws(server.port());
  ws.Hello(server.AdminToken());
  ws.Request(1, Open(1));
  ws.Request(2, Execute(1, "CREATE TABLE t (v)"));
  EXPECT_EQ(TypeOf(ws.Read()), "hello_ok");
  auto begun = ws.ReadResponses(2);  // streams run in parallel: the table first
  ws.Request(3, Open(2));
  ws.Request(4, Execute(2, "BEGIN"));
  ws.Request(5, Execute(2, "SELECT count(*) FROM t"));
  ws.Request(6, Execute(1, "BEGIN IMMEDIATE"));
  ws.Request(7, Execute(1, "INSERT INTO t VALUES (1)"));
  begun.merge(ws.ReadResponses(5));
  for (auto& [id, msg] : begun) {
    EXPECT_EQ(TypeOf(msg), "response_ok") << id << ": " << json::serialize(msg);
  }

  clock.Advance(std::chrono::seconds(30));
  server.server().ExpireStreamsNow();
  client::HttpConnection http("127.0.0.1", server.port(), server.url(), {});
  auto other =
      http.Send("POST", "/v2/pipeline",
                R"x({"requests":[{"type":"execute","stmt":{"sql":"INSERT INTO t VALUES (2)"}},)x"
                R"x({"type":"close"}]})x",
                server.AdminToken());
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->body.find(R"("affected_row_count":1)"), std::string::npos)
      << "the write lock was not released: " << other->body;
  ws.Request(8, Execute(1, "COMMIT"));
  ws.Request(9, Execute(2, "SELECT count(*) FROM t"));
  auto after = ws.ReadResponses(2);
  EXPECT_EQ(ErrorCodeOf(after[8]), "TRANSACTION_TIMEOUT");
  EXPECT_EQ(FirstValue(after[9]), R"("0")") << "the read transaction's stream idled out";
}

}  // namespace
}  // namespace quarry
