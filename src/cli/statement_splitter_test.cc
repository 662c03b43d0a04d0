#include "cli/statement_splitter.h"

#include <gtest/gtest.h>

namespace quarry::cli {
namespace {

std::vector<std::string> Split(std::string_view text) {
  StatementSplitter splitter;
  splitter.Append(text);
  return splitter.TakeComplete();
}

TEST(StatementSplitterTest, SplitsAtSemicolons) {
  EXPECT_EQ(Split("SELECT 1; SELECT 2;\n"), (std::vector<std::string>{"SELECT 1;", "SELECT 2;"}));
}

TEST(StatementSplitterTest, IgnoresSemicolonsInStringsIdentifiersAndComments) {
  EXPECT_EQ(Split("SELECT ';' AS \"a;b\"; -- c;\n"),
            (std::vector<std::string>{"SELECT ';' AS \"a;b\";"}));
  EXPECT_EQ(Split("SELECT /* ; */ 1;"), (std::vector<std::string>{"SELECT /* ; */ 1;"}));
}

TEST(StatementSplitterTest, TriggerBodyIsOneStatement) {
  std::string trigger =
      "CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (1); UPDATE c SET x = 1; "
      "END;";
  EXPECT_EQ(Split(trigger + " SELECT 1;"), (std::vector<std::string>{trigger, "SELECT 1;"}));
}

TEST(StatementSplitterTest, AccumulatesAcrossLines) {
  StatementSplitter splitter;
  splitter.Append("SELECT 'a;\n");
  EXPECT_TRUE(splitter.TakeComplete().empty());
  EXPECT_TRUE(splitter.HasPending());
  splitter.Append("b' AS x\n");
  EXPECT_TRUE(splitter.TakeComplete().empty());
  splitter.Append(";\n");
  EXPECT_EQ(splitter.TakeComplete(), (std::vector<std::string>{"SELECT 'a;\nb' AS x\n;"}));
  EXPECT_FALSE(splitter.HasPending());
}

TEST(StatementSplitterTest, DropsBlankStatementsAndKeepsRest) {
  StatementSplitter splitter;
  splitter.Append(";; -- only a comment\n;\nSELECT 3");
  EXPECT_TRUE(splitter.TakeComplete().empty());
  EXPECT_TRUE(splitter.HasPending());
  EXPECT_EQ(splitter.TakeRest(), "SELECT 3");
}

TEST(StatementSplitterTest, TriggerWithCaseEndArrivingLineByLine) {
  StatementSplitter splitter;
  for (const char* line : {"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n",
                           "  UPDATE b SET x = CASE new.y WHEN 1 THEN 'one;' ELSE 'x' END;\n",
                           "  INSERT INTO c VALUES ('-- not a comment;');\n"}) {
    splitter.Append(line);
    EXPECT_TRUE(splitter.TakeComplete().empty()) << line;
  }
  splitter.Append("END; SAVEPOINT sp; ROLLBACK TO sp;\n");
  std::vector<std::string> done = splitter.TakeComplete();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_TRUE(done[0].ends_with("END;")) << done[0];
  EXPECT_EQ(done[1], "SAVEPOINT sp;");
  EXPECT_EQ(done[2], "ROLLBACK TO sp;");
  EXPECT_FALSE(splitter.HasPending());
}

TEST(StatementSplitterTest, LeadingCommentStaysWithItsStatement) {
  EXPECT_EQ(Split("-- first; line\nSELECT 1; /* x; */ SELECT 2;"),
            (std::vector<std::string>{"-- first; line\nSELECT 1;", "/* x; */ SELECT 2;"}));
}

}  // namespace
}  // namespace quarry::cli
