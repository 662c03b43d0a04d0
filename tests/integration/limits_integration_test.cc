// Limits that hold per tenant (issue 6, section 2), against the real server: memory per
// statement, the size of a whole response, streams per namespace and per token, connections
// per namespace; and the access of one client never left on a pooled connection for the next.

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <boost/json.hpp>
#include <thread>

#include "client/http_connection.h"
#include "common/clock.h"
#include "test_server.h"

namespace quarry {
namespace {

namespace json = boost::json;
using quarry::testing::TestServer;

std::string Pipeline(const std::vector<std::string>& sqls, const std::string& baton = "",
                     bool close = true) {
  json::array requests;
  for (const auto& sql : sqls) {
    requests.push_back(json::object{{"type", "execute"}, {"stmt", {{"sql", sql}}}});
  }
  if (close) {
    requests.push_back(json::object{{"type", "close"}});
  }
  return json::serialize(
      json::object{{"baton", baton.empty() ? json::value(nullptr) : json::value(baton)},
                   {"requests", std::move(requests)}});
}

class Http {
 public:
  Http(const TestServer& server, std::string token)
      : http_("127.0.0.1", server.port(), server.url(), {}), token_(std::move(token)) {}
  client::HttpResponse Post(const std::string& path, const std::string& body) {
    auto response = http_.Send("POST", path, body, token_);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : client::HttpResponse{};
  }
  // The i-th result of a pipeline answer.
  static json::object Result(const client::HttpResponse& response, size_t i) {
    return json::parse(response.body).at("results").as_array().at(i).as_object();
  }

 private:
  client::HttpConnection http_;
  std::string token_;
};

int64_t PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

// Issue 6, defect 1 end to end: a read-only token's read, then a lone write with a read-write
// token, which joins a group commit on a pooled connection.
TEST(LimitsTest, ReadOnlyTokenReadDoesNotBreakTheNextReadWriteWrite) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  ASSERT_EQ(server.Admin("POST", "/namespaces", R"({"name": "m"})"), 201);
  Http rw(server, server.Token(auth::Access::kReadWrite));
  Http ro(server, server.Token(auth::Access::kReadOnly));
  ASSERT_EQ(
      Http::Result(rw.Post("/db/m/v2/pipeline", Pipeline({"CREATE TABLE t (x)"})), 0).at("type"),
      "ok");
  for (int i = 0; i < 5; ++i) {
    auto read = ro.Post("/db/m/v2/pipeline", Pipeline({"SELECT count(*) FROM t"}));
    EXPECT_EQ(Http::Result(read, 0).at("type"), "ok") << read.body;
    auto write = rw.Post("/db/m/v2/pipeline", Pipeline({"INSERT INTO t VALUES (1)"}));
    EXPECT_EQ(Http::Result(write, 0).at("type"), "ok") << write.body;
  }
}

TEST(LimitsTest, OneStatementCannotTakeGigabytes) {
  TestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  int64_t before = PeakRssMiB();
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      Http ro(server, server.Token(auth::Access::kReadOnly));
      auto out = ro.Post("/v2/pipeline",
                         Pipeline({"SELECT length(CAST(zeroblob(999999999) AS TEXT) || 1)"}));
      json::object result = Http::Result(out, 0);
      ASSERT_EQ(result.at("type"), "error") << out.body;
      EXPECT_EQ(result.at("error").at("code"), "SQLITE_TOOBIG") << out.body;
    });
  }
  for (auto& client : clients) {
    client.join();
  }
  EXPECT_LT(PeakRssMiB() - before, 512) << "peak RSS grew by more than 512 MiB";
}

TEST(LimitsTest, AWholeResponseIsBoundedNotOnlyEachStatement) {
  TestServer server([](server::ServerConfig& config) {
    config.max_result_bytes = 1 << 20;
    config.max_response_bytes = 2 << 20;
  });
  ASSERT_TRUE(server.ok()) << server.error();
  Http rw(server, server.AdminToken());
  // 30 statements of ~400 KiB (base64) each: each is under the per-statement bound, together
  // they are far over the response bound.
  std::vector<std::string> sqls(30, "SELECT randomblob(300000)");
  auto out = rw.Post("/v2/pipeline", Pipeline(sqls));
  ASSERT_EQ(out.status, 200);
  EXPECT_LT(out.body.size(), size_t{3} << 20);
  EXPECT_EQ(Http::Result(out, 0).at("type"), "ok");
  json::object last = Http::Result(out, 29);
  ASSERT_EQ(last.at("type"), "error");
  EXPECT_EQ(last.at("error").at("code"), "RESPONSE_TOO_LARGE");
  EXPECT_NE(std::string(last.at("error").at("message").as_string()).find("response"),
            std::string::npos);

  // The same for a cursor, which used to be built into one string.
  json::array steps;
  for (int i = 0; i < 30; ++i) {
    steps.push_back(json::object{{"stmt", {{"sql", "SELECT randomblob(300000)"}}}});
  }
  auto cursor =
      rw.Post("/v3/cursor",
              json::serialize(json::object{{"baton", nullptr}, {"batch", {{"steps", steps}}}}));
  ASSERT_EQ(cursor.status, 200);
  EXPECT_LT(cursor.body.size(), size_t{3} << 20);
  EXPECT_NE(cursor.body.find("RESPONSE_TOO_LARGE"), std::string::npos);
}

TEST(LimitsTest, StreamsOfOneNamespaceOrTokenLeaveOthersServed) {
  TestServer server([](server::ServerConfig& config) {
    config.max_streams_per_namespace = 4;
    config.max_streams_per_token = 6;
  });
  ASSERT_TRUE(server.ok()) << server.error();
  for (const char* ns : {"a", "b", "c"}) {
    ASSERT_EQ(server.Admin("POST", "/namespaces", std::string(R"({"name": ")") + ns + "\"}"), 201);
  }
  Http greedy(server, server.Token(auth::Access::kReadWrite, "greedy"));
  std::vector<std::string> batons;
  for (int i = 0; i < 4; ++i) {  // streams left open: their batons are kept
    auto out = greedy.Post("/db/a/v2/pipeline", Pipeline({"SELECT 1"}, "", false));
    ASSERT_EQ(Http::Result(out, 0).at("type"), "ok") << out.body;
    batons.emplace_back(json::parse(out.body).at("baton").as_string());
  }
  auto refused = greedy.Post("/db/a/v2/pipeline", Pipeline({"SELECT 1"}));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("namespace 'a'"), std::string::npos) << refused.body;
  // Another namespace, even for the same token, is served.
  Http other(server, server.Token(auth::Access::kReadWrite, "other"));
  EXPECT_EQ(Http::Result(other.Post("/db/b/v2/pipeline", Pipeline({"SELECT 1"})), 0).at("type"),
            "ok");
  // The token's own share: two more on b, then the seventh anywhere is refused.
  for (int i = 0; i < 2; ++i) {
    auto out = greedy.Post("/db/b/v2/pipeline", Pipeline({"SELECT 1"}, "", false));
    ASSERT_EQ(Http::Result(out, 0).at("type"), "ok") << out.body;
  }
  auto token_full = greedy.Post("/db/c/v2/pipeline", Pipeline({"SELECT 1"}));
  EXPECT_EQ(token_full.status, 503) << token_full.body;
  EXPECT_NE(token_full.body.find("this token"), std::string::npos) << token_full.body;
  EXPECT_EQ(Http::Result(other.Post("/db/c/v2/pipeline", Pipeline({"SELECT 1"})), 0).at("type"),
            "ok");
  // Closing a stream frees its place.
  json::object close{{"type", "close"}};
  greedy.Post("/db/a/v2/pipeline", json::serialize(json::object{{"baton", batons[0]},
                                                                {"requests", json::array{close}}}));
  EXPECT_EQ(Http::Result(greedy.Post("/db/c/v2/pipeline", Pipeline({"SELECT 1"})), 0).at("type"),
            "ok");
}

TEST(LimitsTest, ConnectionsPerNamespaceAreBounded) {
  TestServer server([](server::ServerConfig& config) { config.max_connections_per_namespace = 3; });
  ASSERT_TRUE(server.ok()) << server.error();
  Http rw(server, server.AdminToken());
  int refused = 0;
  for (int i = 0; i < 5; ++i) {
    auto out = rw.Post("/v2/pipeline", Pipeline({"SELECT 1"}, "", false));
    if (out.status == 503) {
      ++refused;
      EXPECT_NE(out.body.find("open connections"), std::string::npos) << out.body;
    }
  }
  EXPECT_EQ(refused, 2);
}

// The idle-stream and write-lock timeouts, end to end over HTTP, on a clock the test moves
// (these were Node tests that slept 1.5 s and 1.2 s).
TEST(LimitsTest, IdleStreamsAndLongWriteTransactionsAreRolledBack) {
  ManualClock clock;
  TestServer server([&](server::ServerConfig& config) {
    config.stream_clock = &clock;
    config.stream_idle_timeout = std::chrono::milliseconds(500);
    config.transaction_timeout = std::chrono::milliseconds(300);
  });
  ASSERT_TRUE(server.ok()) << server.error();
  Http rw(server, server.AdminToken());
  rw.Post("/v2/pipeline", Pipeline({"CREATE TABLE x (v)"}));
  auto baton_of = [](const client::HttpResponse& response) {
    return std::string(json::parse(response.body).at("baton").as_string());
  };

  // Idle (a read transaction, which holds no write lock): alive within the timeout, expired
  // past it.
  auto begun = rw.Post("/v2/pipeline", Pipeline({"BEGIN", "SELECT count(*) FROM x"}, "", false));
  clock.Advance(std::chrono::milliseconds(499));
  server.server().ExpireStreamsNow();
  auto alive =
      rw.Post("/v2/pipeline", Pipeline({"SELECT count(*) FROM x"}, baton_of(begun), false));
  EXPECT_EQ(Http::Result(alive, 0).at("type"), "ok") << alive.body;
  clock.Advance(std::chrono::milliseconds(500));
  server.server().ExpireStreamsNow();
  auto expired = rw.Post("/v2/pipeline", Pipeline({"COMMIT"}, baton_of(alive)));
  EXPECT_EQ(expired.status, 400) << expired.body;
  EXPECT_NE(expired.body.find("STREAM_EXPIRED"), std::string::npos) << expired.body;

  // Holding the write lock past the transaction limit: rolled back, the lock released, and
  // the stream says why.
  auto locked =
      rw.Post("/v2/pipeline", Pipeline({"BEGIN IMMEDIATE", "INSERT INTO x VALUES (3)"}, "", false));
  clock.Advance(std::chrono::milliseconds(300));
  server.server().ExpireStreamsNow();
  auto other = rw.Post("/v2/pipeline", Pipeline({"INSERT INTO x VALUES (4)"}));
  EXPECT_EQ(Http::Result(other, 0).at("type"), "ok") << other.body;
  auto late = rw.Post("/v2/pipeline", Pipeline({"COMMIT"}, baton_of(locked)));
  EXPECT_NE(late.body.find("TRANSACTION_TIMEOUT"), std::string::npos) << late.body;
  auto count = rw.Post("/v2/pipeline", Pipeline({"SELECT count(*) FROM x"}));
  EXPECT_NE(count.body.find(R"("value":"1")"), std::string::npos) << count.body;  // only 4
}

// Issue 8: a lone read whose token was verified before runs on the network thread that
// received it; a token seen for the first time, a write, a pipeline that keeps its stream and a
// read past the budget go to the workers.
TEST(LimitsTest, OnlyLoneReadsWithAKnownTokenRunOnTheNetworkThread) {
  TestServer server([](server::ServerConfig& config) {
    config.inline_read_budget = std::chrono::milliseconds(2);
  });
  ASSERT_TRUE(server.ok()) << server.error();
  ASSERT_EQ(server.Admin("POST", "/namespaces", R"({"name": "m"})"), 201);
  Http http(server, server.Token(auth::Access::kReadWrite));
  auto inline_after = [&](const std::string& body) {
    uint64_t before = server.server().inline_reads();
    auto answer = http.Post("/db/m/v2/pipeline", body);
    EXPECT_EQ(Http::Result(answer, 0).at("type"), "ok") << answer.body;
    return server.server().inline_reads() - before;
  };
  EXPECT_EQ(inline_after(Pipeline({"CREATE TABLE t (x)"})), 0u);
  EXPECT_EQ(inline_after(Pipeline({"INSERT INTO t VALUES (5)"})), 0u);
  EXPECT_EQ(inline_after(Pipeline({"SELECT x FROM t"})), 1u);
  EXPECT_EQ(inline_after(Pipeline({"SELECT x FROM t"}, "", /*close=*/false)), 0u);
  EXPECT_EQ(inline_after(Pipeline({"SELECT 1", "SELECT 2"})), 0u);
  EXPECT_EQ(inline_after(Pipeline({"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
                                   "FROM c WHERE n < 5000000) SELECT count(*) FROM c"})),
            0u);
  Http fresh(server, server.Token(auth::Access::kReadOnly, "another"));
  uint64_t before = server.server().inline_reads();
  fresh.Post("/db/m/v2/pipeline", Pipeline({"SELECT x FROM t"}));
  EXPECT_EQ(server.server().inline_reads(), before) << "an unverified token was checked inline";
  fresh.Post("/db/m/v2/pipeline", Pipeline({"SELECT x FROM t"}));
  EXPECT_EQ(server.server().inline_reads(), before + 1);
}

// The same reads, served on the network thread and on the workers, get the same answers:
// rows, SQL errors, a read longer than the budget (interrupted there, run again in full on a
// worker), a read-only token's write refused.
TEST(LimitsTest, ReadsOnTheNetworkThreadAnswerAsOnTheWorkers) {
  auto answers = [](std::chrono::microseconds budget) {
    TestServer server(
        [budget](server::ServerConfig& config) { config.inline_read_budget = budget; });
    EXPECT_TRUE(server.ok()) << server.error();
    EXPECT_EQ(server.Admin("POST", "/namespaces", R"({"name": "m"})"), 201);
    Http rw(server, server.Token(auth::Access::kReadWrite));
    Http ro(server, server.Token(auth::Access::kReadOnly));
    rw.Post("/db/m/v2/pipeline",
            Pipeline({"CREATE TABLE t (x)", "INSERT INTO t VALUES (1), (2), (NULL)"}));
    ro.Post("/db/m/v2/pipeline", Pipeline({"SELECT 1"}));  // the token is verified once
    std::vector<std::string> out;
    for (const char* sql :
         {"SELECT x FROM t ORDER BY x", "SELECT nope FROM t", "SELECT * FROM missing",
          "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000000) "
          "SELECT count(*) FROM c",
          "DELETE FROM t", "SELECT count(*) FROM t"}) {
      json::object result = Http::Result(ro.Post("/db/m/v2/pipeline", Pipeline({sql})), 0);
      if (result.at("type") == "ok") {
        out.push_back(json::serialize(result.at("response").at("result").at("rows")));
      } else {
        out.push_back(json::serialize(result.at("error").at("code")));
      }
    }
    return out;
  };
  std::vector<std::string> inline_answers = answers(std::chrono::microseconds(200));
  std::vector<std::string> worker_answers = answers(std::chrono::microseconds(0));
  EXPECT_EQ(inline_answers, worker_answers);
  ASSERT_EQ(inline_answers.size(), 6u);
  EXPECT_EQ(inline_answers[3], R"([[{"type":"integer","value":"3000000"}]])");
  EXPECT_EQ(inline_answers[5], R"([[{"type":"integer","value":"3"}]])");
}

}  // namespace
}  // namespace quarry
