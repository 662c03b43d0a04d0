#include "protocol/hrana_service.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <thread>

#include "auth/sql_authorizer.h"
#include "common/clock.h"
#include "storage/namespace_store.h"

namespace quarry::protocol {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

class HranaServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("quarry-hrana-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    storage::StoreOptions options;
    options.data_dir = dir_;
    options.connection.access_rules = auth::InstallClientRules;  // as the server runs
    store_ = std::move(storage::NamespaceStore::Open(options)).value();
    StreamLimits limits;
    limits.idle_timeout = std::chrono::milliseconds(300);
    limits.transaction_timeout = std::chrono::milliseconds(200);
    limits.query_timeout = std::chrono::milliseconds(300);
    limits.max_result_bytes = 64 << 10;
    limits.max_streams = 8;
    streams_ = std::make_unique<StreamManager>(limits, clock_);
    service_ = std::make_unique<HranaService>(
        [this](std::string_view ns) { return store_->Get(ns); }, *streams_,
        [this](std::string_view ns) { return store_->GetIfOpen(ns); });
  }
  void TearDown() override {
    service_.reset();
    streams_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  json::object Pipeline(const std::string& body, StreamOwner owner = {"default"}) {
    auto out = service_->Pipeline(owner, body);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? json::parse(*out).as_object() : json::object();
  }

  static std::string Exec(const std::string& sql, const std::string& baton = "",
                          bool close = false) {
    json::object body;
    body["baton"] = baton.empty() ? json::value(nullptr) : json::value(baton);
    json::array requests{json::object{{"type", "execute"}, {"stmt", {{"sql", sql}}}}};
    if (close) {
      requests.push_back(json::object{{"type", "close"}});
    }
    body["requests"] = std::move(requests);
    return json::serialize(body);
  }

  int64_t Count(const std::string& table) {
    json::object out = Pipeline(Exec("SELECT count(*) FROM " + table, "", true));
    auto& result = out["results"].as_array()[0].as_object();
    EXPECT_EQ(result["type"], "ok") << json::serialize(result);
    auto& rows = result["response"].as_object()["result"].as_object()["rows"].as_array();
    return std::stoll(std::string(rows[0].as_array()[0].as_object()["value"].as_string()));
  }

  fs::path dir_;
  ManualClock clock_;  // streams expire when the test moves it and calls ExpireNow
  std::unique_ptr<storage::NamespaceStore> store_;
  std::unique_ptr<StreamManager> streams_;
  std::unique_ptr<HranaService> service_;
};

TEST_F(HranaServiceTest, BatonsAreSingleUseAndUnguessable) {
  json::object first = Pipeline(Exec("SELECT 1"));
  ASSERT_TRUE(first["baton"].is_string());
  std::string baton(first["baton"].as_string());
  EXPECT_GE(baton.size(), 40u);

  json::object second = Pipeline(Exec("SELECT 2", baton));
  ASSERT_TRUE(second["baton"].is_string());
  EXPECT_NE(second["baton"].as_string(), baton);

  auto reused = service_->Pipeline({"default"}, Exec("SELECT 3", baton));
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.status().code(), ErrorCode::kStreamExpired);
  EXPECT_FALSE(service_->Pipeline({"default"}, Exec("SELECT 3", "made-up")).ok());
}

TEST_F(HranaServiceTest, BatonIsBoundToItsOwner) {
  ASSERT_TRUE(store_->Create("other").ok());
  json::object first = Pipeline(Exec("SELECT 1"));
  std::string baton(first["baton"].as_string());
  auto other_ns = service_->Pipeline({"other"}, Exec("SELECT 1", baton));
  EXPECT_EQ(other_ns.status().code(), ErrorCode::kStreamExpired);
}

TEST_F(HranaServiceTest, CloseEndsTheStream) {
  json::object out = Pipeline(Exec("SELECT 1", "", /*close=*/true));
  EXPECT_TRUE(out["baton"].is_null());
  EXPECT_EQ(streams_->parked_count(), 0u);
}

TEST_F(HranaServiceTest, IdleStreamExpiresAndRollsBack) {
  Pipeline(Exec("CREATE TABLE t(x)", "", true));
  json::object out = Pipeline(Exec("BEGIN"));
  std::string baton(out["baton"].as_string());
  out = Pipeline(Exec("INSERT INTO t VALUES (1)", baton));
  baton = std::string(out["baton"].as_string());
  clock_.Advance(std::chrono::milliseconds(299));
  streams_->ExpireNow();
  out = Pipeline(Exec("SELECT 1", baton));  // not idle long enough yet
  baton = std::string(out["baton"].as_string());
  clock_.Advance(std::chrono::milliseconds(300));
  streams_->ExpireNow();
  EXPECT_EQ(service_->Pipeline({"default"}, Exec("COMMIT", baton)).status().code(),
            ErrorCode::kStreamExpired);
  EXPECT_EQ(Count("t"), 0);
}

TEST_F(HranaServiceTest, WriteLockHeldTooLongIsRolledBack) {
  Pipeline(Exec("CREATE TABLE t(x)", "", true));
  json::object out = Pipeline(Exec("BEGIN IMMEDIATE"));
  std::string baton(out["baton"].as_string());
  out = Pipeline(Exec("INSERT INTO t VALUES (1)", baton));
  baton = std::string(out["baton"].as_string());
  clock_.Advance(std::chrono::milliseconds(199));
  streams_->ExpireNow();
  out = Pipeline(Exec("SELECT 1", baton));  // still within the transaction limit
  ASSERT_EQ(out["results"].as_array()[0].as_object()["type"], "ok");
  baton = std::string(out["baton"].as_string());
  clock_.Advance(std::chrono::milliseconds(1));
  streams_->ExpireNow();
  // Another writer gets the lock, and the stalled stream learns why its work is gone.
  Pipeline(Exec("INSERT INTO t VALUES (2)", "", true));
  out = Pipeline(Exec("COMMIT", baton));
  auto& result = out["results"].as_array()[0].as_object();
  EXPECT_EQ(result["type"], "error");
  EXPECT_EQ(result["error"].as_object()["code"], "TRANSACTION_TIMEOUT");
  EXPECT_EQ(Count("t"), 1);
}

TEST_F(HranaServiceTest, BatchConditionsAndAtomicity) {
  Pipeline(Exec("CREATE TABLE t(x UNIQUE)", "", true));
  json::object out = Pipeline(R"json({"requests":[{"type":"batch","batch":{"steps":[
    {"stmt":{"sql":"BEGIN"}},
    {"condition":{"type":"ok","step":0},"stmt":{"sql":"INSERT INTO t VALUES (1)"}},
    {"condition":{"type":"ok","step":1},"stmt":{"sql":"INSERT INTO t VALUES (1)"}},
    {"condition":{"type":"and","conds":[{"type":"ok","step":2},{"type":"not","cond":{"type":"is_autocommit"}}]},"stmt":{"sql":"COMMIT"}},
    {"condition":{"type":"not","cond":{"type":"ok","step":3}},"stmt":{"sql":"ROLLBACK"}},
    {"condition":{"type":"or","conds":[{"type":"error","step":2},{"type":"ok","step":3}]},"stmt":{"sql":"SELECT 42"}}
  ]}},{"type":"close"}]})json");
  auto& batch =
      out["results"].as_array()[0].as_object()["response"].as_object()["result"].as_object();
  auto& results = batch["step_results"].as_array();
  auto& errors = batch["step_errors"].as_array();
  EXPECT_TRUE(results[1].is_object());
  EXPECT_TRUE(results[2].is_null());
  EXPECT_EQ(errors[2].as_object()["code"], "SQLITE_CONSTRAINT");
  EXPECT_TRUE(results[3].is_null() && errors[3].is_null());  // skipped
  EXPECT_TRUE(results[4].is_object());                       // rolled back
  EXPECT_TRUE(results[5].is_object());
  EXPECT_EQ(Count("t"), 0);
}

TEST_F(HranaServiceTest, MalformedPipelineAppliesNothing) {
  Pipeline(Exec("CREATE TABLE t(x)", "", true));
  auto bad = service_->Pipeline({"default"}, R"json({"requests":[
      {"type":"execute","stmt":{"sql":"INSERT INTO t VALUES (1)"}},
      {"type":"execute","stmt":{"sql":42}}]})json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("requests[1].stmt.sql"), std::string::npos);
  EXPECT_EQ(Count("t"), 0);
}

TEST_F(HranaServiceTest, ReadOnlyOwnerCannotWrite) {
  Pipeline(Exec("CREATE TABLE t(x)", "", true));
  json::object out =
      Pipeline(Exec("INSERT INTO t VALUES (1)", "", true), {"default", auth::SqlAccess::kReadOnly});
  auto& result = out["results"].as_array()[0].as_object();
  EXPECT_EQ(result["type"], "error");
  EXPECT_EQ(Count("t"), 0);
}

TEST_F(HranaServiceTest, StoredSqlAndDescribe) {
  json::object out = Pipeline(R"json({"requests":[
    {"type":"store_sql","sql_id":7,"sql":"SELECT :a AS v"},
    {"type":"execute","stmt":{"sql_id":7,"named_args":[{"name":"a","value":{"type":"text","value":"x"}}]}},
    {"type":"describe","sql_id":7},
    {"type":"close_sql","sql_id":7},
    {"type":"execute","stmt":{"sql_id":7}},
    {"type":"get_autocommit"},
    {"type":"close"}]})json");
  auto& results = out["results"].as_array();
  EXPECT_EQ(results[1].as_object()["type"], "ok");
  auto& described = results[2].as_object()["response"].as_object()["result"].as_object();
  EXPECT_EQ(described["params"].as_array()[0].as_object()["name"], ":a");
  EXPECT_EQ(described["is_readonly"], true);
  EXPECT_EQ(results[4].as_object()["error"].as_object()["code"], "SQL_NOT_FOUND");
  EXPECT_EQ(results[5].as_object()["response"].as_object()["is_autocommit"], true);
}

TEST_F(HranaServiceTest, SessionStateNeverReachesTheNextClient) {
  // Each pipeline below runs on a pooled connection; a changed one must not be reused.
  Pipeline(Exec("PRAGMA foreign_keys = OFF", "", true));
  Pipeline(Exec("PRAGMA recursive_triggers = 1", "", true));
  Pipeline(Exec("CREATE TEMP TABLE scratch(x)", "", true));
  for (int i = 0; i < 3; ++i) {
    json::object fk = Pipeline(Exec("PRAGMA foreign_keys", "", true));
    auto& rows = fk["results"]
                     .as_array()[0]
                     .as_object()["response"]
                     .as_object()["result"]
                     .as_object()["rows"]
                     .as_array();
    EXPECT_EQ(rows[0].as_array()[0].as_object()["value"], "1");
    json::object rt = Pipeline(Exec("PRAGMA recursive_triggers", "", true));
    auto& rt_rows = rt["results"]
                        .as_array()[0]
                        .as_object()["response"]
                        .as_object()["result"]
                        .as_object()["rows"]
                        .as_array();
    EXPECT_EQ(rt_rows[0].as_array()[0].as_object()["value"], "0");
    EXPECT_EQ(Count("temp.sqlite_schema"), 0);
  }
}

TEST_F(HranaServiceTest, OversizedResultIsRefusedNotBuffered) {
  json::object small =
      Pipeline(Exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) "
                    "SELECT x FROM c",
                    "", true));
  EXPECT_EQ(small["results"].as_array()[0].as_object()["type"], "ok");
  json::object big = Pipeline(
      Exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) "
           "SELECT x, randomblob(100) FROM c",
           "", true));
  auto& result = big["results"].as_array()[0].as_object();
  ASSERT_EQ(result["type"], "error");
  EXPECT_EQ(result["error"].as_object()["code"], "RESPONSE_TOO_LARGE");
}

TEST_F(HranaServiceTest, OpenStreamsAreBounded) {
  std::vector<std::string> batons;
  for (int i = 0; i < 8; ++i) {
    batons.emplace_back(Pipeline(Exec("SELECT 1"))["baton"].as_string());
  }
  auto refused = service_->Pipeline({"default"}, Exec("SELECT 1"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kTooManyStreams);
  EXPECT_EQ(refused.status().HttpStatus(), 503);
  // Closing one makes room again.
  Pipeline(R"({"baton":")" + batons[0] + R"(","requests":[{"type":"close"}]})");
  EXPECT_TRUE(service_->Pipeline({"default"}, Exec("SELECT 1", "", true)).ok());
}

TEST_F(HranaServiceTest, WritesOnAStreamUseTheStreamsOwnConnection) {
  // Regression: autocommit writes on a stream went through group commit on another
  // connection, so they missed the stream's temporary tables and pragma settings.
  Pipeline(Exec("CREATE TABLE t(x)", "", true));
  std::string baton(Pipeline(Exec("CREATE TEMP TABLE t(x)"))["baton"].as_string());
  json::object out = Pipeline(Exec("INSERT INTO t VALUES (1)", baton));
  baton = std::string(out["baton"].as_string());
  out = Pipeline(Exec("SELECT count(*) FROM temp.t", baton, true));
  auto& rows = out["results"]
                   .as_array()[0]
                   .as_object()["response"]
                   .as_object()["result"]
                   .as_object()["rows"]
                   .as_array();
  EXPECT_EQ(rows[0].as_array()[0].as_object()["value"], "1");
  EXPECT_EQ(Count("main.t"), 0);
}

TEST_F(HranaServiceTest, VacuumWorksAndAttachDoesNot) {
  Pipeline(Exec("CREATE TABLE t(x)", "", true));
  json::object vacuum = Pipeline(Exec("VACUUM", "", true));
  EXPECT_EQ(vacuum["results"].as_array()[0].as_object()["type"], "ok") << json::serialize(vacuum);
  json::object attach = Pipeline(Exec("ATTACH 'other.db' AS other", "", true));
  EXPECT_EQ(attach["results"].as_array()[0].as_object()["type"], "error");
  EXPECT_FALSE(fs::exists("other.db"));
}

TEST_F(HranaServiceTest, LongQueryIsInterrupted) {
  auto start = std::chrono::steady_clock::now();
  json::object out = Pipeline(
      Exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
           "", true));
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto& result = out["results"].as_array()[0].as_object();
  ASSERT_EQ(result["type"], "error");
  EXPECT_EQ(result["error"].as_object()["code"], "SQLITE_INTERRUPT");
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_EQ(Count("sqlite_schema"), 0);  // the connection is usable afterwards
}

TEST_F(HranaServiceTest, DeletedNamespaceEndsItsStreams) {
  ASSERT_TRUE(store_->Create("gone").ok());
  json::object out = Pipeline(Exec("BEGIN"), {"gone"});
  std::string baton(out["baton"].as_string());
  ASSERT_TRUE(store_->Delete("gone").ok());
  auto next = service_->Pipeline({"gone"}, Exec("SELECT 1", baton));
  EXPECT_EQ(next.status().code(), ErrorCode::kNamespaceNotFound);
  EXPECT_EQ(Count("sqlite_schema"), 0);  // the default namespace still serves
}

// Issue 6, defect 1: the pooled connection kept the read-only rules of the last client, and the
// group-commit leader began its transaction before any job applied its own access.
TEST_F(HranaServiceTest, ReadOnlyReadDoesNotBreakTheNextGroupedWrite) {
  Pipeline(Exec("CREATE TABLE t(x)", "", true));
  StreamOwner read_only{"default", auth::SqlAccess::kReadOnly};
  for (int round = 0; round < 3; ++round) {
    json::object read = Pipeline(Exec("SELECT count(*) FROM t", "", true), read_only);
    ASSERT_EQ(read["results"].as_array()[0].as_object()["type"], "ok") << json::serialize(read);
    std::optional<Result<std::string>> answer;
    service_->PipelineAsync({"default"}, Exec("INSERT INTO t VALUES (1)", "", true),
                            [&](Result<std::string> body) { answer = std::move(body); });
    ASSERT_TRUE(answer.has_value());
    ASSERT_TRUE(answer->ok()) << answer->status().ToString();
    json::object out = json::parse(**answer).as_object();
    EXPECT_EQ(out["results"].as_array()[0].as_object()["type"], "ok") << **answer;
  }
  EXPECT_EQ(Count("t"), 3);
}

// Issue 6, defect 2: a cache hit left the statement's tail as a null view, and the next
// sequence failed with "SQLITE_UNKNOWN: not an error".
TEST_F(HranaServiceTest, SequenceRunsTwiceWhenItsSqlIsCached) {
  json::object seq{{"type", "sequence"}, {"sql", "SELECT 1"}};
  std::string body = json::serialize(json::object{
      {"baton", nullptr}, {"requests", json::array{seq, seq, json::object{{"type", "close"}}}}});
  json::object out = Pipeline(body);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(out["results"].as_array()[i].as_object()["type"], "ok") << json::serialize(out);
  }
}

// Issue 6, defect 3: sqlite3_changes() and sqlite3_last_insert_rowid() keep their values, and
// a SELECT after an INSERT reported the INSERT's rowid; DROP TABLE reported a row count.
TEST_F(HranaServiceTest, RowidAndCountsOnlyForTheStatementsTheyDescribe) {
  auto result_of = [&](const std::string& sql, const std::string& baton) {
    json::object out = Pipeline(Exec(sql, baton));
    json::object result = out["results"].as_array()[0].as_object();
    EXPECT_EQ(result["type"], "ok") << sql << ": " << json::serialize(result);
    return std::make_pair(result["response"].as_object()["result"].as_object(),
                          std::string(out["baton"].as_string()));
  };
  auto [create, b1] = result_of("CREATE TABLE t(id INTEGER PRIMARY KEY, x)", "");
  auto [insert, b2] = result_of("INSERT INTO t VALUES (12345, 1), (12346, 2)", b1);
  EXPECT_EQ(insert["last_insert_rowid"], "12346");
  EXPECT_EQ(insert["affected_row_count"], 2);
  auto [select, b3] = result_of("SELECT 1 AS a", b2);
  EXPECT_TRUE(select["last_insert_rowid"].is_null()) << json::serialize(select);
  EXPECT_EQ(select["affected_row_count"], 0);
  auto [with_insert, b4] =
      result_of("WITH v(a) AS (SELECT 7) INSERT INTO t(id, x) SELECT a, a FROM v", b3);
  EXPECT_EQ(with_insert["last_insert_rowid"], "7");
  EXPECT_EQ(with_insert["affected_row_count"], 1);
  auto [update, b5] = result_of("UPDATE t SET x = 0", b4);
  EXPECT_EQ(update["affected_row_count"], 3);
  EXPECT_TRUE(update["last_insert_rowid"].is_null());
  auto [drop, b6] = result_of("DROP TABLE t", b5);
  EXPECT_EQ(drop["affected_row_count"], 0) << json::serialize(drop);
  EXPECT_TRUE(drop["last_insert_rowid"].is_null());
}

// Issue 6, defect 5: SQLite stops at a NUL, so "SELECT 1\0; DROP TABLE t" ran its first part
// and silently dropped the rest.
TEST_F(HranaServiceTest, SqlWithNulIsRefused) {
  Pipeline(Exec("CREATE TABLE t(x)", "", true));
  std::string sql("SELECT 1\0; DROP TABLE t", 23);
  for (const char* type : {"execute", "sequence"}) {
    json::object request{{"type", type}};
    if (std::string_view(type) == "execute") {
      request["stmt"] = json::object{{"sql", sql}};
    } else {
      request["sql"] = sql;
    }
    json::object out = Pipeline(
        json::serialize(json::object{{"baton", nullptr}, {"requests", json::array{request}}}));
    json::object result = out["results"].as_array()[0].as_object();
    ASSERT_EQ(result["type"], "error") << json::serialize(result);
    EXPECT_NE(std::string(result["error"].as_object()["message"].as_string()).find("NUL"),
              std::string::npos);
  }
  EXPECT_EQ(Count("t"), 0);  // the table is still there
}

// Issue 6, defect 8: the legacy API refused transaction control by a text check that ";COMMIT"
// slipped past, committing the statements before it while the request then failed.
TEST_F(HranaServiceTest, LegacyRequestsCannotEndTheirTransaction) {
  Pipeline(Exec("CREATE TABLE t(x)", "", true));
  for (const char* control : {";COMMIT", " ; ; commit", "/* c */ END", "ROLLBACK"}) {
    std::string body =
        json::serialize(json::object{{"statements", json::array{"INSERT INTO t VALUES (1)", control,
                                                                "INSERT INTO t VALUES (2)"}}});
    auto out = service_->Legacy({"default"}, body);
    EXPECT_FALSE(out.ok()) << control;
    EXPECT_EQ(Count("t"), 0) << control;
  }
}

// Issue 6, defect 8: a stored SQL text over the stream's bytes got the code of an id in use.
TEST_F(HranaServiceTest, StoredSqlFailuresAreToldApart) {
  json::object store{{"type", "store_sql"}, {"sql_id", 1}, {"sql", "SELECT 1"}};
  json::object big{{"type", "store_sql"}, {"sql_id", 2}, {"sql", std::string(2 << 20, ' ')}};
  json::object out = Pipeline(json::serialize(
      json::object{{"baton", nullptr}, {"requests", json::array{store, store, big}}}));
  auto& results = out["results"].as_array();
  EXPECT_EQ(results[0].as_object()["type"], "ok");
  EXPECT_EQ(results[1].as_object()["error"].as_object()["code"], "SQL_EXISTS");
  EXPECT_EQ(results[2].as_object()["error"].as_object()["code"], "SQL_STORE_TOO_LARGE");
}

// A lone read (execute of a SELECT, then close) runs on the caller's thread only when that
// cannot block: the namespace is open and has an idle connection, and it finishes within the
// budget. Everything else is left to the pool (nullopt), with nothing done.
TEST_F(HranaServiceTest, InlineReadsServeOnlyLoneReadsOnAWarmDatabase) {
  constexpr auto kBudget = std::chrono::microseconds(50'000);
  auto lone = [](const std::string& sql) {
    return std::move(ParsePipelineRequest(json::parse(Exec(sql, "", true)))).value();
  };
  StreamOwner owner{"default", auth::SqlAccess::kReadWrite};
  EXPECT_FALSE(service_->TryRunInlineRead(owner, lone("SELECT 1"), kBudget))
      << "the namespace is not open yet: opening it does file I/O";
  Pipeline(Exec("CREATE TABLE t (x)", "", true));
  Pipeline(Exec("INSERT INTO t VALUES (7)", "", true));

  auto served = service_->TryRunInlineRead(owner, lone("SELECT x FROM t"), kBudget);
  ASSERT_TRUE(served);
  ASSERT_TRUE(served->ok()) << served->status().ToString();
  ASSERT_EQ((*served)->results.size(), 2u);
  ASSERT_TRUE((*served)->results[0].ok());
  EXPECT_EQ((*served)->results[0]->execute.rows.at(0).at(0).integer, 7);
  EXPECT_FALSE((*served)->baton) << "the stream was closed";

  auto failed = service_->TryRunInlineRead(owner, lone("SELECT nope FROM t"), kBudget);
  ASSERT_TRUE(failed) << "a SQL error is the read's answer, as on the pool";
  ASSERT_FALSE((*failed)->results[0].ok());
  EXPECT_NE((*failed)->results[0].status().message().find("nope"), std::string::npos);

  EXPECT_FALSE(service_->TryRunInlineRead(owner, lone("INSERT INTO t VALUES (8)"), kBudget));
  EXPECT_FALSE(service_->TryRunInlineRead(owner, lone("SELECT 1"), std::chrono::microseconds(0)));
  PipelineRequest kept = lone("SELECT 1");
  kept.requests.pop_back();  // no close: the stream would be parked for a baton
  EXPECT_FALSE(service_->TryRunInlineRead(owner, kept, kBudget));
  EXPECT_EQ(Count("t"), 1) << "nothing was written by the refused write";
}

// A read longer than its budget is interrupted and left to the pool, which runs it in full.
TEST_F(HranaServiceTest, InlineReadPastItsBudgetIsLeftToThePool) {
  Pipeline(Exec("SELECT 1", "", true));  // opens the namespace; its connection goes idle
  const std::string slow =
      "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 20000000) "
      "SELECT count(*) FROM c";
  auto request = std::move(ParsePipelineRequest(json::parse(Exec(slow, "", true)))).value();
  StreamOwner owner{"default", auth::SqlAccess::kReadOnly};
  EXPECT_FALSE(service_->TryRunInlineRead(owner, request, std::chrono::microseconds(200)));
  // The connection is back and usable: a short read is served inline again.
  auto again = std::move(ParsePipelineRequest(json::parse(Exec("SELECT 2", "", true)))).value();
  auto served = service_->TryRunInlineRead(owner, again, std::chrono::microseconds(50'000));
  ASSERT_TRUE(served);
  EXPECT_EQ((*served)->results[0]->execute.rows.at(0).at(0).integer, 2);
}

// The per-namespace and per-token counters of open streams stay in place while streams point at
// them and are swept once many are idle: thousands of short streams of other tokens (each
// leaving an idle counter) must not lose the count of a token whose streams are still open.
TEST(StreamManagerTest, CountsOfOpenStreamsSurviveTheSweepOfIdleCounters) {
  StreamLimits limits;
  limits.max_streams_per_token = 2;
  limits.max_streams_per_namespace = 100;
  limits.max_streams = 100;
  StreamManager streams(limits);
  StreamOwner keeper{"default"};
  keeper.token_id = "keeper";
  auto first = streams.Reserve(keeper);
  auto second = streams.Reserve(keeper);
  ASSERT_TRUE(first.ok() && second.ok());
  for (int i = 0; i < 5000; ++i) {
    StreamOwner other{"ns-" + std::to_string(i)};
    other.token_id = "token-" + std::to_string(i);
    ASSERT_TRUE(streams.Reserve(other).ok()) << i;  // released at once
  }
  auto third = streams.Reserve(keeper);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), ErrorCode::kTooManyStreams);
  EXPECT_NE(third.status().message().find("this token"), std::string::npos)
      << third.status().message();
  { StreamSlot released = std::move(*first); }
  EXPECT_TRUE(streams.Reserve(keeper).ok());
  EXPECT_EQ(streams.open_count(), 1u);
}

}  // namespace
}  // namespace quarry::protocol
