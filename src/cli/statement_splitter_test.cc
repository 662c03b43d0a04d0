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

TEST(StatementSplitterTest, BlankSql) {
  EXPECT_TRUE(IsBlankSql("  ; -- x\n /* y */ ;"));
  EXPECT_FALSE(IsBlankSql("-- x\nSELECT 1"));
}

}  // namespace
}  // namespace quarry::cli
