// Realtime on the real server (docs/realtime.md): committed changes of every door streamed over
// the quarry-realtime-v1 WebSocket and over SSE, filtered by where and by the recorded schema's
// policies (enter/leave), resumed with since without gap or duplicate, reset past retention,
// and a slow consumer reset without holding anyone back.

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
#include <thread>

#include "cli_runner.h"
#include "client/client.h"
#include "client/http_connection.h"
#include "client/realtime_client.h"
#include "test_server.h"
#include "ws_client.h"

namespace quarry {
namespace {

namespace json = boost::json;
using quarry::testing::TestServer;
using quarry::testing::WsClient;

// With a token, the upgrade carries it in the Authorization header (the server's first message
// is then a hello_ok).
WsClient::Options RealtimeOptions(const std::string& ns, const std::string& token = {}) {
  WsClient::Options options;
  options.target = "/db/" + ns + "/v1/realtime";
  options.subprotocols = "quarry-realtime-v1";
  if (!token.empty()) {
    options.headers.emplace_back("Authorization", "Bearer " + token);
  }
  return options;
}

// Reads the next message, which must be of `type`; the hello_ok a socket authenticated by its
// upgrade's header gets first is passed over.
json::object Expect(WsClient& ws, const std::string& type) {
  json::object message = ws.Read();
  if (message["type"] == "hello_ok" && type != "hello_ok") {
    message = ws.Read();
  }
  EXPECT_EQ(message["type"], json::value(type)) << json::serialize(message);
  return message;
}

json::object Subscribe(WsClient& ws, const std::string& id, const std::string& model,
                       json::value where = nullptr, std::optional<uint64_t> since = {}) {
  json::object request{{"type", "subscribe"}, {"id", id}, {"model", model}};
  if (!where.is_null()) {
    request["where"] = std::move(where);
  }
  if (since) {
    request["since"] = *since;
  }
  ws.Send(request);
  return Expect(ws, "subscribed");
}

class RealtimeTest : public ::testing::Test {
 protected:
  explicit RealtimeTest(const std::function<void(server::ServerConfig&)>& adjust = {})
      : server_(adjust) {}

  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    ASSERT_EQ(server_.Admin("POST", "/namespaces", R"({"name": "shop"})"), 201);
    Sql("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, accountId INTEGER)");
  }

  void Sql(const std::string& sql) {
    auto db = client::Client::Open(server_.url("shop"), server_.AdminToken());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto done = (*db)->ExecuteMultiple(sql);
    ASSERT_TRUE(done.ok()) << sql << ": " << done.ToString();
  }

  std::pair<int, std::string> Post(const std::string& path, const std::string& body,
                                   const std::string& token) {
    client::HttpConnection http("127.0.0.1", server_.port(), server_.url(), {});
    auto response = http.Send("POST", path, body, token);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? std::pair{response->status, response->body}
                         : std::pair{0, std::string()};
  }

  TestServer server_;
};

TEST_F(RealtimeTest, EveryDoorProducesItsChangesWithRowImages) {
  WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(ws.ok()) << ws.error();
  EXPECT_EQ(ws.subprotocol(), "quarry-realtime-v1");
  json::object subscribed = Subscribe(ws, "s1", "posts");
  uint64_t start = subscribed["seq"].as_int64();

  // Hrana over HTTP, the data API, and Hrana over WebSocket.
  Sql("INSERT INTO posts VALUES (1, 'by hrana', 5)");
  auto [created, created_body] =
      Post("/db/shop/v1/posts/create",
           R"({"data": {"id": 2, "title": "by data api", "accountId": 5}})", server_.AdminToken());
  ASSERT_EQ(created, 200) << created_body;
  {
    WsClient hrana(server_.port(), WsClient::Options{.target = "/db/shop/"});
    ASSERT_TRUE(hrana.ok()) << hrana.error();
    hrana.Hello(server_.AdminToken());
    EXPECT_EQ(hrana.Read()["type"], json::value("hello_ok"));
    hrana.Request(1, {{"type", "open_stream"}, {"stream_id", 1}});
    hrana.Request(2, {{"type", "execute"},
                      {"stream_id", 1},
                      {"stmt", {{"sql", "INSERT INTO posts VALUES (3, 'by websocket', 6)"}}}});
    auto responses = hrana.ReadResponses(2);
    ASSERT_EQ(responses[2]["type"], json::value("response_ok")) << json::serialize(responses[2]);
  }
  Sql("UPDATE posts SET title = 'renamed' WHERE id = 1");
  auto [deleted, deleted_body] =
      Post("/db/shop/v1/posts/delete", R"({"where": {"id": 2}})", server_.AdminToken());
  ASSERT_EQ(deleted, 200) << deleted_body;

  std::vector<json::object> events;
  for (int i = 0; i < 5; ++i) {
    events.push_back(Expect(ws, "change"));
  }
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["sub"], json::value("s1"));
    EXPECT_EQ(events[i]["model"], json::value("posts"));
    EXPECT_EQ(events[i]["seq"].as_int64(), static_cast<int64_t>(start + i + 1))
        << "one sequence number per committed transaction, in commit order";
  }
  EXPECT_EQ(events[0]["op"], json::value("insert"));
  EXPECT_EQ(json::serialize(events[0]["row"]), R"({"id":1,"title":"by hrana","accountId":5})");
  EXPECT_FALSE(events[0].contains("old"));
  EXPECT_EQ(json::serialize(events[1]["row"]), R"({"id":2,"title":"by data api","accountId":5})");
  EXPECT_EQ(json::serialize(events[2]["row"]), R"({"id":3,"title":"by websocket","accountId":6})");
  EXPECT_EQ(events[3]["op"], json::value("update"));
  EXPECT_EQ(json::serialize(events[3]["row"]), R"({"id":1,"title":"renamed","accountId":5})");
  EXPECT_EQ(json::serialize(events[3]["old"]), R"({"id":1,"title":"by hrana","accountId":5})");
  EXPECT_EQ(events[4]["op"], json::value("delete"));
  EXPECT_EQ(json::serialize(events[4]["old"]), R"({"id":2,"title":"by data api","accountId":5})");
  EXPECT_FALSE(events[4].contains("row"));
}

TEST_F(RealtimeTest, MigrationsAndSeedsAreDoorsToo) {
  WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(ws.ok()) << ws.error();
  uint64_t start = Subscribe(ws, "s", "posts")["seq"].as_int64();
  quarry::testing::TempDir work;
  auto write = [&](const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  };
  auto quarry = [&](std::vector<std::string> args) {
    for (auto& flag : server_.CliFlags()) {
      args.push_back(std::move(flag));
    }
    return quarry::testing::RunCli(args, work.path());
  };
  // A migration that moves data, then a seed of two rows: a transaction each.
  write(work.path() / "migrations" / "20240101000000_fill.sql",
        "INSERT INTO posts VALUES (1, 'from a migration', 3);\n");
  auto applied = quarry({"migrate", "apply", "--db", "shop"});
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  write(work.path() / "seed.json",
        R"({"posts": [{"id": 2, "title": "seeded", "accountId": 3},
                      {"id": 3, "title": "seeded too", "accountId": 3}]})");
  auto seeded = quarry({"seed", (work.path() / "seed.json").string(), "--db", "shop"});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.output;

  json::object migrated = Expect(ws, "change");
  EXPECT_EQ(json::serialize(migrated["row"]),
            R"({"id":1,"title":"from a migration","accountId":3})");
  json::object first = Expect(ws, "change");
  json::object second = Expect(ws, "change");
  EXPECT_EQ(first["row"].at("title"), json::value("seeded"));
  EXPECT_EQ(second["row"].at("title"), json::value("seeded too"));
  EXPECT_GT(first["seq"].as_int64(), migrated["seq"].as_int64());
  EXPECT_GT(migrated["seq"].as_int64(), static_cast<int64_t>(start));
  EXPECT_EQ(first["seq"], second["seq"]) << "the seed is one transaction";
}

TEST_F(RealtimeTest, RolledBackWorkProducesNothingAndATransactionArrivesTogether) {
  WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(ws.ok()) << ws.error();
  uint64_t start = Subscribe(ws, "s1", "posts")["seq"].as_int64();
  Sql("BEGIN; INSERT INTO posts VALUES (1, 'never', 1); ROLLBACK;");
  Sql("BEGIN; INSERT INTO posts VALUES (2, 'kept', 1); SAVEPOINT a;"
      "INSERT INTO posts VALUES (3, 'rolled back to', 1); ROLLBACK TO a;"
      "INSERT INTO posts VALUES (4, 'kept too', 1); COMMIT;");
  json::object first = Expect(ws, "change");
  json::object second = Expect(ws, "change");
  EXPECT_EQ(first["row"].at("id"), json::value(2));
  EXPECT_EQ(second["row"].at("id"), json::value(4));
  EXPECT_EQ(first["seq"].as_int64(), static_cast<int64_t>(start + 1))
      << "the rolled-back transaction got no number";
  EXPECT_EQ(second["seq"], first["seq"]) << "one transaction, one number";
}

TEST_F(RealtimeTest, WhereFiltersAndAnUnpinningUpdateIsALeave) {
  WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(ws.ok()) << ws.error();
  Subscribe(ws, "mine", "posts", json::object{{"accountId", 5}});
  Subscribe(ws, "a-titles", "posts", json::object{{"title", {{"startsWith", "a"}}}});
  Sql("INSERT INTO posts VALUES (1, 'apple', 5)");     // both
  Sql("INSERT INTO posts VALUES (2, 'banana', 6)");    // neither
  Sql("UPDATE posts SET accountId = 6 WHERE id = 1");  // leaves mine, updates a-titles
  Sql("UPDATE posts SET accountId = 5 WHERE id = 2");  // enters mine
  std::multiset<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    json::object event = Expect(ws, "change");
    seen.insert(std::string(event["sub"].as_string()) + " " + std::string(event["op"].as_string()) +
                " " +
                std::to_string(event.contains("row") ? event["row"].at("id").as_int64()
                                                     : event["old"].at("id").as_int64()));
    if (event["op"] == "leave") {
      EXPECT_FALSE(event.contains("row"));
      EXPECT_EQ(event["old"].at("accountId"), json::value(5));
    }
  }
  EXPECT_EQ(seen, (std::multiset<std::string>{"mine insert 1", "a-titles insert 1", "mine leave 1",
                                              "a-titles update 1", "mine enter 2"}));
}

TEST_F(RealtimeTest, UserTokensSeeWhatTheirPoliciesAllowAndNotTheFieldsTheyMayNotRead) {
  json::object push{{"schema", R"(
model posts {
  id        Integer @id
  title     Text?
  accountId Integer?
  note      Text?   @guarded

  @@allow('read', accountId == auth().accountId)
}
)"}};
  json::value pushed;
  ASSERT_EQ(server_.Admin("POST", "/namespaces/shop/schema/push", json::serialize(push), &pushed),
            200)
      << json::serialize(pushed);
  json::value minted;
  ASSERT_EQ(
      server_.Admin("POST", "/tokens",
                    R"({"namespaces": ["shop"], "user": {"id": 1, "accountId": 5}})", &minted),
      201);
  std::string user(minted.at("token").as_string());

  // The browser's way: no header, a hello first.
  WsClient ws(server_.port(), RealtimeOptions("shop"));
  ASSERT_TRUE(ws.ok()) << ws.error();
  ws.Send({{"type", "subscribe"}, {"id", "early"}, {"model", "posts"}});
  EXPECT_EQ(Expect(ws, "error")["error"].at("code"), json::value("AUTH_FAILED"));
  ws.Send({{"type", "hello"}, {"token", user}});
  Expect(ws, "hello_ok");
  Subscribe(ws, "s", "posts");
  Sql("INSERT INTO posts VALUES (1, 'theirs', 6, 'secret')");
  Sql("INSERT INTO posts VALUES (2, 'mine', 5, 'secret')");
  Sql("UPDATE posts SET accountId = 6 WHERE id = 2");
  json::object insert = Expect(ws, "change");
  EXPECT_EQ(insert["op"], json::value("insert"));
  EXPECT_EQ(json::serialize(insert["row"]), R"({"id":2,"title":"mine","accountId":5})")
      << "the row of another account is not seen, the guarded field is absent";
  json::object leave = Expect(ws, "change");
  EXPECT_EQ(leave["op"], json::value("leave")) << "the policy no longer lets it read the row";
  EXPECT_EQ(json::serialize(leave["old"]), R"({"id":2,"title":"mine","accountId":5})");

  // Filtering on a field it may not read is refused, naming it.
  ws.Send({{"type", "subscribe"}, {"id", "bad"}, {"model", "posts"}, {"where", {{"note", "x"}}}});
  json::object refused = Expect(ws, "error");
  EXPECT_EQ(refused["id"], json::value("bad"));
  EXPECT_EQ(refused["error"].at("code"), json::value("FORBIDDEN")) << json::serialize(refused);
}

TEST_F(RealtimeTest, ResumingWithSinceHasNoGapAndNoDuplicate) {
  uint64_t last = 0;
  {
    WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
    ASSERT_TRUE(ws.ok()) << ws.error();
    Subscribe(ws, "s", "posts");
    Sql("INSERT INTO posts VALUES (1, 'a', 1)");
    Sql("INSERT INTO posts VALUES (2, 'b', 1)");
    Expect(ws, "change");
    last = Expect(ws, "change")["seq"].as_int64();
  }
  // Written while nobody listens.
  Sql("INSERT INTO posts VALUES (3, 'c', 1)");
  Sql("UPDATE posts SET title = 'cc' WHERE id = 3");
  Sql("DELETE FROM posts WHERE id = 1");
  WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(ws.ok()) << ws.error();
  EXPECT_EQ(Subscribe(ws, "s", "posts", nullptr, last)["seq"].as_int64(),
            static_cast<int64_t>(last));
  std::vector<std::string> ops;
  uint64_t seq = last;
  for (int i = 0; i < 3; ++i) {
    json::object event = Expect(ws, "change");
    EXPECT_EQ(event["seq"].as_int64(), static_cast<int64_t>(++seq));
    ops.emplace_back(event["op"].as_string());
  }
  EXPECT_EQ(ops, (std::vector<std::string>{"insert", "update", "delete"}));
  // And then live.
  Sql("INSERT INTO posts VALUES (4, 'd', 1)");
  json::object live = Expect(ws, "change");
  EXPECT_EQ(live["seq"].as_int64(), static_cast<int64_t>(seq + 1));
  EXPECT_EQ(live["row"].at("id"), json::value(4));
}

TEST_F(RealtimeTest, AnInfiniteRealIsReadBackFromTheLog) {
  // Boost.JSON writes infinity as "Infinity", which it cannot read back: a log record holding
  // one did not decode, and every resume past it was a reset.
  WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(ws.ok()) << ws.error();
  uint64_t start = Subscribe(ws, "live", "posts")["seq"].as_int64();
  Sql("INSERT INTO posts VALUES (1, 'far', -1e999)");
  json::object live = Expect(ws, "change");
  EXPECT_EQ(live["row"].at("id"), json::value(1)) << json::serialize(live);
  Subscribe(ws, "resumed", "posts", nullptr, start);
  json::object change = Expect(ws, "change");
  EXPECT_EQ(change["sub"], json::value("resumed")) << json::serialize(change);
  EXPECT_EQ(change["row"], live["row"]) << "as it was sent live";
}

TEST_F(RealtimeTest, BadMessagesGetErrorsNamingWhatWasWrong) {
  WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(ws.ok()) << ws.error();
  struct Case {
    std::string message;
    std::string code;
    std::string path;
  };
  std::vector<Case> cases = {
      {"not json", "ARGS_INVALID", ""},
      {R"({"type": "subscribe", "model": "posts"})", "ARGS_INVALID", "id"},
      {R"({"type": "subscribe", "id": "x"})", "ARGS_INVALID", "model"},
      {R"({"type": "subscribe", "id": "x", "model": "posts", "since": -1})", "ARGS_INVALID",
       "since"},
      {R"({"type": "subscribe", "id": "x", "model": "posts", "extra": 1})", "ARGS_INVALID",
       "extra"},
      {R"({"type": "subscribe", "id": "x", "model": "nobody"})", "ARGS_INVALID", "model"},
      {R"({"type": "subscribe", "id": "x", "model": "posts", "where": {"nope": 1}})",
       "ARGS_INVALID", "where.nope"},
      {R"({"type": "unsubscribe", "id": "never"})", "NOT_FOUND", "id"},
      {R"({"type": "dance"})", "ARGS_INVALID", "type"},
  };
  for (const Case& c : cases) {
    ws.SendRaw(c.message);
    json::object error = Expect(ws, "error");
    EXPECT_EQ(error["error"].at("code"), json::value(c.code)) << c.message;
    json::value path = c.path.empty() ? json::value(nullptr) : json::value(c.path);
    EXPECT_EQ(error["error"].at("path"), path) << c.message << " -> " << json::serialize(error);
  }
  // The socket still serves.
  Subscribe(ws, "x", "posts");
  ws.Send({{"type", "unsubscribe"}, {"id", "x"}});
  Expect(ws, "unsubscribed");
}

TEST_F(RealtimeTest, UpgradesAndTokensAreChecked) {
  WsClient no_subprotocol(server_.port(),
                          WsClient::Options{.target = "/db/shop/v1/realtime", .subprotocols = ""});
  EXPECT_FALSE(no_subprotocol.ok());
  EXPECT_EQ(no_subprotocol.http_status(), 400);
  WsClient forged(server_.port(), RealtimeOptions("shop", "not.a.token"));
  ASSERT_TRUE(forged.ok()) << forged.error();
  EXPECT_EQ(Expect(forged, "error")["error"].at("code"), json::value("AUTH_FAILED"));
  EXPECT_TRUE(forged.ReadUntilClosed());
  EXPECT_EQ(forged.close_code(), 1008);
  WsClient hello_forged(server_.port(), RealtimeOptions("shop"));
  ASSERT_TRUE(hello_forged.ok()) << hello_forged.error();
  hello_forged.Send({{"type", "hello"}, {"token", "not.a.token"}});
  EXPECT_EQ(Expect(hello_forged, "error")["error"].at("code"), json::value("AUTH_FAILED"));
  EXPECT_TRUE(hello_forged.ReadUntilClosed());
  EXPECT_EQ(hello_forged.close_code(), 1008);
  // A service token sees tables of a namespace without a recorded schema; a user token not.
  auth::Claims claims;
  claims.user = json::object{{"id", 1}};
  claims.all_namespaces = true;
  claims.issued_at = std::time(nullptr);
  claims.expires_at = claims.issued_at + 3600;
  WsClient user(server_.port(), RealtimeOptions("shop", server_.server().key().Sign(claims)));
  ASSERT_TRUE(user.ok()) << user.error();
  user.Send({{"type", "subscribe"}, {"id", "u"}, {"model", "posts"}});
  EXPECT_EQ(Expect(user, "error")["error"].at("code"), json::value("FORBIDDEN"));
}

// A minimal blocking HTTP/1.1 client for one event stream.
class EventStream {
 public:
  EventStream(uint16_t port, const std::string& target,
              const std::vector<std::pair<std::string, std::string>>& headers)
      : socket_(ioc_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& [name, value] : headers) {
      request += name + ": " + value + "\r\n";
    }
    request += "\r\n";
    boost::asio::write(socket_, boost::asio::buffer(request));
    boost::asio::read_until(socket_, buffer_, "\r\n\r\n");
    std::istream in(&buffer_);
    std::string line;
    std::getline(in, line);
    status_ = std::stoi(line.substr(9, 3));
    while (std::getline(in, line) && line != "\r") {
      head_ += line + "\n";
    }
  }
  int status() const { return status_; }
  const std::string& head() const { return head_; }
  // The next event's lines ("id: 3\nevent: change\ndata: {...}"), chunk framing removed; empty
  // when the stream ended.
  std::string NextEvent() {
    while (true) {
      size_t end = body_.find("\n\n");
      if (end != std::string::npos) {
        std::string event = body_.substr(0, end);
        body_.erase(0, end + 2);
        return event;
      }
      if (!ReadChunk()) {
        return "";
      }
    }
  }
  std::string Rest() {
    boost::system::error_code ec;
    boost::asio::read(socket_, buffer_, boost::asio::transfer_all(), ec);
    return std::string(boost::asio::buffers_begin(buffer_.data()),
                       boost::asio::buffers_end(buffer_.data()));
  }

 private:
  bool ReadChunk() {
    boost::system::error_code ec;
    boost::asio::read_until(socket_, buffer_, "\r\n", ec);
    if (ec) {
      return false;
    }
    std::istream in(&buffer_);
    std::string size_line;
    std::getline(in, size_line);
    size_t size = std::stoul(size_line, nullptr, 16);
    if (size == 0) {
      return false;
    }
    if (buffer_.size() < size + 2) {
      boost::asio::read(socket_, buffer_, boost::asio::transfer_exactly(size + 2 - buffer_.size()),
                        ec);
      if (ec) {
        return false;
      }
    }
    std::string chunk(size + 2, '\0');
    in.read(chunk.data(), static_cast<std::streamsize>(size + 2));
    body_ += chunk.substr(0, size);
    return true;
  }

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::streambuf buffer_;
  int status_ = 0;
  std::string head_;
  std::string body_;
};

TEST_F(RealtimeTest, ServerSentEventsCarryTheSequenceAsIdAndResumeFromLastEventId) {
  std::string auth = "Bearer " + server_.AdminToken();
  uint64_t seen = 0;
  {
    EventStream events(server_.port(),
                       "/db/shop/v1/changes?model=posts&where=%7B%22accountId%22%3A1%7D",
                       {{"Authorization", auth}});
    ASSERT_EQ(events.status(), 200);
    EXPECT_NE(events.head().find("text/event-stream"), std::string::npos) << events.head();
    std::string subscribed = events.NextEvent();
    EXPECT_NE(subscribed.find("event: subscribed"), std::string::npos) << subscribed;
    Sql("INSERT INTO posts VALUES (1, 'other account', 2)");
    Sql("INSERT INTO posts VALUES (2, 'mine', 1)");
    std::string change = events.NextEvent();
    ASSERT_EQ(change.rfind("id: ", 0), 0u) << change;
    seen = std::stoull(change.substr(4));
    EXPECT_NE(change.find("event: change\ndata: {\"type\":\"change\""), std::string::npos)
        << change;
    EXPECT_NE(change.find("\"title\":\"mine\""), std::string::npos) << change;
  }
  Sql("INSERT INTO posts VALUES (3, 'while away', 1)");
  // The token as a parameter (an EventSource cannot set headers), Last-Event-ID to resume.
  EventStream resumed(server_.port(),
                      "/db/shop/v1/changes?model=posts&token=" + server_.AdminToken(),
                      {{"Last-Event-ID", std::to_string(seen)}});
  ASSERT_EQ(resumed.status(), 200);
  resumed.NextEvent();  // subscribed
  std::string change = resumed.NextEvent();
  EXPECT_NE(change.find("id: " + std::to_string(seen + 1) + "\n"), std::string::npos) << change;
  EXPECT_NE(change.find("while away"), std::string::npos) << change;

  EventStream bad(server_.port(), "/db/shop/v1/changes?model=posts&since=x",
                  {{"Authorization", auth}});
  EXPECT_EQ(bad.status(), 400);
  EXPECT_NE(bad.Rest().find("since"), std::string::npos);
  EventStream anonymous(server_.port(), "/db/shop/v1/changes?model=posts", {});
  EXPECT_EQ(anonymous.status(), 401);
  // A subscription that cannot run is refused before the stream starts.
  EventStream unknown(server_.port(), "/db/shop/v1/changes?model=nobody",
                      {{"Authorization", auth}});
  EXPECT_EQ(unknown.status(), 400);
  EXPECT_NE(unknown.Rest().find("unknown model"), std::string::npos);
  // The query string is decoded as a URL's: %XX and '+', malformed escapes and repeats refused.
  // Braces as a browser sends them (unescaped), quotes escaped.
  EventStream plus(server_.port(), "/db/shop/v1/changes?model=posts&where={%22title%22:%22a+b%22}",
                   {{"Authorization", auth}});
  ASSERT_EQ(plus.status(), 200);
  plus.NextEvent();  // subscribed
  Sql("INSERT INTO posts VALUES (4, 'a+b', 1)");
  Sql("INSERT INTO posts VALUES (5, 'a b', 1)");
  EXPECT_NE(plus.NextEvent().find("\"id\":5"), std::string::npos) << "'+' is a space";
  EventStream escape(server_.port(), "/db/shop/v1/changes?model=posts&where=%7",
                     {{"Authorization", auth}});
  EXPECT_EQ(escape.status(), 400);
  EXPECT_NE(escape.Rest().find("malformed query string"), std::string::npos) << escape.Rest();
  EventStream twice(server_.port(), "/db/shop/v1/changes?model=posts&model=posts",
                    {{"Authorization", auth}});
  EXPECT_EQ(twice.status(), 400);
  EXPECT_NE(twice.Rest().find("given twice"), std::string::npos) << twice.Rest();
}

class RealtimeRetentionTest : public RealtimeTest {
 protected:
  RealtimeRetentionTest()
      : RealtimeTest([](server::ServerConfig& config) {
          config.changes_max_transactions = 2;
          config.changes_segment_bytes = 1;  // a segment per transaction
        }) {}
};

TEST_F(RealtimeRetentionTest, PastRetentionIsAnExplicitReset) {
  for (int i = 1; i <= 6; ++i) {
    Sql("INSERT INTO posts VALUES (" + std::to_string(i) + ", 'x', 1)");
  }
  WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(ws.ok()) << ws.error();
  Subscribe(ws, "old", "posts", nullptr, 0);
  json::object reset = Expect(ws, "reset");
  EXPECT_EQ(reset["sub"], json::value("old"));
  EXPECT_EQ(reset["code"], json::value("CHANGES_GONE"));
  EXPECT_NE(std::string(reset["reason"].as_string()).find("retention"), std::string::npos)
      << json::serialize(reset);
  // Ahead of the log (a namespace recreated under a client's feet) is a reset too.
  Subscribe(ws, "ahead", "posts", nullptr, 1000);
  EXPECT_EQ(Expect(ws, "reset")["sub"], json::value("ahead"));
  // Within it, a resume works.
  Subscribe(ws, "recent", "posts", nullptr, 5);
  EXPECT_EQ(Expect(ws, "change")["row"].at("id"), json::value(6));
  EventStream events(server_.port(), "/db/shop/v1/changes?model=posts&since=0",
                     {{"Authorization", "Bearer " + server_.AdminToken()}});
  EXPECT_EQ(events.status(), 410) << "an EventSource must not reconnect to the same reset";
  EXPECT_NE(events.Rest().find("CHANGES_GONE"), std::string::npos);
}

class RealtimeSlowConsumerTest : public RealtimeTest {
 protected:
  RealtimeSlowConsumerTest()
      : RealtimeTest(
            [](server::ServerConfig& config) { config.realtime_max_queued_bytes = 1 << 20; }) {}
};

TEST_F(RealtimeSlowConsumerTest, ASlowConsumerIsResetAndHoldsNobodyBack) {
  WsClient slow(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  WsClient fast(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(slow.ok() && fast.ok());
  Subscribe(slow, "s", "posts");
  Subscribe(fast, "f", "posts");
  // ~16 MB of events, more than the 1 MiB allowed plus what the kernel buffers between the
  // server and a client that does not read; 100 transactions (~400 KB) per request, which the
  // fast one reads before the next.
  const std::string title(4000, 't');
  constexpr int kRows = 4000;
  for (int batch = 0; batch < kRows / 100; ++batch) {
    std::string sql;
    for (int i = 0; i < 100; ++i) {
      int id = batch * 100 + i + 1;
      sql += "INSERT INTO posts VALUES (" + std::to_string(id) + ", '" + title + "', 1);";
    }
    Sql(sql);
    // The fast one keeps up.
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(Expect(fast, "change")["row"].at("id"), json::value(batch * 100 + i + 1));
    }
  }
  // The slow one got a prefix, then a reset at the last transaction it was sent whole.
  std::set<int64_t> ids;
  json::object message;
  while ((message = slow.Read())["type"] == "change") {
    ids.insert(message["row"].at("id").as_int64());
  }
  ASSERT_EQ(message["type"], json::value("reset")) << json::serialize(message);
  EXPECT_EQ(message["code"], json::value("TOO_SLOW")) << "resubscribing can work";
  EXPECT_NE(std::string(message["reason"].as_string()).find("too slow"), std::string::npos);
  EXPECT_LT(ids.size(), static_cast<size_t>(kRows));
  // Resuming from the reset's seq brings the rest, none twice.
  Subscribe(slow, "s", "posts", nullptr, message["seq"].as_int64());
  while (ids.size() < static_cast<size_t>(kRows)) {
    json::object event = Expect(slow, "change");
    ASSERT_TRUE(ids.insert(event["row"].at("id").as_int64()).second)
        << "delivered twice: " << event["row"].at("id");
  }
}

TEST_F(RealtimeTest, AFilterThatFailsOnALaterChangeGetsNoneOfTheTransaction) {
  // A JSON column without a recorded schema holds text that is not JSON: the filter's
  // json_extract fails on the second row of the transaction, after the first one matched.
  Sql("CREATE TABLE docs (id INTEGER PRIMARY KEY, meta JSON)");
  WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(ws.ok()) << ws.error();
  uint64_t start =
      Subscribe(ws, "s1", "docs", json::parse(R"({"meta": {"path": "$.a", "equals": 1}})"))["seq"]
          .as_int64();
  Sql("BEGIN; INSERT INTO docs VALUES (1, '{\"a\": 1}'); INSERT INTO docs VALUES (2, 'not json');"
      "COMMIT");
  // Not the first change marked as the whole transaction: a reset naming the one before.
  json::object next = ws.Read();
  EXPECT_EQ(next["type"], json::value("reset")) << json::serialize(next);
  EXPECT_EQ(next["seq"].as_int64(), static_cast<int64_t>(start)) << json::serialize(next);
}

TEST_F(RealtimeTest, AQuietSocketIsClosedWhenItsTokenExpires) {
  WsClient ws(server_.port(), RealtimeOptions("shop"));
  ASSERT_TRUE(ws.ok()) << ws.error();
  ws.Send({{"type", "hello"},
           {"token", server_.Token(auth::Access::kReadOnly, "test", std::chrono::seconds(2))}});
  Expect(ws, "hello_ok");
  Subscribe(ws, "s1", "posts");
  // No change, no message: the socket is closed all the same once the token has expired (it
  // used to stay open, answering nothing, until its next event).
  EXPECT_TRUE(ws.ReadUntilClosed());
  EXPECT_EQ(ws.close_code(), 1008);
  EXPECT_NE(ws.close_reason().find("expired"), std::string::npos) << ws.close_reason();
}

class RealtimeProgressTest : public RealtimeTest {
 protected:
  RealtimeProgressTest()
      : RealtimeTest([](server::ServerConfig& config) {
          config.realtime_progress_interval = std::chrono::milliseconds(50);
        }) {}
};

TEST_F(RealtimeProgressTest, AQuietSubscriptionIsToldHowFarItIsHandled) {
  WsClient ws(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  ASSERT_TRUE(ws.ok()) << ws.error();
  json::object subscribed = Subscribe(ws, "s1", "posts", json::parse(R"({"accountId": 7})"));
  uint64_t start = subscribed["seq"].as_int64();
  for (int i = 1; i <= 3; ++i) {
    Sql("INSERT INTO posts VALUES (" + std::to_string(i) + ", 'not 7', 8)");
  }
  // Progress marks until one says all three are handled (an earlier one may say fewer).
  json::object progress;
  do {
    progress = Expect(ws, "progress");
    ASSERT_EQ(progress["sub"], json::value("s1"));
  } while (progress["seq"].as_int64() < static_cast<int64_t>(start + 3));
  EXPECT_EQ(progress["seq"].as_int64(), static_cast<int64_t>(start + 3));
  // Nothing more moves, nothing more is said: the next message is the next change.
  Sql("INSERT INTO posts VALUES (4, 'seven', 7)");
  json::object change = Expect(ws, "change");
  EXPECT_EQ(change["seq"].as_int64(), static_cast<int64_t>(start + 4));
  // Resuming from the mark gives what came after it, once.
  WsClient again(server_.port(), RealtimeOptions("shop", server_.AdminToken()));
  Subscribe(again, "s2", "posts", json::parse(R"({"accountId": 7})"), start + 3);
  EXPECT_EQ(Expect(again, "change")["row"].at("id"), json::value(4));
}

// The C++ client's Watch (what `quarry watch` runs) on its own thread: the transactions it
// handed over, and how it ended.
class WatchThread {
 public:
  using Transaction = std::pair<uint64_t, std::vector<json::object>>;

  WatchThread(const std::string& url, client::TokenSource token, client::SubscribeRequest request)
      : thread_([this, url, token = std::move(token), request = std::move(request)] {
          client::WatchHandlers handlers{
              .on_subscribed =
                  [this](uint64_t seq) {
                    std::lock_guard lock(mu_);
                    subscribed_ = seq;
                    cv_.notify_all();
                  },
              .on_transaction =
                  [this](uint64_t seq, const std::vector<json::object>& changes) {
                    std::lock_guard lock(mu_);
                    transactions_.emplace_back(seq, changes);
                    cv_.notify_all();
                    return true;
                  },
          };
          client::WatchOptions options;
          options.stop = &stop_;
          Status ended = client::Watch(url, "", token, request, handlers, options);
          std::lock_guard lock(mu_);
          ended_ = ended;
          cv_.notify_all();
        }) {}
  ~WatchThread() { Stop(); }

  // The sequence the subscription started after, once it is in place (nullopt after 30 s).
  std::optional<uint64_t> WaitSubscribed() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return subscribed_ || ended_; });
    return subscribed_;
  }
  // The first `n` transactions handed over (fewer when 30 s pass or the watch ends first).
  std::vector<Transaction> WaitTransactions(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30),
                 [&] { return transactions_.size() >= n || ended_; });
    return transactions_;
  }
  std::optional<Status> ended() {
    std::lock_guard lock(mu_);
    return ended_;
  }
  // Stops the watch; how it ended.
  Status Stop() {
    stop_.store(true);
    if (thread_.joinable()) {
      thread_.join();
    }
    return ended_.value_or(Status(ErrorCode::kInternal, "the watch did not end"));
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<uint64_t> subscribed_;
  std::vector<Transaction> transactions_;
  std::optional<Status> ended_;
  std::thread thread_;
};

std::vector<int64_t> Ids(const std::vector<json::object>& changes, const char* image = "row") {
  std::vector<int64_t> ids;
  for (const json::object& change : changes) {
    ids.push_back(change.at(image).at("id").as_int64());
  }
  return ids;
}

TEST_F(RealtimeTest, TheClientsWatchHandsOverEachTransactionWholeInCommitOrder) {
  client::TokenSource token = [&] { return Result<std::string>(server_.AdminToken()); };
  WatchThread watch(server_.url("shop"), token,
                    {.model = "posts", .where = json::parse(R"({"accountId": 7})")});
  std::optional<uint64_t> start = watch.WaitSubscribed();
  ASSERT_TRUE(start) << watch.ended()->ToString();
  Sql("BEGIN; INSERT INTO posts VALUES (1, 'a', 7); INSERT INTO posts VALUES (2, 'b', 8);"
      "INSERT INTO posts VALUES (3, 'c', 7); COMMIT");
  Sql("INSERT INTO posts VALUES (5, 'not 7', 8)");
  Sql("UPDATE posts SET accountId = 8 WHERE id = 1");
  Sql("INSERT INTO posts VALUES (4, 'd', 7)");
  std::vector<WatchThread::Transaction> seen = watch.WaitTransactions(3);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].first, *start + 1);
  EXPECT_EQ(Ids(seen[0].second), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(seen[1].first, *start + 3) << "the insert of accountId 8 matched nothing";
  EXPECT_EQ(seen[1].second.at(0).at("op"), json::value("leave"));
  EXPECT_EQ(Ids(seen[1].second, "old"), (std::vector<int64_t>{1}));
  EXPECT_EQ(seen[2].first, *start + 4);
  EXPECT_EQ(Ids(seen[2].second), (std::vector<int64_t>{4}));
  Status stopped = watch.Stop();
  EXPECT_TRUE(stopped.ok()) << stopped.ToString();

  // From the log: the same transactions, and a handler that says it has enough ends the watch.
  std::vector<uint64_t> replayed;
  Status ended = client::Watch(
      server_.url(), "shop", token,
      {.model = "posts", .where = json::parse(R"({"accountId": 7})"), .since = *start},
      {.on_transaction = [&](uint64_t seq, const std::vector<json::object>&) {
        replayed.push_back(seq);
        return replayed.size() < 3;
      }});
  EXPECT_TRUE(ended.ok()) << ended.ToString();
  EXPECT_EQ(replayed, (std::vector<uint64_t>{*start + 1, *start + 3, *start + 4}));
}

TEST_F(RealtimeTest, TheClientsWatchEndsWithTheServersReasons) {
  client::TokenSource admin = [&] { return Result<std::string>(server_.AdminToken()); };
  auto watch = [&](const std::string& url, const client::TokenSource& token,
                   const std::string& model, const char* where = nullptr) {
    client::SubscribeRequest request{.model = model};
    if (where != nullptr) {
      request.where = json::parse(where);
    }
    return client::Watch(url, "", token, request, {});
  };
  Status bad_where = watch(server_.url("shop"), admin, "posts", R"({"nope": 1})");
  EXPECT_EQ(bad_where.code(), ErrorCode::kInvalidArgument) << bad_where.ToString();
  EXPECT_EQ(bad_where.path(), "where.nope") << bad_where.ToString();
  Status no_table = watch(server_.url("shop"), admin, "nope");
  EXPECT_NE(no_table.code(), ErrorCode::kOk);
  EXPECT_NE(no_table.message().find("nope"), std::string::npos) << no_table.ToString();
  Status no_namespace = watch(server_.url("gone"), admin, "posts");
  EXPECT_EQ(no_namespace.code(), ErrorCode::kNamespaceNotFound) << no_namespace.ToString();
  Status bad_token = watch(
      server_.url("shop"), [] { return Result<std::string>("not-a-token"); }, "posts");
  EXPECT_EQ(bad_token.code(), ErrorCode::kUnauthorized) << bad_token.ToString();
  Status unreachable = watch("http://127.0.0.1:1/db/shop", admin, "posts");
  EXPECT_EQ(unreachable.code(), ErrorCode::kUnavailable) << unreachable.ToString();
  Status no_model = watch(server_.url("shop"), admin, "");
  EXPECT_EQ(no_model.code(), ErrorCode::kInvalidArgument) << no_model.ToString();
}

TEST_F(RealtimeTest, TheClientsWatchRenewsItsTokenBeforeItExpires) {
  // Tokens that live 3 s: without a renewal the server closes the socket (1008) once the
  // first expires, and the watch ends unauthorized.
  std::atomic<int> minted{0};
  client::TokenSource short_lived = [&]() -> Result<std::string> {
    ++minted;
    return server_.Token(auth::Access::kReadOnly, "test", std::chrono::seconds(3));
  };
  WatchThread watch(server_.url("shop"), short_lived, {.model = "posts"});
  ASSERT_TRUE(watch.WaitSubscribed());
  constexpr int kWrites = 12;
  for (int i = 1; i <= kWrites; ++i) {
    Sql("INSERT INTO posts VALUES (" + std::to_string(i) + ", 'x', 1)");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::vector<WatchThread::Transaction> seen = watch.WaitTransactions(kWrites);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kWrites));
  EXPECT_FALSE(watch.ended()) << watch.ended()->ToString();
  EXPECT_GE(minted.load(), 3) << "6 s of 3 s tokens";
  EXPECT_TRUE(watch.Stop().ok());
}

TEST_F(RealtimeRetentionTest, TheClientsWatchPastRetentionEndsWithChangesGone) {
  for (int i = 1; i <= 6; ++i) {
    Sql("INSERT INTO posts VALUES (" + std::to_string(i) + ", 'x', 1)");
  }
  Status ended = client::Watch(server_.url("shop"), "",
                               [&] { return Result<std::string>(server_.AdminToken()); },
                               {.model = "posts", .since = 0}, {});
  EXPECT_EQ(ended.code(), ErrorCode::kChangesGone) << ended.ToString();
  EXPECT_NE(ended.message().find("retention"), std::string::npos) << ended.ToString();
}

}  // namespace
}  // namespace quarry
