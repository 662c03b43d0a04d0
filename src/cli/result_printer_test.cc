#include "cli/result_printer.h"

#include <gtest/gtest.h>

namespace quarry::cli {
namespace {

using namespace quarry::client;

TEST(ResultPrinterTest, CellText) {
  EXPECT_EQ(CellText(Null()), "NULL");
  EXPECT_EQ(CellText(Integer(-9223372036854775807LL - 1)), "-9223372036854775808");
  EXPECT_EQ(CellText(Float(1.0)), "1.0");
  EXPECT_EQ(CellText(Float(0.1)), "0.1");
  EXPECT_EQ(CellText(Float(1e300)), "1e+300");
  EXPECT_EQ(CellText(Blob(std::string("\x00\xff", 2))), "x'00ff'");
  EXPECT_EQ(CellText(Text("héllo")), "héllo");
}

TEST(ResultPrinterTest, TableAndJson) {
  ResultSet rs;
  rs.columns = {"id", "name"};
  rs.rows = {{Integer(7), Text("Ann")}, {Integer(10), Null()}};
  EXPECT_EQ(FormatResult(rs, OutputMode::kTable),
            " id | name\n"
            "----+------\n"
            "  7 | Ann\n"
            " 10 | NULL\n"
            "(2 rows)\n");
  EXPECT_EQ(FormatResult(rs, OutputMode::kJson),
            "[{\"id\":7,\"name\":\"Ann\"},{\"id\":10,\"name\":null}]\n");
  ResultSet no_columns;
  EXPECT_EQ(FormatResult(no_columns, OutputMode::kTable), "");
}

TEST(ResultPrinterTest, CsvAndLineModes) {
  ResultSet rs;
  rs.columns = {"id", "full name"};
  rs.rows = {{Integer(7), Text("Ann, \"A\"")}, {Float(1.5), Null()}};
  EXPECT_EQ(FormatResult(rs, OutputMode::kCsv),
            "id,full name\n"
            "7,\"Ann, \"\"A\"\"\"\n"
            "1.5,\n");
  EXPECT_EQ(FormatResult(rs, OutputMode::kLine),
            "       id = 7\n"
            "full name = Ann, \"A\"\n"
            "\n"
            "       id = 1.5\n"
            "full name = NULL\n");
}

// Regression: --json wrote 1.5 as 1.5E0 (Boost.JSON's form for doubles).
TEST(ResultPrinterTest, JsonWritesFloatsAsPlainJsonNumbers) {
  ResultSet rs;
  rs.columns = {"a", "b", "c", "d", "e"};
  rs.rows = {{Float(1.5), Float(2.0), Float(0.1), Float(1e300), Float(-1.0 / 0.0)}};
  EXPECT_EQ(FormatResult(rs, OutputMode::kJson),
            "[{\"a\":1.5,\"b\":2.0,\"c\":0.1,\"d\":1e+300,\"e\":-9e999}]\n");
  ResultSet empty;
  empty.columns = {"a"};
  EXPECT_EQ(FormatResult(empty, OutputMode::kJson), "[]\n");
}

}  // namespace
}  // namespace quarry::cli
