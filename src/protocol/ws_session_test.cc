#include "protocol/ws_session.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <deque>
#include <filesystem>

#include "auth/sql_authorizer.h"
#include "common/clock.h"
#include "storage/namespace_store.h"

namespace quarry::protocol {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

// Records what the session sends.
class RecordingOutput : public WsOutput {
 public:
  void Send(std::string frame, bool binary) override {
    EXPECT_FALSE(binary);
    frames.push_back(json::parse(frame).as_object());
  }
  void Close(WsCloseCode code, std::string reason) override {
    closed = code;
    close_reason = std::move(reason);
  }
  std::vector<json::object> frames;
  std::optional<WsCloseCode> closed;
  std::string close_reason;
};

// The session's protocol, run without sockets or threads: the executor is a queue the test
// drains, so every interleaving is the test's choice.
class WsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("quarry-ws-session-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    storage::StoreOptions options;
    options.data_dir = dir_;
    options.connection.access_rules = auth::InstallClientRules;
    store_ = std::move(storage::NamespaceStore::Open(options)).value();
    StreamLimits limits;
    limits.idle_timeout = std::chrono::milliseconds(300);
    limits.transaction_timeout = std::chrono::milliseconds(200);
    limits.max_stored_sql = 4;
    streams_ = std::make_unique<StreamManager>(limits, clock_);
    service_ = std::make_unique<HranaService>(
        [this](std::string_view ns) { return store_->Get(ns); }, *streams_);
  }
  void TearDown() override {
    if (session_) {
      session_->Shutdown();
      RunAll();
      session_.reset();
    }
    service_.reset();
    streams_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // Tokens: "rw" and "ro" are admitted with that access, anything else is refused.
  void Start(int version = 3, WsLimits limits = {}) {
    output_ = std::make_shared<RecordingOutput>();
    WsSubprotocol subprotocol{"hrana" + std::to_string(version), version, WsEncoding::kJson};
    session_ = std::make_shared<WsSession>(
        subprotocol, MakeJsonWsCodec(), *service_,
        [this](const std::optional<std::string>& jwt) -> Result<WsAdmission> {
          ++hellos_checked_;
          if (jwt == "rw" || jwt == "ro") {
            WsAdmission admission;
            admission.owner = {
                ns_, *jwt == "rw" ? auth::SqlAccess::kReadWrite : auth::SqlAccess::kReadOnly, *jwt};
            admission.expires_at = expires_at_;
            return admission;
          }
          return Status(ErrorCode::kUnauthorized, "token signature does not verify");
        },
        [this](std::function<void()> task) {
          if (run_inline_) {
            task();
          } else {
            tasks_.push_back(std::move(task));
          }
        },
        output_, clock_, limits);
  }
  void RunAll() {
    while (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      task();
    }
  }
  // A session past its hello that answers lone reads inline, and table t holding one row (7),
  // made on a stream closed since, so its connection is back in the pool. Request ids 1-4.
  void StartWithInlineReadsAndTable() {
    WsLimits limits;
    limits.inline_read_budget = std::chrono::milliseconds(50);
    Start(3, limits);
    Hello("rw");
    RunAll();
    Request(1, Open(100));
    Request(2, Execute(100, "CREATE TABLE t (v)"));
    Request(3, Execute(100, "INSERT INTO t VALUES (7)"));
    Request(4, CloseStream(100));
    RunAll();
    ASSERT_EQ(Type(3), "response_ok");
  }
  void Frame(const json::object& msg) { session_->OnFrame(json::serialize(msg), false); }
  void Hello(const std::string& jwt) { Frame({{"type", "hello"}, {"jwt", jwt}}); }
  void Request(int id, json::object request) {
    Frame({{"type", "request"}, {"request_id", id}, {"request", std::move(request)}});
  }
  static json::object Open(int stream) { return {{"type", "open_stream"}, {"stream_id", stream}}; }
  static json::object CloseStream(int stream) {
    return {{"type", "close_stream"}, {"stream_id", stream}};
  }
  static json::object Execute(int stream, const std::string& sql) {
    return {{"type", "execute"}, {"stream_id", stream}, {"stmt", {{"sql", sql}}}};
  }
  // The response to request `id`, which must have been sent exactly once.
  json::object Response(int id) {
    json::object found;
    int seen = 0;
    for (const auto& frame : output_->frames) {
      if (const json::value* rid = frame.if_contains("request_id"); rid && *rid == id) {
        found = frame;
        ++seen;
      }
    }
    EXPECT_EQ(seen, 1) << "responses to request " << id;
    return found;
  }
  std::string Type(int id) { return std::string(Response(id).at("type").as_string()); }
  std::string ErrorCodeOf(int id) {
    json::object r = Response(id);
    return r.contains("error") ? std::string(r.at("error").at("code").as_string()) : "";
  }
  // The single integer value of an execute's first row.
  std::string Value(int id) {
    json::object r = Response(id);
    EXPECT_EQ(r.at("type"), "response_ok") << json::serialize(r);
    if (r.at("type") != "response_ok") {
      return "";
    }
    const auto& rows = r.at("response").at("result").at("rows").as_array();
    return std::string(rows.at(0).as_array().at(0).at("value").as_string());
  }

  fs::path dir_;
  ManualClock clock_;
  std::unique_ptr<storage::NamespaceStore> store_;
  std::unique_ptr<StreamManager> streams_;
  std::unique_ptr<HranaService> service_;
  std::shared_ptr<RecordingOutput> output_;
  std::shared_ptr<WsSession> session_;
  std::deque<std::function<void()>> tasks_;
  std::optional<int64_t> expires_at_;
  int hellos_checked_ = 0;
  bool run_inline_ = false;
  std::string ns_ = "default";  // the namespace hellos admit to  // the executor runs tasks at
                                // once, on the caller's thread
};

TEST_F(WsSessionTest, PipelinedHelloAndRequestsRunInOrder) {
  Start();
  Hello("rw");
  Request(1, Open(1));
  Request(2, Execute(1, "CREATE TABLE t (v)"));
  Request(3, Execute(1, "INSERT INTO t VALUES (7)"));
  Request(4, Execute(1, "SELECT sum(v) FROM t"));
  Request(5, CloseStream(1));
  EXPECT_TRUE(output_->frames.empty()) << "nothing may be answered before the hello is checked";
  RunAll();
  ASSERT_FALSE(output_->frames.empty());
  EXPECT_EQ(output_->frames[0].at("type"), "hello_ok");
  for (int id : {1, 2, 3, 5}) {
    EXPECT_EQ(Type(id), "response_ok") << json::serialize(Response(id));
  }
  EXPECT_EQ(Value(4), "7");
  EXPECT_EQ(Response(5).at("response").at("type"), "close_stream");
  EXPECT_EQ(streams_->open_count(), 0u);
  EXPECT_EQ(session_->outstanding(), 0u);
  EXPECT_FALSE(output_->closed);
}

// Regression: the requests that waited for a hello were started before hello_ok was sent, so a
// fast one was answered first and @libsql/client dropped the connection ("Received a non-hello
// message before a hello response").
TEST_F(WsSessionTest, HelloOkLeavesBeforeAnyResponse) {
  Start();
  Hello("rw");
  Request(1, Open(1));
  Request(2, Execute(1, "SELECT 1"));
  run_inline_ = true;  // the hello's check is queued; what it lets through runs at once
  RunAll();
  ASSERT_EQ(output_->frames.size(), 3u);
  EXPECT_EQ(output_->frames[0].at("type"), "hello_ok");
  EXPECT_EQ(Value(2), "1");
}

TEST_F(WsSessionTest, RequestBeforeHelloClosesTheSocketWithAReason) {
  Start();
  Request(1, Open(1));
  RunAll();
  ASSERT_TRUE(output_->closed);
  EXPECT_EQ(*output_->closed, WsCloseCode::kPolicy);
  EXPECT_NE(output_->close_reason.find("before hello"), std::string::npos);
  EXPECT_TRUE(output_->frames.empty());
}

TEST_F(WsSessionTest, RefusedHelloAnswersHelloErrorAndIgnoresTheRest) {
  Start();
  Hello("forged");
  Request(1, Open(1));
  Request(2, Execute(1, "CREATE TABLE t (v)"));
  RunAll();
  ASSERT_EQ(output_->frames.size(), 1u);
  EXPECT_EQ(output_->frames[0].at("type"), "hello_error");
  EXPECT_EQ(output_->frames[0].at("error").at("code"), "AUTH_FAILED");
  ASSERT_TRUE(output_->closed);
  EXPECT_NE(output_->close_reason.find("signature"), std::string::npos);
  EXPECT_EQ(streams_->open_count(), 0u);
}

TEST_F(WsSessionTest, ASecondHelloReauthenticatesForStreamsOpenedAfterIt) {
  Start();
  Hello("rw");
  Request(1, Open(1));
  Request(2, Execute(1, "CREATE TABLE t (v)"));
  Hello("ro");
  Request(3, Open(2));
  Request(4, Execute(2, "INSERT INTO t VALUES (1)"));
  Request(5, Execute(1, "INSERT INTO t VALUES (2)"));
  RunAll();
  EXPECT_EQ(hellos_checked_, 2);
  EXPECT_EQ(Type(2), "response_ok");
  EXPECT_EQ(Type(4), "response_error") << "a read-only token's stream wrote";
  EXPECT_EQ(Type(5), "response_ok") << "the stream opened before keeps its access";
  Hello("forged");
  RunAll();
  EXPECT_TRUE(output_->closed) << "a failed re-hello ends the connection";
}

TEST_F(WsSessionTest, Hrana1HasNoSecondHelloNorStoredSql) {
  Start(1);
  Hello("rw");
  Request(1, {{"type", "store_sql"}, {"sql_id", 1}, {"sql", "SELECT 1"}});
  RunAll();
  ASSERT_TRUE(output_->closed);
  EXPECT_NE(output_->close_reason.find("`store_sql` needs Hrana 2"), std::string::npos)
      << output_->close_reason;

  Start(1);
  Hello("rw");
  Hello("rw");
  RunAll();
  ASSERT_TRUE(output_->closed);
  EXPECT_NE(output_->close_reason.find("second hello"), std::string::npos);
}

TEST_F(WsSessionTest, StoredSqlBelongsToTheConnectionAndIsResolvedOnArrival) {
  Start();
  Hello("rw");
  Request(1, {{"type", "store_sql"}, {"sql_id", 9}, {"sql", "SELECT 40 + 2"}});
  Request(2, Open(1));
  Request(3, Open(2));
  Request(4, {{"type", "execute"}, {"stream_id", 1}, {"stmt", {{"sql_id", 9}}}});
  Request(5, {{"type", "execute"}, {"stream_id", 2}, {"stmt", {{"sql_id", 9}}}});
  Request(6, {{"type", "close_sql"}, {"sql_id", 9}});
  Request(7, {{"type", "execute"}, {"stream_id", 1}, {"stmt", {{"sql_id", 9}}}});
  Request(8, {{"type", "store_sql"}, {"sql_id", 10}, {"sql", "SELECT 1"}});
  Request(9, {{"type", "store_sql"}, {"sql_id", 10}, {"sql", "SELECT 2"}});
  RunAll();
  EXPECT_EQ(Value(4), "42");
  EXPECT_EQ(Value(5), "42") << "stored SQL is usable on every stream of the connection";
  EXPECT_EQ(ErrorCodeOf(7), "SQL_NOT_FOUND");
  EXPECT_EQ(Type(8), "response_ok");
  EXPECT_EQ(ErrorCodeOf(9), "SQL_EXISTS");
  EXPECT_FALSE(output_->closed);
}

TEST_F(WsSessionTest, StoredSqlIsBoundedPerConnection) {
  Start();
  Hello("rw");
  for (int i = 0; i < 5; ++i) {
    Request(i, {{"type", "store_sql"}, {"sql_id", i}, {"sql", "SELECT 1"}});
  }
  RunAll();
  EXPECT_EQ(Type(3), "response_ok");
  EXPECT_EQ(ErrorCodeOf(4), "SQL_STORE_TOO_MANY");
}

TEST_F(WsSessionTest, CursorsHandOutTheBatchInFetches) {
  Start();
  Hello("rw");
  Request(1, Open(1));
  json::object batch{{"steps", json::array{json::object{
                                   {"stmt",
                                    {{"sql",
                                      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                                      "FROM c WHERE x < 5) SELECT x FROM c"}}}}}}};
  Request(2, {{"type", "open_cursor"}, {"stream_id", 1}, {"cursor_id", 4}, {"batch", batch}});
  Request(3, {{"type", "fetch_cursor"}, {"cursor_id", 4}, {"max_count", 3}});
  Request(4, {{"type", "fetch_cursor"}, {"cursor_id", 4}, {"max_count", 100}});
  Request(5, {{"type", "fetch_cursor"}, {"cursor_id", 4}, {"max_count", 100}});
  Request(6, {{"type", "close_cursor"}, {"cursor_id", 4}});
  Request(7, Execute(1, "SELECT 5"));
  RunAll();
  EXPECT_EQ(Type(2), "response_ok");
  const json::object first = Response(3).at("response").as_object();
  ASSERT_EQ(first.at("entries").as_array().size(), 3u);
  EXPECT_EQ(first.at("entries").as_array()[0].at("type"), "step_begin");
  EXPECT_EQ(first.at("done"), false);
  const json::object rest = Response(4).at("response").as_object();
  EXPECT_EQ(rest.at("entries").as_array().size(), 4u);  // rows 3..5 and step_end
  EXPECT_EQ(rest.at("entries").as_array().back().at("type"), "step_end");
  EXPECT_EQ(rest.at("done"), true);
  EXPECT_EQ(Response(5).at("response").at("entries").as_array().size(), 0u);
  EXPECT_EQ(Type(6), "response_ok");
  EXPECT_EQ(Value(7), "5");

  Request(8, {{"type", "fetch_cursor"}, {"cursor_id", 4}, {"max_count", 1}});
  RunAll();
  ASSERT_TRUE(output_->closed) << "a closed cursor's id is not a cursor";
  EXPECT_NE(output_->close_reason.find("cursor 4 is not open"), std::string::npos);
}

TEST_F(WsSessionTest, ACursorOnAStreamThatFailedToOpenReportsWhy) {
  ASSERT_TRUE(store_->Create("shop", {}).ok());
  ns_ = "shop";
  Start();
  Hello("rw");
  Request(1, Open(1));
  RunAll();
  ASSERT_TRUE(store_->Delete("shop").ok());
  Request(2, Open(2));
  Request(3, {{"type", "open_cursor"},
              {"stream_id", 2},
              {"cursor_id", 1},
              {"batch", {{"steps", json::array{}}}}});
  Request(4, {{"type", "fetch_cursor"}, {"cursor_id", 1}, {"max_count", 1}});
  Request(5, Execute(1, "SELECT 1"));
  RunAll();
  EXPECT_EQ(ErrorCodeOf(2), "NAMESPACE_DOESNT_EXIST");
  EXPECT_EQ(ErrorCodeOf(3), "NAMESPACE_DOESNT_EXIST");
  EXPECT_NE(Response(4).at("error").at("message").as_string().find("failed to open"),
            std::string::npos);
  EXPECT_EQ(ErrorCodeOf(5), "NAMESPACE_DOESNT_EXIST");
  EXPECT_FALSE(output_->closed) << "a stream that failed to open is an error, not a violation";
}

TEST_F(WsSessionTest, ConnectionMisuseClosesWithCodeAndReason) {
  struct Case {
    std::string frame;
    bool binary;
    WsCloseCode code;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"{not json", false, WsCloseCode::kInvalidPayload, "not valid JSON"},
      {R"({"type":"hello","jwt":"rw"})", true, WsCloseCode::kUnsupportedData, "binary frame"},
      {R"({"type":"goodbye"})", false, WsCloseCode::kPolicy, "unknown message type"},
      {R"([1,2])", false, WsCloseCode::kPolicy, "not a JSON object"},
      {R"({"type":"request","request":{}})", false, WsCloseCode::kPolicy, "request_id"},
      {R"({"type":"request","request_id":1,"request":{"type":"execute","stream_id":3,)"
       R"("stmt":{"sql":"SELECT 1"}}})",
       false, WsCloseCode::kPolicy, "stream 3 is not open"},
  };
  for (const Case& c : cases) {
    Start();
    if (c.reason.find("stream 3") != std::string::npos) {
      Hello("rw");
      RunAll();
    }
    session_->OnFrame(c.frame, c.binary);
    RunAll();
    ASSERT_TRUE(output_->closed) << c.frame;
    EXPECT_EQ(*output_->closed, c.code) << c.frame;
    EXPECT_NE(output_->close_reason.find(c.reason), std::string::npos)
        << c.frame << " -> " << output_->close_reason;
    EXPECT_LE(output_->close_reason.size(), 123u);
  }
  Start();
  Hello("rw");
  Request(1, Open(1));
  Request(2, Open(1));
  RunAll();
  ASSERT_TRUE(output_->closed);
  EXPECT_NE(output_->close_reason.find("already open"), std::string::npos);
  EXPECT_EQ(streams_->open_count(), 0u) << "the streams of a closed connection are released";
}

TEST_F(WsSessionTest, AnInvalidRequestBodyIsAnErrorNotAViolation) {
  Start();
  Hello("rw");
  Request(1, Open(1));
  Request(2, {{"type", "execute"}, {"stream_id", 1}, {"stmt", {{"sql", 5}}}});
  Request(3, {{"type", "teleport"}, {"stream_id", 1}});
  Request(4, Execute(1, "SELECT 1"));
  RunAll();
  EXPECT_EQ(ErrorCodeOf(2), "ARGS_INVALID");
  EXPECT_NE(Response(2).at("error").at("message").as_string().find("stmt.sql"), std::string::npos)
      << json::serialize(Response(2));
  EXPECT_EQ(ErrorCodeOf(3), "UNKNOWN_REQUEST");
  EXPECT_EQ(Value(4), "1");
  EXPECT_FALSE(output_->closed);
}

TEST_F(WsSessionTest, OutstandingRequestsAreBounded) {
  WsLimits limits;
  limits.max_outstanding_requests = 3;
  Start(3, limits);
  Hello("rw");
  EXPECT_TRUE(session_->ReadyForMore()) << "a hello is not a request";
  Request(1, Open(1));
  Request(2, Execute(1, "SELECT 1"));
  EXPECT_TRUE(session_->ReadyForMore());
  Request(3, Execute(1, "SELECT 2"));
  EXPECT_FALSE(session_->ReadyForMore()) << "three unanswered requests: stop reading";
  RunAll();
  EXPECT_TRUE(session_->ReadyForMore());
  EXPECT_EQ(session_->outstanding(), 0u);
}

TEST_F(WsSessionTest, HeldStreamsDoNotIdleOutButTheirWriteLockTimesOut) {
  Start();
  Hello("rw");
  Request(1, Open(1));
  Request(2, Execute(1, "CREATE TABLE t (v)"));
  Request(3, Execute(1, "BEGIN"));
  Request(4, Execute(1, "SELECT count(*) FROM t"));
  RunAll();
  clock_.Advance(std::chrono::seconds(60));  // far past the 300 ms idle timeout
  streams_->ExpireNow();
  Request(5, Execute(1, "SELECT count(*) FROM t"));
  Request(6, Execute(1, "COMMIT"));
  RunAll();
  EXPECT_EQ(Value(5), "0") << "an idle stream of a live socket was closed";
  EXPECT_EQ(Type(6), "response_ok");

  Request(7, Execute(1, "BEGIN IMMEDIATE"));
  Request(8, Execute(1, "INSERT INTO t VALUES (1)"));
  Request(9, Open(2));
  RunAll();
  clock_.Advance(std::chrono::milliseconds(200));
  streams_->ExpireNow();
  Request(10, Execute(2, "INSERT INTO t VALUES (2)"));
  Request(11, Execute(1, "COMMIT"));
  Request(12, Execute(2, "SELECT sum(v) FROM t"));
  RunAll();
  EXPECT_EQ(Type(10), "response_ok") << "the write lock was not released";
  EXPECT_EQ(ErrorCodeOf(11), "TRANSACTION_TIMEOUT");
  EXPECT_EQ(Value(12), "2");
}

TEST_F(WsSessionTest, ShutdownReleasesEveryStream) {
  Start();
  Hello("rw");
  Request(1, Open(1));
  Request(2, Open(2));
  Request(3, Execute(1, "BEGIN IMMEDIATE"));
  RunAll();
  EXPECT_EQ(streams_->open_count(), 2u);
  Request(4, Execute(2, "SELECT 1"));  // queued, never run
  session_->Shutdown();
  RunAll();
  EXPECT_EQ(streams_->open_count(), 0u);
  EXPECT_EQ(output_->frames.size(), 4u) << "no answer after shutdown";  // hello_ok + 3
}

TEST_F(WsSessionTest, ARequestAfterTheHelloTokenExpiredIsRefused) {
  expires_at_ =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.SystemNow().time_since_epoch())
          .count() +
      10;
  Start();
  Hello("rw");
  Request(1, Open(1));
  RunAll();
  EXPECT_EQ(Type(1), "response_ok");
  clock_.Advance(std::chrono::seconds(10));
  Request(2, Execute(1, "SELECT 1"));
  RunAll();
  EXPECT_EQ(ErrorCodeOf(2), "AUTH_FAILED");
  Hello("rw");
  RunAll();
  EXPECT_FALSE(output_->closed);
}

// A lone read on an idle stream outside a transaction is answered on the thread that received
// it, without the executor; inside a transaction, or behind queued work, it goes to the executor
// and keeps the stream's order.
TEST_F(WsSessionTest, LoneReadsOnAnIdleStreamAreAnsweredWithoutTheExecutor) {
  WsLimits limits;
  limits.inline_read_budget = std::chrono::milliseconds(50);
  Start(3, limits);
  Hello("rw");
  RunAll();
  Request(1, Open(1));
  Request(2, Execute(1, "CREATE TABLE t (v)"));
  Request(3, Execute(1, "INSERT INTO t VALUES (7)"));
  RunAll();
  ASSERT_EQ(Type(3), "response_ok");

  Request(4, Execute(1, "SELECT sum(v) FROM t"));
  EXPECT_TRUE(tasks_.empty()) << "a lone read must not need the executor";
  EXPECT_EQ(Value(4), "7");
  EXPECT_EQ(session_->inline_reads(), 1u);

  // In a transaction: the executor runs it, and it sees the transaction's own write.
  Request(5, Execute(1, "BEGIN"));
  Request(6, Execute(1, "INSERT INTO t VALUES (5)"));
  RunAll();
  Request(7, Execute(1, "SELECT sum(v) FROM t"));
  EXPECT_FALSE(tasks_.empty());
  RunAll();
  EXPECT_EQ(Value(7), "12");
  Request(8, Execute(1, "ROLLBACK"));
  RunAll();

  // Behind a queued request of the same stream: after it, in order.
  Request(9, Execute(1, "INSERT INTO t VALUES (1)"));
  Request(10, Execute(1, "SELECT sum(v) FROM t"));
  RunAll();
  EXPECT_EQ(Value(10), "8");
  EXPECT_EQ(session_->inline_reads(), 1u);
  EXPECT_EQ(session_->outstanding(), 0u);
}

// A read that runs past the budget is interrupted and run again, in full, on the executor: the
// client sees its answer, never the interruption.
TEST_F(WsSessionTest, AReadPastTheInlineBudgetIsAnsweredFromTheExecutor) {
  WsLimits limits;
  limits.inline_read_budget = std::chrono::microseconds(1);
  Start(3, limits);
  Hello("rw");
  RunAll();
  Request(1, Open(1));
  RunAll();
  Request(2, Execute(1,
                     "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < "
                     "3000000) SELECT count(*) FROM c"));
  ASSERT_FALSE(tasks_.empty()) << "past its budget, the read goes to the executor";
  RunAll();
  EXPECT_EQ(Value(2), "3000000");
  EXPECT_EQ(session_->inline_reads(), 0u);
}

// Streams that have only read borrow the namespace's connections per request: twenty of them
// use a connection or two, not twenty. A stream that leaves state on its connection (here a
// temporary table) keeps that connection to itself from then on.
TEST_F(WsSessionTest, StreamsThatOnlyReadShareTheNamespacesConnections) {
  StartWithInlineReadsAndTable();
  auto db = store_->Get(ns_);
  ASSERT_TRUE(db.ok());

  for (int stream = 1; stream <= 20; ++stream) {
    Request(100 + stream, Open(stream));
    RunAll();
    Request(200 + stream, Execute(stream, "SELECT sum(v) FROM t"));
    RunAll();
    EXPECT_EQ(Value(200 + stream), "7");
  }
  EXPECT_LE((*db)->open_connections(), 2u) << "20 reading streams, each its own connection?";
  EXPECT_GE(session_->inline_reads(), 19u) << "reads on a borrowed idle connection run inline";

  Request(301, Execute(1, "CREATE TEMP TABLE scratch (x)"));
  Request(302, Execute(1, "INSERT INTO scratch VALUES (1), (2)"));
  RunAll();
  ASSERT_EQ(Type(302), "response_ok");
  for (int i = 0; i < 3; ++i) {
    Request(310 + i, Execute(1, "SELECT count(*) FROM temp.scratch"));
    RunAll();
    EXPECT_EQ(Value(310 + i), "2") << "the stream's own connection, every time";
    Request(320 + i, Execute(2, "SELECT count(*) FROM temp.scratch"));
    RunAll();
    EXPECT_EQ(Type(320 + i), "response_error") << "stream 1's table is not another stream's";
  }
  EXPECT_EQ(session_->outstanding(), 0u);
}

// changes() and last_insert_rowid() count per connection: a stream that reads them keeps its
// connection, so what it sees is never another client's insert.
TEST_F(WsSessionTest, AStreamReadingConnectionCountersKeepsItsConnection) {
  StartWithInlineReadsAndTable();
  Request(5, Open(1));
  Request(6, Open(2));
  RunAll();
  Request(7, Execute(1, "SELECT last_insert_rowid()"));
  RunAll();
  std::string first = Value(7);
  Request(8, Execute(2, "INSERT INTO t VALUES (8)"));
  RunAll();
  ASSERT_EQ(Type(8), "response_ok");
  Request(9, Execute(1, "SELECT last_insert_rowid()"));
  RunAll();
  EXPECT_EQ(Value(9), first) << "stream 2's insert showed through on stream 1";
}

}  // namespace
}  // namespace quarry::protocol
