#include "common/sql_statement.h"

#include <gtest/gtest.h>

namespace quarry::sql {
namespace {

using V = std::vector<std::string>;

V Complete(std::string_view sql) {
  V out;
  for (std::string_view s : SplitCompleteStatements(sql).statements) out.emplace_back(s);
  return out;
}

TEST(SplitCompleteStatementsTest, SplitsAtSemicolonsAndKeepsTheRest) {
  SplitSql split = SplitCompleteStatements("SELECT 1; SELECT 2;\nSELECT 3");
  EXPECT_EQ(V(split.statements.begin(), split.statements.end()), (V{"SELECT 1;", " SELECT 2;"}));
  EXPECT_EQ(split.rest, "\nSELECT 3");
}

TEST(SplitCompleteStatementsTest, SemicolonsInCommentsAndStringsDoNotSplit) {
  EXPECT_EQ(Complete("SELECT 1 -- not; the end\n; SELECT /* ; */ ';' AS \"a;b\", [c;d];"),
            (V{"SELECT 1 -- not; the end\n;", " SELECT /* ; */ ';' AS \"a;b\", [c;d];"}));
  EXPECT_EQ(Complete(R"(SELECT 'it''s; "x"' AS "q"";";)"),
            (V{R"(SELECT 'it''s; "x"' AS "q"";";)"}));
}

TEST(SplitCompleteStatementsTest, TriggerBodyWithCaseEndIsOneStatement) {
  std::string trigger =
      "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
      "  UPDATE b SET x = CASE WHEN new.y > 0 THEN 'p;' ELSE 'n' END;\n"
      "  INSERT INTO c VALUES (1); -- ; END;\n"
      "END;";
  EXPECT_EQ(Complete(trigger + "\nSELECT 1;"), (V{trigger, "\nSELECT 1;"}));
  std::string temp = "create temp trigger u before delete on a begin select 1; end;";
  EXPECT_EQ(Complete(temp), (V{temp}));
  // An unfinished trigger body is not complete.
  SplitSql open = SplitCompleteStatements("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1;");
  EXPECT_TRUE(open.statements.empty());
}

TEST(SplitCompleteStatementsTest, UnterminatedStringOrCommentIsNotComplete) {
  EXPECT_TRUE(Complete("SELECT 'a; b").empty());
  EXPECT_TRUE(Complete("SELECT 1 /* ; ").empty());
}

TEST(SqlStatementTest, BlankSql) {
  EXPECT_TRUE(IsBlankSql(""));
  EXPECT_TRUE(IsBlankSql("  ; -- x;\n /* y; */ ;"));
  EXPECT_FALSE(IsBlankSql("-- x\nSELECT 1"));
  EXPECT_EQ(SkipBlank(" ;-- c\n /* d */ SELECT 1; "), "SELECT 1; ");
}

TEST(SqlStatementTest, PlainReadsNameNoConnectionCounter) {
  EXPECT_TRUE(IsPlainRead("SELECT v FROM kv WHERE id = ?"));
  EXPECT_TRUE(IsPlainRead(" /* c */ select 'changes()' -- last_insert_rowid()\n"));
  EXPECT_TRUE(IsPlainRead("SELECT changes_seen FROM t"));
  EXPECT_FALSE(IsPlainRead("SELECT last_insert_rowid()"));
  EXPECT_FALSE(IsPlainRead("select Changes(), 1"));
  EXPECT_FALSE(IsPlainRead("SELECT total_changes()"));
  EXPECT_FALSE(IsPlainRead("INSERT INTO t VALUES (1)"));
  EXPECT_FALSE(IsPlainRead("WITH c AS (SELECT 1) SELECT * FROM c"));
  EXPECT_FALSE(IsPlainRead(""));
}

TEST(SqlStatementTest, FirstKeyword) {
  // Texts that start with a plain word (read without the tokenizer) and the edges of that.
  EXPECT_EQ(FirstKeyword("select*from t"), "SELECT");
  EXPECT_EQ(FirstKeyword("Insert\tINTO t VALUES (1)"), "INSERT");
  EXPECT_EQ(FirstKeyword("commit"), "COMMIT");
  EXPECT_EQ(FirstKeyword("with(x)"), "WITH");
  EXPECT_EQ(FirstKeyword("SELECT/*c*/1"), "SELECT");
  EXPECT_EQ(FirstKeyword("x'00'"), "") << "a blob literal, not a word";
  EXPECT_EQ(FirstKeyword("X'00'"), "");
  EXPECT_EQ(FirstKeyword("1 + 1"), "");
  EXPECT_EQ(FirstKeyword("  -- c;\n /* d */ select 1"), "SELECT");
  EXPECT_EQ(FirstKeyword(";;COMMIT"), "COMMIT");
  EXPECT_EQ(FirstKeyword("'BEGIN'"), "");
  EXPECT_EQ(FirstKeyword("\"BEGIN\""), "");
  EXPECT_EQ(FirstKeyword(""), "");
  EXPECT_EQ(FirstKeyword("with_x"), "WITH_X");
}

TEST(SqlStatementTest, FirstKeywordIsComparesWhatFirstKeywordGives) {
  for (const char* sql : {"select*from t", "Select 1", "SELECT", "  -- c\n select 1", ";select 1",
                          "selects 1", "x'00'", "'SELECT'", "", "sel\xc3\xa9ct 1", "select$x"}) {
    EXPECT_EQ(FirstKeywordIs(sql, "SELECT"), FirstKeyword(sql) == "SELECT") << sql;
  }
  EXPECT_TRUE(FirstKeywordIs("drop table t", "DROP"));
  EXPECT_FALSE(FirstKeywordIs("dropped", "DROP"));
}

TEST(SqlStatementTest, TransactionControl) {
  EXPECT_EQ(ClassifyTransactionControl("BEGIN;"), TransactionControl::kBegin);
  EXPECT_EQ(ClassifyTransactionControl("  -- c\n begin immediate transaction;"),
            TransactionControl::kBegin);
  EXPECT_EQ(ClassifyTransactionControl("COMMIT"), TransactionControl::kCommit);
  EXPECT_EQ(ClassifyTransactionControl("END TRANSACTION"), TransactionControl::kCommit);
  EXPECT_EQ(ClassifyTransactionControl("ROLLBACK;"), TransactionControl::kRollback);
  EXPECT_EQ(ClassifyTransactionControl("ROLLBACK; TO"), TransactionControl::kRollback);
  EXPECT_EQ(ClassifyTransactionControl("ROLLBACK TO sp"), TransactionControl::kRollbackToSavepoint);
  EXPECT_EQ(ClassifyTransactionControl("rollback transaction work to savepoint sp"),
            TransactionControl::kRollbackToSavepoint)
      << "SQLite accepts (and ignores) a transaction name";
  EXPECT_EQ(ClassifyTransactionControl("ROLLBACK TRANSACTION work"), TransactionControl::kRollback);
  EXPECT_EQ(ClassifyTransactionControl("rollback /* x */ transaction to savepoint sp;"),
            TransactionControl::kRollbackToSavepoint);
  EXPECT_EQ(ClassifyTransactionControl("SAVEPOINT sp"), TransactionControl::kSavepoint);
  EXPECT_EQ(ClassifyTransactionControl("release savepoint sp"), TransactionControl::kRelease);
  EXPECT_EQ(ClassifyTransactionControl("SELECT 'BEGIN'"), TransactionControl::kNone);
  EXPECT_EQ(ClassifyTransactionControl("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END"),
            TransactionControl::kNone);
  EXPECT_EQ(ClassifyTransactionControl("ENDX"), TransactionControl::kNone);

  for (const char* sql : {"BEGIN", "COMMIT", "END TRANSACTION", "ROLLBACK", "ROLLBACK TO sp",
                          "SAVEPOINT sp", "RELEASE sp", ";COMMIT"}) {
    EXPECT_TRUE(IsTransactionControl(sql)) << sql;
  }
  EXPECT_FALSE(IsTransactionControl("SELECT 1"));

  for (const char* sql :
       {"BEGIN", "COMMIT", "END TRANSACTION", "ROLLBACK", "rollback transaction"}) {
    EXPECT_TRUE(StartsOrEndsTransaction(sql)) << sql;
  }
  for (const char* sql : {"ROLLBACK TO sp", "ROLLBACK TRANSACTION TO SAVEPOINT sp", "SAVEPOINT sp",
                          "RELEASE sp", "INSERT INTO t VALUES (1)"}) {
    EXPECT_FALSE(StartsOrEndsTransaction(sql)) << sql;
  }
}

TEST(SqlStatementTest, GroupableWrite) {
  for (const char* sql : {"INSERT INTO t VALUES (1)", " -- c\nupdate t set x = 1", "DELETE FROM t",
                          "REPLACE INTO t VALUES (1)"}) {
    EXPECT_TRUE(IsGroupableWrite(sql)) << sql;
  }
  for (const char* sql : {"SELECT 1", "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
                          "CREATE TABLE t (x)", "BEGIN", "'INSERT'", "INSERTX"}) {
    EXPECT_FALSE(IsGroupableWrite(sql)) << sql;
  }
}

TEST(SqlStatementTest, BeginReadonly) {
  for (const char* sql : {"BEGIN READONLY", "begin transaction readonly;", "  BEGIN\n\tREADONLY  ",
                          "BEGIN /* c */ READONLY -- d", "BEGIN READONLY; SELECT 1"}) {
    EXPECT_TRUE(IsBeginReadonly(sql)) << sql;
  }
  for (const char* sql : {"BEGIN", "BEGIN IMMEDIATE", "BEGIN READONLY x", "BEGIN 'READONLY'",
                          "SELECT READONLY", "BEGIN TRANSACTION"}) {
    EXPECT_FALSE(IsBeginReadonly(sql)) << sql;
  }
}

}  // namespace
}  // namespace quarry::sql
