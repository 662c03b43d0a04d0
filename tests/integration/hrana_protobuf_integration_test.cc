// Hrana 3 with protobuf over HTTP on the real server: request messages built with the classes
// protoc generated from src/protocol/proto, posted to /v3-protobuf/pipeline and
// /v3-protobuf/cursor on a loopback port, and the answers decoded by the protobuf library.
// The differential test runs the same statements over /v3 (JSON) and checks both encodings
// carry the same values.

#include <google/protobuf/io/coded_stream.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <limits>

#include "client/http_connection.h"
#include "protocol/json_body.h"
#include "protocol/proto/hrana.pb.h"
#include "protocol/proto/hrana_http.pb.h"
#include "protocol/value.h"
#include "test_server.h"

namespace quarry::testing {
namespace {
namespace json = boost::json;
namespace pb = quarry::hrana;
namespace pbh = quarry::hrana::http;

constexpr const char* kProtobuf = "application/x-protobuf";

pbh::StreamRequest Execute(const std::string& sql, std::vector<pb::Value> args = {}) {
  pbh::StreamRequest request;
  pb::Stmt* stmt = request.mutable_execute()->mutable_stmt();
  stmt->set_sql(sql);
  for (auto& arg : args) {
    *stmt->add_args() = std::move(arg);
  }
  return request;
}

pbh::StreamRequest Close() {
  pbh::StreamRequest request;
  request.mutable_close();
  return request;
}

pb::Value Integer(int64_t v) {
  pb::Value value;
  value.set_integer(v);
  return value;
}
pb::Value Float(double v) {
  pb::Value value;
  value.set_float_(v);
  return value;
}
pb::Value Text(const std::string& v) {
  pb::Value value;
  value.set_text(v);
  return value;
}
pb::Value Blob(const std::string& v) {
  pb::Value value;
  value.set_blob(v);
  return value;
}
pb::Value Null() {
  pb::Value value;
  value.mutable_null();
  return value;
}

class HranaProtobufTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    http_ = std::make_unique<client::HttpConnection>("127.0.0.1", server_.port(), server_.url(),
                                                     client::HttpOptions{});
  }

  client::HttpResponse Post(const std::string& path, const std::string& body,
                            const std::string& token, const char* content_type = kProtobuf) {
    auto response = http_->Send("POST", path, body, token, content_type);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : client::HttpResponse{};
  }

  // Posts a pipeline that must answer 200 with a PipelineRespBody.
  pbh::PipelineRespBody Pipeline(const std::vector<pbh::StreamRequest>& requests,
                                 const std::optional<std::string>& baton = std::nullopt) {
    pbh::PipelineReqBody body;
    if (baton) {
      body.set_baton(*baton);
    }
    for (const auto& request : requests) {
      *body.add_requests() = request;
    }
    client::HttpResponse response =
        Post("/db/default/v3-protobuf/pipeline", body.SerializeAsString(), server_.AdminToken());
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.content_type, kProtobuf);
    pbh::PipelineRespBody parsed;
    EXPECT_TRUE(parsed.ParseFromString(response.body)) << "not a PipelineRespBody";
    EXPECT_EQ(parsed.results_size(), static_cast<int>(requests.size()));
    return parsed;
  }

  // One statement on its own stream; its result, which must be ok.
  pb::StmtResult Run(const std::string& sql, std::vector<pb::Value> args = {}) {
    pbh::PipelineRespBody answer = Pipeline({Execute(sql, std::move(args)), Close()});
    if (answer.results_size() != 2 || !answer.results(0).has_ok()) {
      ADD_FAILURE() << sql << ": " << answer.DebugString();
      return {};
    }
    EXPECT_TRUE(answer.results(1).ok().has_close());
    EXPECT_FALSE(answer.has_baton()) << "the stream was closed";
    return answer.results(0).ok().execute().result();
  }

  TestServer server_;
  std::unique_ptr<client::HttpConnection> http_;
};

TEST_F(HranaProtobufTest, TheProbeAnswers200WithoutAToken) {
  auto response = http_->Send("GET", "/v3-protobuf", "", "");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  response = http_->Send("GET", "/db/default/v3-protobuf", "", "");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
}

TEST_F(HranaProtobufTest, ExecuteBindsAndReturnsEveryValueType) {
  Run("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB, n)");
  // A lone [execute, close] write: the group commit path.
  pb::StmtResult inserted = Run("INSERT INTO t (i, f, s, b, n) VALUES (?, ?, ?, ?, ?)",
                                {Integer(std::numeric_limits<int64_t>::min()), Float(-0.1),
                                 Text("h\xC3\xA9llo"), Blob(std::string("\0\xFF\x01", 3)), Null()});
  EXPECT_EQ(inserted.affected_row_count(), 1u);
  ASSERT_TRUE(inserted.has_last_insert_rowid());
  EXPECT_EQ(inserted.last_insert_rowid(), 1);

  pb::StmtResult selected = Run("SELECT i, f, s, b, n, 1e999 AS inf FROM t");
  ASSERT_EQ(selected.cols_size(), 6);
  EXPECT_EQ(selected.cols(0).name(), "i");
  EXPECT_EQ(selected.cols(0).decltype_(), "INTEGER");
  EXPECT_EQ(selected.cols(1).decltype_(), "REAL");
  EXPECT_FALSE(selected.cols(4).has_decltype_()) << "a column without a declared type";
  EXPECT_FALSE(selected.cols(5).has_decltype_());
  ASSERT_EQ(selected.rows_size(), 1);
  const pb::Row& row = selected.rows(0);
  ASSERT_EQ(row.values_size(), 6);
  EXPECT_EQ(row.values(0).integer(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(row.values(1).float_(), -0.1);
  EXPECT_EQ(row.values(2).text(), "h\xC3\xA9llo");
  EXPECT_EQ(row.values(3).blob(), std::string("\0\xFF\x01", 3));
  EXPECT_TRUE(row.values(4).has_null());
  EXPECT_TRUE(std::isinf(row.values(5).float_())) << "protobuf carries infinity as it is";
  EXPECT_EQ(selected.affected_row_count(), 0u);
  EXPECT_FALSE(selected.has_last_insert_rowid());

  pbh::StreamRequest named = Execute("SELECT :a + $b AS sum");
  pb::NamedArg* a = named.mutable_execute()->mutable_stmt()->add_named_args();
  a->set_name(":a");
  *a->mutable_value() = Integer(40);
  pb::NamedArg* b = named.mutable_execute()->mutable_stmt()->add_named_args();
  b->set_name("b");
  *b->mutable_value() = Integer(2);
  named.mutable_execute()->mutable_stmt()->set_want_rows(true);
  pbh::PipelineRespBody answer = Pipeline({named, Close()});
  ASSERT_TRUE(answer.results(0).has_ok()) << answer.DebugString();
  EXPECT_EQ(answer.results(0).ok().execute().result().rows(0).values(0).integer(), 42);
}

TEST_F(HranaProtobufTest, BatchConditionsDecideWhichStepsRun) {
  Run("CREATE TABLE u (id INTEGER PRIMARY KEY)");
  pbh::StreamRequest request;
  pb::Batch* batch = request.mutable_batch()->mutable_batch();
  auto step = [&](const std::string& sql) {
    pb::BatchStep* s = batch->add_steps();
    s->mutable_stmt()->set_sql(sql);
    return s;
  };
  step("INSERT INTO u VALUES (1)");                                          // 0: ok
  step("INSERT INTO u VALUES (1)")->mutable_condition()->set_step_ok(0);     // 1: fails
  step("INSERT INTO u VALUES (2)")->mutable_condition()->set_step_ok(1);     // 2: skipped
  step("INSERT INTO u VALUES (3)")->mutable_condition()->set_step_error(1);  // 3: runs
  step("SELECT 'no'")->mutable_condition()->mutable_not_()->set_step_ok(3);  // 4: skipped
  pb::BatchCond::CondList* both =
      step("SELECT count(*) FROM u")->mutable_condition()->mutable_and_();
  both->add_conds()->set_step_ok(0);
  both->add_conds()->mutable_is_autocommit();  // 5: runs
  pb::BatchCond::CondList* either = step("SELECT 'or'")->mutable_condition()->mutable_or_();
  either->add_conds()->set_step_ok(2);
  either->add_conds()->set_step_ok(4);  // 6: skipped
  pbh::PipelineRespBody answer = Pipeline({request, Close()});
  ASSERT_TRUE(answer.results(0).has_ok()) << answer.DebugString();
  const pb::BatchResult& result = answer.results(0).ok().batch().result();
  const auto& results = result.step_results();
  const auto& errors = result.step_errors();
  EXPECT_EQ(results.size(), 3u);
  EXPECT_EQ(errors.size(), 1u);
  EXPECT_TRUE(results.contains(0));
  ASSERT_TRUE(errors.contains(1));
  EXPECT_EQ(errors.at(1).code(), "SQLITE_CONSTRAINT");
  EXPECT_EQ(errors.at(1).extended_code(), "SQLITE_CONSTRAINT_PRIMARYKEY");
  EXPECT_NE(errors.at(1).message().find("UNIQUE constraint failed"), std::string::npos)
      << errors.at(1).message();
  EXPECT_FALSE(results.contains(2) || errors.contains(2));
  EXPECT_TRUE(results.contains(3));
  EXPECT_FALSE(results.contains(4) || errors.contains(4));
  ASSERT_TRUE(results.contains(5));
  EXPECT_EQ(results.at(5).rows(0).values(0).integer(), 2);
  EXPECT_FALSE(results.contains(6) || errors.contains(6));
}

TEST_F(HranaProtobufTest, StreamRequestsKeepStateAcrossRequestsThroughBatons) {
  pbh::StreamRequest store;
  store.mutable_store_sql()->set_sql_id(1);
  store.mutable_store_sql()->set_sql("SELECT count(*) FROM v");
  pbh::StreamRequest sequence;
  sequence.mutable_sequence()->set_sql(
      "CREATE TABLE v (x TEXT); BEGIN; INSERT INTO v VALUES ('a');");
  pbh::StreamRequest autocommit;
  autocommit.mutable_get_autocommit();
  pbh::PipelineRespBody first = Pipeline({store, sequence, autocommit});
  ASSERT_TRUE(first.has_baton());
  EXPECT_FALSE(first.has_base_url());
  EXPECT_TRUE(first.results(0).ok().has_store_sql());
  EXPECT_TRUE(first.results(1).ok().has_sequence()) << first.DebugString();
  EXPECT_FALSE(first.results(2).ok().get_autocommit().is_autocommit()) << "inside BEGIN";

  pbh::StreamRequest by_id;
  by_id.mutable_execute()->mutable_stmt()->set_sql_id(1);
  pbh::StreamRequest describe;
  describe.mutable_describe()->set_sql("SELECT x AS y FROM v WHERE x = :p OR x = ?");
  pbh::StreamRequest close_sql;
  close_sql.mutable_close_sql()->set_sql_id(1);
  pbh::StreamRequest rollback;
  rollback.mutable_sequence()->set_sql("ROLLBACK");
  pbh::PipelineRespBody second =
      Pipeline({by_id, describe, close_sql, by_id, rollback, autocommit}, first.baton());
  ASSERT_TRUE(second.has_baton());
  EXPECT_NE(second.baton(), first.baton());
  ASSERT_TRUE(second.results(0).has_ok()) << second.DebugString();
  EXPECT_EQ(second.results(0).ok().execute().result().rows(0).values(0).integer(), 1)
      << "the stored text, on the stream's own transaction";
  const pb::DescribeResult& described = second.results(1).ok().describe().result();
  ASSERT_EQ(described.params_size(), 2);
  EXPECT_EQ(described.params(0).name(), ":p");
  EXPECT_FALSE(described.params(1).has_name());
  ASSERT_EQ(described.cols_size(), 1);
  EXPECT_EQ(described.cols(0).name(), "y");
  EXPECT_EQ(described.cols(0).decltype_(), "TEXT");
  EXPECT_TRUE(described.is_readonly());
  EXPECT_FALSE(described.is_explain());
  EXPECT_TRUE(second.results(2).ok().has_close_sql());
  ASSERT_TRUE(second.results(3).has_error());
  EXPECT_EQ(second.results(3).error().code(), "SQL_NOT_FOUND");
  EXPECT_TRUE(second.results(4).ok().has_sequence());
  EXPECT_TRUE(second.results(5).ok().get_autocommit().is_autocommit());

  // The first baton was used up: continuing from it is refused, as over JSON.
  pbh::PipelineReqBody stale;
  stale.set_baton(first.baton());
  *stale.add_requests() = autocommit;
  client::HttpResponse refused =
      Post("/db/default/v3-protobuf/pipeline", stale.SerializeAsString(), server_.AdminToken());
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.content_type, "application/json");
  EXPECT_EQ(json::parse(refused.body).at("code"), "STREAM_EXPIRED") << refused.body;

  pbh::PipelineRespBody closed = Pipeline({Close(), autocommit}, second.baton());
  EXPECT_FALSE(closed.has_baton());
  ASSERT_TRUE(closed.results(1).has_error());
  EXPECT_EQ(closed.results(1).error().code(), "STREAM_CLOSED");
}

TEST_F(HranaProtobufTest, ErrorsOfOneRequestAreResultsAndThePipelineGoesOn) {
  pbh::PipelineRespBody answer = Pipeline({Execute("SELEC 1"), Execute("SELECT 2"), Close()});
  ASSERT_TRUE(answer.results(0).has_error());
  EXPECT_EQ(answer.results(0).error().code(), "SQLITE_ERROR");
  EXPECT_NE(answer.results(0).error().message().find("syntax error"), std::string::npos)
      << answer.results(0).error().message();
  EXPECT_EQ(answer.results(0).error().raw_code(), 1);
  ASSERT_TRUE(answer.results(1).has_ok());
  EXPECT_EQ(answer.results(1).ok().execute().result().rows(0).values(0).integer(), 2);
}

TEST_F(HranaProtobufTest, MalformedBodiesAre400sNamingTheProblem) {
  const std::string token = server_.AdminToken();
  for (const char* path : {"/db/default/v3-protobuf/pipeline", "/db/default/v3-protobuf/cursor"}) {
    client::HttpResponse garbage = Post(path, std::string("\x0a\xff\xff\xff", 4), token);
    EXPECT_EQ(garbage.status, 400) << path;
    EXPECT_EQ(garbage.content_type, "application/json") << path;
    auto error = json::parse(garbage.body).as_object();
    EXPECT_EQ(error.at("code"), "ARGS_INVALID");
    EXPECT_NE(std::string(error.at("message").as_string()).find("not a valid protobuf"),
              std::string::npos)
        << garbage.body;
  }
  // Well-formed messages that break the spec's rules are refused whole, before anything runs.
  pbh::PipelineReqBody body;
  *body.add_requests() = Execute("CREATE TABLE never (x)");
  body.add_requests()->mutable_execute()->mutable_stmt();  // neither sql nor sql_id
  client::HttpResponse refused =
      Post("/db/default/v3-protobuf/pipeline", body.SerializeAsString(), token);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(json::parse(refused.body).at("code"), "SQL_CONFLICT") << refused.body;
  EXPECT_NE(refused.body.find("requests[1].stmt"), std::string::npos) << refused.body;
  pb::StmtResult tables = Run("SELECT count(*) FROM sqlite_schema WHERE name = 'never'");
  EXPECT_EQ(tables.rows(0).values(0).integer(), 0) << "nothing of the refused pipeline ran";
}

TEST_F(HranaProtobufTest, TokensAreCheckedAsOverJson) {
  pbh::PipelineReqBody body;
  *body.add_requests() = Execute("SELECT 1");
  EXPECT_EQ(Post("/db/default/v3-protobuf/pipeline", body.SerializeAsString(), "").status, 401);
  json::value minted;
  ASSERT_EQ(server_.Admin("POST", "/tokens", R"({"user": {"id": 1}})", &minted), 201);
  client::HttpResponse user = Post("/db/default/v3-protobuf/pipeline", body.SerializeAsString(),
                                   std::string(minted.at("token").as_string()));
  EXPECT_EQ(user.status, 403);
  EXPECT_NE(user.body.find("user tokens reach the data API only"), std::string::npos) << user.body;
  std::string read_only = server_.Token(auth::Access::kReadOnly);
  *body.add_requests() = Execute("CREATE TABLE w (x)");
  client::HttpResponse ro =
      Post("/db/default/v3-protobuf/pipeline", body.SerializeAsString(), read_only);
  ASSERT_EQ(ro.status, 200);
  pbh::PipelineRespBody answer;
  ASSERT_TRUE(answer.ParseFromString(ro.body));
  EXPECT_TRUE(answer.results(0).has_ok());
  ASSERT_TRUE(answer.results(1).has_error());
  EXPECT_NE(answer.results(1).error().message().find("read-only"), std::string::npos)
      << answer.results(1).error().message();
}

// Reads a cursor answer: length-delimited messages, a CursorRespBody then CursorEntry's.
struct CursorAnswer {
  pbh::CursorRespBody head;
  std::vector<pb::CursorEntry> entries;
  bool well_framed = false;
};

CursorAnswer ReadCursor(const std::string& body) {
  CursorAnswer answer;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(body.data()),
                                            static_cast<int>(body.size()));
  auto next = [&](google::protobuf::MessageLite& message) {
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) {
      return false;
    }
    auto limit = in.PushLimit(static_cast<int>(length));
    bool ok = message.ParseFromCodedStream(&in) && in.ConsumedEntireMessage() &&
              in.BytesUntilLimit() == 0;
    in.PopLimit(limit);
    return ok;
  };
  if (!next(answer.head)) {
    return answer;
  }
  while (in.CurrentPosition() < static_cast<int>(body.size())) {
    pb::CursorEntry entry;
    if (!next(entry)) {
      return answer;
    }
    answer.entries.push_back(std::move(entry));
  }
  answer.well_framed = true;
  return answer;
}

TEST_F(HranaProtobufTest, CursorStreamsLengthDelimitedEntries) {
  Run("CREATE TABLE c (id INTEGER PRIMARY KEY, s TEXT)");
  Run("INSERT INTO c (s) VALUES ('a'), ('b'), ('c')");
  pbh::CursorReqBody request;
  pb::Batch* batch = request.mutable_batch();
  batch->add_steps()->mutable_stmt()->set_sql("SELECT id, s FROM c ORDER BY id");
  batch->add_steps()->mutable_stmt()->set_sql("SELECT * FROM missing");
  pb::BatchStep* insert = batch->add_steps();
  insert->mutable_stmt()->set_sql("INSERT INTO c (s) VALUES ('d')");
  insert->mutable_condition()->set_step_error(1);
  client::HttpResponse response =
      Post("/db/default/v3-protobuf/cursor", request.SerializeAsString(), server_.AdminToken());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, kProtobuf);
  CursorAnswer answer = ReadCursor(response.body);
  ASSERT_TRUE(answer.well_framed);
  ASSERT_TRUE(answer.head.has_baton()) << "the stream stays open for the next request";
  ASSERT_EQ(answer.entries.size(), 8u);
  ASSERT_TRUE(answer.entries[0].has_step_begin());
  EXPECT_EQ(answer.entries[0].step_begin().step(), 0u);
  ASSERT_EQ(answer.entries[0].step_begin().cols_size(), 2);
  EXPECT_EQ(answer.entries[0].step_begin().cols(1).name(), "s");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(answer.entries[1 + i].has_row()) << i;
    EXPECT_EQ(answer.entries[1 + i].row().values(0).integer(), i + 1);
    EXPECT_EQ(answer.entries[1 + i].row().values(1).text(), std::string(1, 'a' + i));
  }
  ASSERT_TRUE(answer.entries[4].has_step_end());
  EXPECT_EQ(answer.entries[4].step_end().affected_row_count(), 0u);
  ASSERT_TRUE(answer.entries[5].has_step_error());
  EXPECT_EQ(answer.entries[5].step_error().step(), 1u);
  EXPECT_EQ(answer.entries[5].step_error().error().code(), "SQLITE_ERROR");
  ASSERT_TRUE(answer.entries[6].has_step_begin());
  EXPECT_EQ(answer.entries[6].step_begin().step(), 2u);
  ASSERT_TRUE(answer.entries[7].has_step_end());
  EXPECT_EQ(answer.entries[7].step_end().affected_row_count(), 1u);
  EXPECT_EQ(answer.entries[7].step_end().last_insert_rowid(), 4);
  // The cursor's stream continues with a pipeline.
  pbh::PipelineRespBody after =
      Pipeline({Execute("SELECT count(*) FROM c"), Close()}, answer.head.baton());
  EXPECT_EQ(after.results(0).ok().execute().result().rows(0).values(0).integer(), 4);
}

// The value of `json` (a Hrana JSON value) and of `proto` agree.
void ExpectSameValue(const json::value& json_value, const pb::Value& proto, const std::string& at) {
  auto from_json = protocol::ValueFromJson(json_value, at);
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
  switch (from_json->type) {
    case protocol::Value::Type::kNull:
      EXPECT_TRUE(proto.has_null()) << at;
      break;
    case protocol::Value::Type::kInteger:
      ASSERT_TRUE(proto.has_integer()) << at;
      EXPECT_EQ(proto.integer(), from_json->integer) << at;
      break;
    case protocol::Value::Type::kFloat:
      ASSERT_TRUE(proto.has_float_()) << at;
      if (std::isinf(proto.float_())) {  // JSON sends the largest finite double instead
        EXPECT_EQ(std::abs(from_json->real), std::numeric_limits<double>::max()) << at;
      } else {
        EXPECT_EQ(proto.float_(), from_json->real) << at;
      }
      break;
    case protocol::Value::Type::kText:
      ASSERT_TRUE(proto.has_text()) << at;
      EXPECT_EQ(proto.text(), from_json->bytes) << at;
      break;
    case protocol::Value::Type::kBlob:
      ASSERT_TRUE(proto.has_blob()) << at;
      EXPECT_EQ(proto.blob(), from_json->bytes) << at;
      break;
  }
}

TEST_F(HranaProtobufTest, JsonAndProtobufAnswerTheSameStatementsWithTheSameValues) {
  Run("CREATE TABLE d (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB)");
  Run("INSERT INTO d (i, f, s, b) VALUES (9007199254740993, 1.0000000000000002, 'x', x'00ff'), "
      "(-1, -0.0, '', x''), (NULL, 1e308, 'caf\xC3\xA9', NULL)");
  const std::vector<std::string> statements = {
      "SELECT * FROM d ORDER BY id",
      "SELECT i * 2, f / 3, upper(s), hex(b), typeof(b) FROM d ORDER BY id",
      "SELECT 1e999, -1e999, 0.1 + 0.2, 9223372036854775807, -9223372036854775808",
      "SELECT CAST(x'fffe41' AS TEXT)",  // text that is not UTF-8
      "UPDATE d SET s = s || '!' WHERE id > 1",
      "INSERT INTO d (s) VALUES ('new')",
      "SELECT * FROM nowhere",
      "INSERT INTO d (id) VALUES (1)",
  };
  for (const std::string& sql : statements) {
    // Each statement in its own transaction so both encodings see the same database state.
    std::string json_body = json::serialize(json::object{
        {"baton", nullptr},
        {"requests", json::array{json::object{{"type", "execute"}, {"stmt", {{"sql", "BEGIN"}}}},
                                 json::object{{"type", "execute"}, {"stmt", {{"sql", sql}}}},
                                 json::object{{"type", "execute"}, {"stmt", {{"sql", "ROLLBACK"}}}},
                                 json::object{{"type", "close"}}}}});
    client::HttpResponse json_answer =
        Post("/db/default/v3/pipeline", json_body, server_.AdminToken(), "application/json");
    ASSERT_EQ(json_answer.status, 200) << json_answer.body;
    // Parsed exactly (Boost.JSON 1.81's own parser may round a double's last bit).
    auto parsed = protocol::ParseJsonBody(json_answer.body);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    json::object json_result = parsed->at("results").at(1).as_object();
    pbh::PipelineRespBody proto_answer =
        Pipeline({Execute("BEGIN"), Execute(sql), Execute("ROLLBACK"), Close()});
    ASSERT_EQ(proto_answer.results_size(), 4);
    const pbh::StreamResult& proto_result = proto_answer.results(1);
    if (json_result.at("type") == "error") {
      ASSERT_TRUE(proto_result.has_error()) << sql;
      const json::object& error = json_result.at("error").as_object();
      EXPECT_EQ(error.at("message").as_string(), proto_result.error().message()) << sql;
      EXPECT_EQ(error.at("code").as_string(), proto_result.error().code()) << sql;
      EXPECT_EQ(error.at("extended_code").as_string(), proto_result.error().extended_code()) << sql;
      continue;
    }
    ASSERT_TRUE(proto_result.has_ok()) << sql;
    const json::object& result = json_result.at("response").at("result").as_object();
    const pb::StmtResult& proto = proto_result.ok().execute().result();
    const json::array& cols = result.at("cols").as_array();
    ASSERT_EQ(static_cast<int>(cols.size()), proto.cols_size()) << sql;
    for (size_t c = 0; c < cols.size(); ++c) {
      EXPECT_EQ(cols[c].at("name").as_string(), proto.cols(static_cast<int>(c)).name()) << sql;
      const json::value& decl = cols[c].at("decltype");
      EXPECT_EQ(decl.is_null(), !proto.cols(static_cast<int>(c)).has_decltype_()) << sql;
    }
    const json::array& rows = result.at("rows").as_array();
    ASSERT_EQ(static_cast<int>(rows.size()), proto.rows_size()) << sql;
    for (size_t r = 0; r < rows.size(); ++r) {
      const json::array& row = rows[r].as_array();
      ASSERT_EQ(static_cast<int>(row.size()), proto.rows(static_cast<int>(r)).values_size());
      for (size_t c = 0; c < row.size(); ++c) {
        ExpectSameValue(row[c], proto.rows(static_cast<int>(r)).values(static_cast<int>(c)),
                        sql + " row " + std::to_string(r) + " col " + std::to_string(c));
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
    EXPECT_EQ(result.at("rows_read").as_int64(), static_cast<int64_t>(proto.rows_read())) << sql;
    EXPECT_EQ(result.at("rows_written").as_int64(), static_cast<int64_t>(proto.rows_written()))
        << sql;
  }
}

}  // namespace
}  // namespace quarry::testing
