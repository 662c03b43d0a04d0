#include "protocol/value.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>

#include "storage/connection.h"

namespace quarry::protocol {
namespace {
namespace json = boost::json;

// Binds `value` into `SELECT ?` on an in-memory database and encodes the column back.
json::value RoundTrip(const Value& value) {
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT ?", -1, &stmt, nullptr);
  EXPECT_EQ(storage::BindValue(stmt, 1, value), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  json::value out = ColumnToJson(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

Value Parse(std::string_view text) {
  auto value = ValueFromJson(json::parse(text), "arg");
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value.ok() ? *value : Value();
}

TEST(ValueTest, IntegersAreDecimalStringsIncludingExtremes) {
  for (const char* n : {"0", "-1", "9223372036854775807", "-9223372036854775808"}) {
    json::value out = RoundTrip(Parse(std::string(R"({"type":"integer","value":")") + n + "\"}"));
    EXPECT_EQ(out.at("type"), "integer");
    EXPECT_EQ(out.at("value"), n);
  }
}

TEST(ValueTest, RejectsIntegersOutOfRange) {
  auto bad =
      ValueFromJson(json::parse(R"({"type":"integer","value":"9223372036854775808"})"), "args[0]");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("args[0]"), std::string::npos);
  EXPECT_FALSE(ValueFromJson(json::parse(R"({"type":"integer","value":"12x"})"), "a").ok());
  EXPECT_FALSE(ValueFromJson(json::parse(R"({"type":"integer","value":""})"), "a").ok());
}

TEST(ValueTest, FloatsTextNull) {
  json::value f = RoundTrip(Parse(R"({"type":"float","value":0.1})"));
  EXPECT_EQ(f.at("type"), "float");
  EXPECT_DOUBLE_EQ(f.at("value").as_double(), 0.1);
  json::value big = RoundTrip(Parse(R"({"type":"float","value":1e308})"));
  EXPECT_DOUBLE_EQ(big.at("value").as_double(), 1e308);
  json::value t = RoundTrip(Parse(R"({"type":"text","value":"héllo 🌍 日本"})"));
  EXPECT_EQ(t.at("value"), "héllo 🌍 日本");
  EXPECT_EQ(RoundTrip(Parse(R"({"type":"null"})")).at("type"), "null");
}

TEST(ValueTest, InfinityIsSentAsTheLargestFiniteDouble) {
  // JSON has no infinity; a response holding one would not parse (found by fuzzing).
  Value inf;
  inf.type = Value::Type::kFloat;
  inf.real = std::numeric_limits<double>::infinity();
  EXPECT_EQ(RoundTrip(inf).at("value").as_double(), std::numeric_limits<double>::max());
  inf.real = -inf.real;
  EXPECT_EQ(RoundTrip(inf).at("value").as_double(), -std::numeric_limits<double>::max());
}

TEST(ValueTest, BlobsAcceptBase64WithOrWithoutPadding) {
  Value padded = Parse(R"({"type":"blob","base64":"AAEC/w=="})");
  Value bare = Parse(R"({"type":"blob","base64":"AAEC/w"})");
  EXPECT_EQ(padded.bytes, std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(bare.bytes, padded.bytes);
  json::value out = RoundTrip(padded);
  EXPECT_EQ(out.at("type"), "blob");
  EXPECT_EQ(out.at("base64"), "AAEC/w==");
  EXPECT_FALSE(ValueFromJson(json::parse(R"({"type":"blob","base64":"**"})"), "a").ok());
}

TEST(ValueTest, RejectsUnknownTypesAndShapes) {
  EXPECT_FALSE(ValueFromJson(json::parse(R"({"type":"date","value":"x"})"), "a").ok());
  EXPECT_FALSE(ValueFromJson(json::parse(R"(42)"), "a").ok());
  EXPECT_FALSE(ValueFromJson(json::parse(R"({"type":"text","value":3})"), "a").ok());
  EXPECT_FALSE(ValueFromJson(json::parse(R"({"type":"float","value":"1.5"})"), "a").ok());
}

TEST(ValueTest, InvalidUtf8TextIsSanitized) {
  EXPECT_EQ(SanitizeUtf8("ok"), "ok");
  EXPECT_EQ(SanitizeUtf8("a\xff"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
}

}  // namespace
}  // namespace quarry::protocol
