#include "cli/csv.h"

#include <gtest/gtest.h>

namespace quarry::cli {
namespace {

using Record = std::vector<std::string>;

std::vector<Record> ReadAll(std::string_view text) {
  CsvReader reader(text);
  std::vector<Record> out;
  while (true) {
    auto next = reader.Next();
    EXPECT_TRUE(next.ok()) << next.status().message();
    if (!next.ok() || !*next) {
      return out;
    }
    out.push_back(**next);
  }
}

TEST(CsvTest, FieldsAreQuotedOnlyWhenNeeded) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
}

TEST(CsvTest, ReadsQuotesLineBreaksAndBothLineEnds) {
  EXPECT_EQ(
      ReadAll("id,name\r\n1,\"Ann, \"\"A\"\"\"\n2,\"two\nlines\"\n3,\n"),
      (std::vector<Record>{{"id", "name"}, {"1", "Ann, \"A\""}, {"2", "two\nlines"}, {"3", ""}}));
  EXPECT_EQ(ReadAll("no,final,break"), (std::vector<Record>{{"no", "final", "break"}}));
  EXPECT_EQ(ReadAll(""), std::vector<Record>{});
}

TEST(CsvTest, RoundTripsWhatItWrites) {
  Record record = {"a,b", "q\"uote", "line\r\nbreak", "", "x"};
  std::string line;
  for (size_t i = 0; i < record.size(); ++i) {
    line += (i ? "," : "") + CsvField(record[i]);
  }
  EXPECT_EQ(ReadAll(line + "\n"), std::vector<Record>{record});
}

TEST(CsvTest, ErrorsNameTheLine) {
  CsvReader open_quote("a\n\"never closed\n");
  ASSERT_TRUE(open_quote.Next().ok());
  auto bad = open_quote.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "line 2: a quoted field is never closed");
  CsvReader trailing("\"x\"y\n");
  EXPECT_FALSE(trailing.Next().ok());
}

}  // namespace
}  // namespace quarry::cli
