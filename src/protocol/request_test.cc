#include "protocol/request.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace quarry::protocol {
namespace {
namespace json = boost::json;

Status ParseError(std::string_view body) {
  return ParsePipelineRequest(json::parse(body)).status();
}

TEST(RequestTest, ParsesEveryRequestType) {
  auto pipeline = ParsePipelineRequest(json::parse(R"({"baton":null,"requests":[
    {"type":"execute","stmt":{"sql":"select ?","args":[{"type":"integer","value":"1"}],
                              "named_args":[{"name":":a","value":{"type":"null"}}],"want_rows":false}},
    {"type":"batch","batch":{"steps":[{"stmt":{"sql":"select 1"}},
      {"condition":{"type":"and","conds":[{"type":"ok","step":0},{"type":"not","cond":{"type":"is_autocommit"}}]},
       "stmt":{"sql_id":4}}]}},
    {"type":"sequence","sql":"select 1; select 2"},
    {"type":"describe","sql_id":4},
    {"type":"store_sql","sql_id":4,"sql":"select 4"},
    {"type":"close_sql","sql_id":4},
    {"type":"get_autocommit"},
    {"type":"close"}]})"));
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  ASSERT_EQ(pipeline->requests.size(), 8u);
  EXPECT_FALSE(pipeline->baton.has_value());
  const Request& exec = pipeline->requests[0];
  EXPECT_EQ(exec.stmt.args.size(), 1u);
  EXPECT_EQ(exec.stmt.named_args[0].first, ":a");
  EXPECT_FALSE(exec.stmt.want_rows);
  const BatchSpec& batch = pipeline->requests[1].batch;
  ASSERT_EQ(batch.steps.size(), 2u);
  ASSERT_TRUE(batch.steps[1].condition.has_value());
  EXPECT_EQ(batch.steps[1].condition->kind, Condition::Kind::kAnd);
  EXPECT_EQ(pipeline->requests[7].type, Request::Type::kClose);
}

TEST(RequestTest, ErrorsNameTheField) {
  Status st = ParseError(R"({"requests":[{"type":"execute","stmt":{"sql":5}}]})");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("requests[0].stmt.sql"), std::string::npos) << st.message();

  st = ParseError(R"({"requests":[{"type":"explode"}]})");
  EXPECT_EQ(st.code(), ErrorCode::kUnknownRequest);
  EXPECT_NE(st.message().find("explode"), std::string::npos);

  st = ParseError(R"({"requests":[{"type":"execute","stmt":{"sql":"x","sql_id":1}}]})");
  EXPECT_EQ(st.code(), ErrorCode::kSqlConflict);

  EXPECT_FALSE(ParsePipelineRequest(json::parse(R"([1,2])")).ok());
  EXPECT_FALSE(ParsePipelineRequest(json::parse(R"({"requests":{}})")).ok());
  EXPECT_FALSE(ParsePipelineRequest(json::parse(R"({"baton":5,"requests":[]})")).ok());
}

TEST(RequestTest, ConditionsMustReferToEarlierSteps) {
  Status st = ParseError(R"({"requests":[{"type":"batch","batch":{"steps":[
      {"condition":{"type":"ok","step":0},"stmt":{"sql":"select 1"}}]}}]})");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("earlier step"), std::string::npos);
}

TEST(RequestTest, LegacyStatements) {
  auto legacy = ParseLegacyRequest(json::parse(
      R"({"statements":["select 1",{"q":"select ?","params":[1]},{"q":"select :a","params":{":a":"x"}}]})"));
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  ASSERT_EQ(legacy->statements.size(), 3u);
  EXPECT_EQ(legacy->statements[1].args[0].integer, 1);
  EXPECT_EQ(legacy->statements[2].named_args[0].first, ":a");
}

}  // namespace
}  // namespace quarry::protocol
