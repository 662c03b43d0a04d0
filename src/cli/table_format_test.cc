#include "cli/table_format.h"

#include <gtest/gtest.h>

namespace quarry::cli {
namespace {

TEST(TableFormatTest, AlignsColumnsAndRightAlignsNumbers) {
  std::string table = FormatTable({{"id", true}, {"name"}}, {{"1", "Alice"}, {"100", "Bo"}});
  EXPECT_EQ(table,
            " id  | name\n"
            "-----+-------\n"
            "   1 | Alice\n"
            " 100 | Bo\n");
}

TEST(TableFormatTest, CountsUtf8CodePoints) {
  EXPECT_EQ(DisplayWidth("héllo"), 5u);
  std::string table = FormatTable({{"w"}, {"x"}}, {{"é", "1"}, {"ab", "2"}});
  EXPECT_EQ(table,
            " w  | x\n"
            "----+---\n"
            " é  | 1\n"
            " ab | 2\n");
}

TEST(TableFormatTest, EscapesNewlinesAndPadsShortRows) {
  std::string table = FormatTable({{"a"}, {"b"}}, {{"x\ny"}});
  EXPECT_EQ(table,
            " a    | b\n"
            "------+---\n"
            " x\\ny |\n");
}

TEST(TableFormatTest, HeaderOnlyWhenNoRows) { EXPECT_EQ(FormatTable({{"n"}}, {}), " n\n---\n"); }

}  // namespace
}  // namespace quarry::cli
