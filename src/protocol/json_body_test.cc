#include "protocol/json_body.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace quarry::protocol {
namespace {

TEST(JsonBodyTest, DoublesAreExact) {
  // Boost.JSON 1.81's own parser returns 123456789.1234568 for the first of these.
  for (double d :
       {123456789.12345679, -2.5E-300, 0.1, 5e-324, 1.7976931348623157e308, -3e-7, 1.0 / 3}) {
    char text[64];
    snprintf(text, sizeof(text), "[%.17g]", d);
    auto parsed = ParseJsonBody(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->as_array()[0].as_double(), d) << text;
  }
}

TEST(JsonBodyTest, BuildsNestedValues) {
  auto parsed = ParseJsonBody(R"({"a":[1,-2,18446744073709551615,"x",null,true,{"b":2.5}]})");
  ASSERT_TRUE(parsed.ok());
  const auto& a = parsed->at("a").as_array();
  EXPECT_EQ(a[0].as_int64(), 1);
  EXPECT_EQ(a[1].as_int64(), -2);
  EXPECT_TRUE(a[2].is_uint64());
  EXPECT_EQ(a[3].as_string(), "x");
  EXPECT_TRUE(a[4].is_null());
  EXPECT_EQ(a[6].at("b").as_double(), 2.5);
}

TEST(JsonBodyTest, RejectsMalformedInput) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1} x", "\"\xff\"", "nul"}) {
    auto parsed = ParseJsonBody(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("not valid JSON"), std::string::npos);
  }
  std::string deep(100, '[');
  EXPECT_FALSE(ParseJsonBody(deep).ok());
}

}  // namespace
}  // namespace quarry::protocol
