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

}  // namespace
}  // namespace quarry::cli
