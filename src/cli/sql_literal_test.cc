#include "cli/sql_literal.h"

#include <gtest/gtest.h>

namespace quarry::cli {
namespace {

using namespace quarry::client;

TEST(SqlLiteralTest, EveryTypeReadsBackAsItself) {
  EXPECT_EQ(SqlLiteral(Null()), "NULL");
  EXPECT_EQ(SqlLiteral(Integer(-42)), "-42");
  EXPECT_EQ(SqlLiteral(Float(2.0)), "2.0");
  EXPECT_EQ(SqlLiteral(Float(0.1)), "0.1");
  EXPECT_EQ(SqlLiteral(Float(1.0 / 0.0)), "1e999");
  EXPECT_EQ(SqlLiteral(Text("it's")), "'it''s'");
  EXPECT_EQ(SqlLiteral(Blob(std::string("\x00\xff", 2))), "X'00ff'");
  EXPECT_EQ(QuoteIdentifier("odd \"name\""), "\"odd \"\"name\"\"\"");
}

}  // namespace
}  // namespace quarry::cli
