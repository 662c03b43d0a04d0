// Change capture through every door: a counting ChangeObserver installed in a real server sees
// each committed row change exactly once, whichever way the write arrived, and nothing that
// was rolled back (a transaction, a statement, a savepoint, a group-commit write that failed
// alone).

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "client/admin_client.h"
#include "client/http_connection.h"
#include "storage/change_observer.h"
#include "test_server.h"

namespace quarry {
namespace {

namespace json = boost::json;
using quarry::testing::TestServer;

class CountingObserver : public storage::ChangeObserver {
 public:
  void OnCommit(const storage::CommittedChanges& committed) override {
    std::lock_guard lock(mutex_);
    for (const auto& change : committed.changes) {
      ++counts_[std::string(committed.ns) + "." + change.table];
    }
    EXPECT_GT(committed.commit, last_commit_[std::string(committed.ns)]) << "commit order";
    last_commit_[std::string(committed.ns)] = committed.commit;
  }
  int Count(const std::string& ns, const std::string& table) {
    std::lock_guard lock(mutex_);
    return counts_[ns + "." + table];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, int> counts_;
  std::map<std::string, uint64_t> last_commit_;
};

class ChangeCaptureTest : public ::testing::Test {
 protected:
  ChangeCaptureTest()
      : server_([this](server::ServerConfig& config) { config.change_observer = &observer_; }) {}

  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    ASSERT_EQ(Post("/db/default/v2/pipeline",
                   Pipeline({"CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"}))
                  .status,
              200);
  }

  client::HttpResponse Post(const std::string& path, const std::string& body) {
    client::HttpConnection http("127.0.0.1", server_.port(), server_.url(), {});
    auto response = http.Send("POST", path, body, server_.AdminToken());
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : client::HttpResponse{};
  }

  // A pipeline of execute requests on one stream, closed at the end.
  static std::string Pipeline(const std::vector<std::string>& sqls) {
    json::array requests;
    for (const auto& sql : sqls) {
      requests.push_back(json::object{{"type", "execute"}, {"stmt", {{"sql", sql}}}});
    }
    requests.push_back(json::object{{"type", "close"}});
    return json::serialize(json::object{{"baton", nullptr}, {"requests", std::move(requests)}});
  }

  // How many of a pipeline's results are errors.
  int Errors(const client::HttpResponse& response) {
    int errors = 0;
    json::value parsed = json::parse(response.body);
    for (const auto& result : parsed.at("results").as_array()) {
      errors += result.at("type") == "error" ? 1 : 0;
    }
    return errors;
  }

  int Count(const std::string& table = "t") { return observer_.Count("default", table); }

  CountingObserver observer_;
  TestServer server_;
};

TEST_F(ChangeCaptureTest, StreamTransactionsCommittedAndRolledBack) {
  Post("/db/default/v2/pipeline",
       Pipeline({"BEGIN", "INSERT INTO t VALUES (1, 'a'), (2, 'b')", "COMMIT"}));
  EXPECT_EQ(Count(), 2);
  Post("/db/default/v2/pipeline", Pipeline({"BEGIN", "INSERT INTO t VALUES (3, 'c')", "ROLLBACK"}));
  EXPECT_EQ(Count(), 2);
  // A statement that fails part-way keeps none of its rows; the transaction goes on.
  auto failed = Post("/db/default/v2/pipeline",
                     Pipeline({"BEGIN", "INSERT INTO t VALUES (4, 'd')",
                               "INSERT INTO t VALUES (5, 'e'), (1, 'duplicate')", "COMMIT"}));
  EXPECT_EQ(Errors(failed), 1) << failed.body;
  EXPECT_EQ(Count(), 3);
  // A savepoint rolled back takes its rows with it.
  Post("/db/default/v2/pipeline",
       Pipeline({"BEGIN", "INSERT INTO t VALUES (6, 'f')", "SAVEPOINT sp", "UPDATE t SET v = 'x'",
                 "ROLLBACK TO sp", "RELEASE sp", "COMMIT"}));
  EXPECT_EQ(Count(), 4);
  // An autocommit statement that fails part-way (a batch step, not grouped).
  json::object batch{
      {"type", "batch"},
      {"batch",
       {{"steps", json::array{json::object{
                      {"stmt", {{"sql", "INSERT INTO t VALUES (7, 'g'), (1, 'dup')"}}}}}}}}};
  Post("/db/default/v2/pipeline",
       json::serialize(json::object{{"baton", nullptr}, {"requests", json::array{batch}}}));
  EXPECT_EQ(Count(), 4);
}

// Review findings: a savepoint named like the keyword, and a write committed by resetting its
// statement (a RETURNING result past the size limit), then a transaction rolled back.
TEST_F(ChangeCaptureTest, QuotedSavepointNamesAndCommitsByReset) {
  Post("/db/default/v2/pipeline",
       Pipeline({"BEGIN", "INSERT INTO t VALUES (20, 'kept')", "SAVEPOINT \"savepoint\"",
                 "INSERT INTO t VALUES (21, 'undone')", "ROLLBACK TO \"savepoint\"",
                 "RELEASE \"savepoint\"", "COMMIT"}));
  EXPECT_EQ(Count(), 1);

  CountingObserver observer;
  TestServer small([&](server::ServerConfig& config) {
    config.change_observer = &observer;
    config.max_result_bytes = 4096;
  });
  ASSERT_TRUE(small.ok()) << small.error();
  client::HttpConnection http("127.0.0.1", small.port(), small.url(), {});
  auto post = [&](const std::string& body) {
    auto response = http.Send("POST", "/v2/pipeline", body, small.AdminToken());
    EXPECT_TRUE(response.ok());
    return response.ok() ? response->body : std::string();
  };
  post(Pipeline({"CREATE TABLE r (id INTEGER PRIMARY KEY, v BLOB)"}));
  std::string too_large =
      post(Pipeline({"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3) "
                     "INSERT INTO r SELECT x, randomblob(1000) FROM n RETURNING *"}));
  EXPECT_NE(too_large.find("RESPONSE_TOO_LARGE"), std::string::npos) << too_large;
  // The rows committed when the statement was reset, and are seen once, now.
  EXPECT_EQ(observer.Count("default", "r"), 3);
  post(Pipeline({"BEGIN", "INSERT INTO r VALUES (10, NULL)", "ROLLBACK"}));
  EXPECT_EQ(observer.Count("default", "r"), 3);
}

TEST_F(ChangeCaptureTest, SequenceBatchCursorAndLegacyDoors) {
  json::object sequence{{"type", "sequence"},
                        {"sql", "INSERT INTO t VALUES (10, 'a'); INSERT INTO t VALUES (11, 'b');"}};
  Post("/db/default/v2/pipeline",
       json::serialize(json::object{{"baton", nullptr}, {"requests", json::array{sequence}}}));
  EXPECT_EQ(Count(), 2);
  std::string cursor = R"json({"baton": null, "batch": {"steps": [
      {"stmt": {"sql": "INSERT INTO t VALUES (12, 'c')"}},
      {"stmt": {"sql": "DELETE FROM t WHERE id = 10"}}]}})json";
  EXPECT_EQ(Post("/db/default/v3/cursor", cursor).status, 200);
  EXPECT_EQ(Count(), 4);
  auto legacy = Post("/db/default/", R"json({"statements": ["INSERT INTO t VALUES (13, 'd')",
      {"q": "UPDATE t SET v = ? WHERE id = 13", "params": ["e"]}]})json");
  EXPECT_EQ(legacy.status, 200) << legacy.body;
  EXPECT_EQ(Count(), 6);
  auto legacy_failed = Post("/db/default/", R"json({"statements": ["INSERT INTO t VALUES (14, 'f')",
      "INSERT INTO t VALUES (13, 'duplicate')"]})json");
  EXPECT_EQ(legacy_failed.status, 400) << legacy_failed.body;
  EXPECT_EQ(Count(), 6);
}

TEST_F(ChangeCaptureTest, GroupCommitCountsOnlyTheWritesThatCommitted) {
  // Concurrent lone writes are merged into group commits; the ones that conflict fail alone,
  // rolled back to their savepoint inside the group's transaction.
  constexpr int kWriters = 8;
  constexpr int kWrites = 10;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      client::HttpConnection http("127.0.0.1", server_.port(), server_.url(), {});
      for (int i = 0; i < kWrites; ++i) {
        // Every writer also tries id 1000 + i once: only one of them can have it.
        int id = i % 2 == 0 ? 1000 + i : w * 100 + i;
        auto response =
            http.Send("POST", "/db/default/v2/pipeline",
                      Pipeline({"INSERT INTO t VALUES (" + std::to_string(id) + ", 'w')"}),
                      server_.AdminToken());
        ASSERT_TRUE(response.ok());
        failures += Errors(*response);
      }
    });
  }
  for (auto& writer : writers) {
    writer.join();
  }
  EXPECT_EQ(failures.load(), (kWriters - 1) * (kWrites / 2));
  EXPECT_EQ(Count(), kWriters * kWrites - failures.load());
}

TEST_F(ChangeCaptureTest, MigrationsAndGroupApplyThroughTheAdminApi) {
  std::string body =
      R"json({"format": "quarry", "migrations": [{"id": "20240101000000_seed",)json"
      R"json( "sql": "CREATE TABLE m (id INTEGER PRIMARY KEY);\nINSERT INTO m VALUES (1), (2), (3);"}]})json";
  json::value applied;
  ASSERT_EQ(server_.Admin("POST", "/namespaces/default/migrations", body, &applied), 200)
      << json::serialize(applied);
  EXPECT_EQ(Count("m"), 3);
  // The tracking row is a committed change too.
  EXPECT_EQ(Count("_quarry_migrations"), 1);

  for (const char* ns : {"g1", "g2"}) {
    ASSERT_EQ(server_.Admin("POST", "/namespaces", std::string(R"({"name": ")") + ns + "\"}"), 201);
  }
  ASSERT_EQ(server_.Admin("POST", "/groups", R"({"name": "tenants", "namespaces": ["g1", "g2"]})"),
            201);
  ASSERT_EQ(server_.Admin("POST", "/groups/tenants/migrations", body, &applied), 200)
      << json::serialize(applied);
  EXPECT_EQ(observer_.Count("g1", "m"), 3);
  EXPECT_EQ(observer_.Count("g2", "m"), 3);
}

}  // namespace
}  // namespace quarry
