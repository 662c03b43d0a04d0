#include "storage/alter_column.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace quarry::storage {
namespace {
namespace fs = std::filesystem;

AlterColumn Translated(std::string_view sql) {
  auto alter = TranslateAlterColumn(sql);
  EXPECT_TRUE(alter.ok()) << alter.status().message();
  EXPECT_TRUE(alter.ok() && alter->has_value()) << sql;
  return alter.ok() && alter->has_value() ? **alter : AlterColumn{};
}

std::string ErrorOf(std::string_view sql) {
  auto alter = TranslateAlterColumn(sql);
  EXPECT_FALSE(alter.ok()) << sql;
  return alter.ok() ? "" : alter.status().message();
}

TEST(TranslateAlterColumnTest, RecognisesLibsqlForms) {
  AlterColumn a = Translated("ALTER TABLE t ALTER COLUMN c TO c INTEGER NOT NULL");
  EXPECT_EQ(a.table, "t");
  EXPECT_EQ(a.column, "c");
  EXPECT_EQ(a.definition, "c INTEGER NOT NULL");
  // drizzle-kit's turso dialect quotes with backticks and ends with ';'.
  std::string sql = "ALTER TABLE `posts` ALTER COLUMN \"title\" TO \"title\" text DEFAULT 'a;b';";
  AlterColumn b = Translated(sql + "\n--> statement-breakpoint\nSELECT 1");
  EXPECT_EQ(b.table, "posts");
  EXPECT_EQ(b.column, "title");
  EXPECT_EQ(b.definition, "\"title\" text DEFAULT 'a;b'");
  EXPECT_EQ(b.length, sql.size());
  AlterColumn c = Translated(
      "  /* lead */ alter table main.[T] alter v to V CHECK (v IN (1, 2)) REFERENCES p(id)");
  EXPECT_EQ(c.table, "T");
  EXPECT_EQ(c.definition, "V CHECK (v IN (1, 2)) REFERENCES p(id)");
  EXPECT_EQ(Translated("ALTER TABLE t ALTER COLUMN v TO v").definition, "v");
}

TEST(TranslateAlterColumnTest, LeavesSqliteStatementsAlone) {
  for (std::string_view sql :
       {"ALTER TABLE t RENAME TO u", "ALTER TABLE t ADD COLUMN alter TEXT",
        "ALTER TABLE t RENAME COLUMN a TO b", "ALTER TABLE t DROP COLUMN c", "SELECT 1",
        "ALTER TABLE other.t ALTER COLUMN c TO c", "", "-- only a comment"}) {
    auto alter = TranslateAlterColumn(sql);
    ASSERT_TRUE(alter.ok()) << sql << ": " << alter.status().message();
    EXPECT_FALSE(alter->has_value()) << sql;
  }
}

TEST(TranslateAlterColumnTest, MalformedStatementsSayWhatIsWrong) {
  EXPECT_NE(ErrorOf("ALTER TABLE t ALTER COLUMN c").find("expected TO"), std::string::npos);
  EXPECT_NE(ErrorOf("ALTER TABLE t ALTER COLUMN c TO").find("missing after TO"), std::string::npos);
  EXPECT_NE(ErrorOf("ALTER TABLE t ALTER COLUMN c TO d TEXT").find("RENAME COLUMN"),
            std::string::npos);
  EXPECT_NE(ErrorOf("ALTER TABLE t ALTER COLUMN c TO c TEXT, d TEXT").find("one column"),
            std::string::npos);
  EXPECT_NE(ErrorOf("ALTER TABLE t ALTER COLUMN c TO c TEXT DEFAULT 'x").find("unterminated"),
            std::string::npos);
  EXPECT_NE(ErrorOf("ALTER TABLE t ALTER COLUMN").find("column name"), std::string::npos);
}

TEST(LeadingWordsTest, SkipsCommentsAndStopsAtTheStatement) {
  EXPECT_EQ(LeadingWords("-- x\n /* y */ drop   table t", 2), "DROP TABLE");
  EXPECT_EQ(LeadingWords("DROP; TABLE", 2), "DROP");
  EXPECT_EQ(FirstStatementLength("DROP TABLE 'a;'; SELECT 1"), 16u);
  EXPECT_TRUE(IsBlankSql(" ; -- done\n"));
  EXPECT_FALSE(IsBlankSql("; SELECT 1"));
}

class RebuildForAlterColumnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() /
            ("quarry-alter-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    fs::remove(path_);
    auto conn = Connection::Open(path_, ConnectionOptions{}, true);
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    conn_ = std::move(*conn);
    Exec(
        "CREATE TABLE parent(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, score INTEGER);"
        "CREATE INDEX parent_name ON parent(name);"
        "CREATE TABLE child(id INTEGER PRIMARY KEY,"
        "  parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE);"
        "CREATE TABLE audit(n INTEGER);"
        "CREATE TRIGGER parent_audit AFTER INSERT ON parent BEGIN INSERT INTO audit VALUES (1); "
        "END;"
        "CREATE VIEW names AS SELECT name FROM parent;"
        "INSERT INTO parent(name, score) VALUES ('a', 1), ('b', NULL), ('c', 3);"
        "DELETE FROM parent WHERE name = 'c';"
        "INSERT INTO child(parent_id) VALUES (1), (1), (2);");
  }
  void TearDown() override {
    conn_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      fs::remove(path_.string() + suffix);
    }
  }
  void Exec(const std::string& sql) {
    Status s = conn_->Exec(sql);
    ASSERT_TRUE(s.ok()) << sql << ": " << s.message();
  }
  std::string One(const std::string& sql) {
    auto stmt = conn_->Prepare(sql);
    EXPECT_TRUE(stmt.ok()) << sql;
    if (!stmt.ok() || sqlite3_step(stmt->get()) != SQLITE_ROW) {
      return "<none>";
    }
    const unsigned char* text = sqlite3_column_text(stmt->get(), 0);
    return text != nullptr ? reinterpret_cast<const char*>(text) : "NULL";
  }
  Status Alter(std::string_view sql) {
    auto alter = TranslateAlterColumn(sql);
    if (!alter.ok()) {
      return alter.status();
    }
    EXPECT_TRUE(alter->has_value());
    return RebuildForAlterColumn(*conn_, **alter);
  }

  fs::path path_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(RebuildForAlterColumnTest, KeepsEveryRowOfParentAndChildren) {
  ASSERT_TRUE(Alter("ALTER TABLE parent ALTER COLUMN score TO score INTEGER DEFAULT 7").ok());
  EXPECT_EQ(One("SELECT count(*) FROM parent"), "2");
  EXPECT_EQ(One("SELECT count(*) FROM child"), "3");
  EXPECT_EQ(One("SELECT sql FROM sqlite_schema WHERE name = 'parent'"),
            "CREATE TABLE \"parent\" (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, score "
            "INTEGER DEFAULT 7)");
  EXPECT_EQ(One("PRAGMA foreign_keys"), "1");  // restored
  EXPECT_EQ(One("SELECT count(*) FROM pragma_foreign_key_check"), "0");
  // Indexes, triggers, views and the AUTOINCREMENT counter survive.
  EXPECT_EQ(One("SELECT count(*) FROM sqlite_schema WHERE name IN ('parent_name', "
                "'parent_audit', 'names')"),
            "3");
  Exec("INSERT INTO parent(name) VALUES ('d')");
  EXPECT_EQ(One("SELECT max(id) FROM parent"), "4");
  EXPECT_EQ(One("SELECT score FROM parent WHERE name = 'd'"), "7");
  EXPECT_EQ(One("SELECT count(*) FROM audit"), "4");
  EXPECT_EQ(One("SELECT count(*) FROM names"), "3");
  // The cascade still works on the rebuilt parent.
  Exec("DELETE FROM parent WHERE id = 1");
  EXPECT_EQ(One("SELECT count(*) FROM child"), "1");
}

TEST_F(RebuildForAlterColumnTest, RowsThatDoNotFitLeaveEverythingAsItWas) {
  Status s = Alter("ALTER TABLE parent ALTER COLUMN score TO score INTEGER NOT NULL");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("parent.score"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("existing rows do not fit"), std::string::npos) << s.message();
  EXPECT_EQ(One("SELECT sql FROM sqlite_schema WHERE name = 'parent'"),
            "CREATE TABLE parent(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, score INTEGER)");
  EXPECT_EQ(One("SELECT count(*) FROM child"), "3");
  EXPECT_FALSE(conn_->InTransaction());
}

TEST_F(RebuildForAlterColumnTest, NamesAMissingTableOrColumn) {
  Status s = Alter("ALTER TABLE nope ALTER COLUMN a TO a");
  EXPECT_NE(s.message().find("no such table: nope"), std::string::npos) << s.message();
  s = Alter("ALTER TABLE parent ALTER COLUMN nope TO nope TEXT");
  EXPECT_NE(s.message().find("has no column nope"), std::string::npos) << s.message();
}

TEST_F(RebuildForAlterColumnTest, RunsInsideTheCallersTransactionWithForeignKeysOff) {
  // What @libsql/client's migrate() does: foreign keys off, BEGIN, statements, COMMIT.
  Exec("PRAGMA foreign_keys = OFF; BEGIN");
  ASSERT_TRUE(Alter("ALTER TABLE parent ALTER COLUMN name TO name TEXT NOT NULL DEFAULT ''").ok());
  EXPECT_TRUE(conn_->InTransaction());
  Exec("ROLLBACK; PRAGMA foreign_keys = ON");
  EXPECT_EQ(One("SELECT sql FROM sqlite_schema WHERE name = 'parent'").find("NOT NULL"),
            std::string::npos);  // rolled back with the caller's transaction
  Exec("PRAGMA foreign_keys = OFF; BEGIN");
  ASSERT_TRUE(Alter("ALTER TABLE parent ALTER COLUMN name TO name TEXT NOT NULL DEFAULT ''").ok());
  Exec("COMMIT; PRAGMA foreign_keys = ON");
  EXPECT_EQ(One("SELECT count(*) FROM child"), "3");
}

TEST_F(RebuildForAlterColumnTest, RefusesAReferencedTableInATransactionWithForeignKeysOn) {
  Exec("BEGIN");
  Status s = Alter("ALTER TABLE parent ALTER COLUMN name TO name TEXT DEFAULT 'x'");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("child references parent"), std::string::npos) << s.message();
  Exec("ROLLBACK");
  EXPECT_EQ(One("SELECT count(*) FROM child"), "3");
  // A table no one references is fine.
  Exec("BEGIN");
  EXPECT_TRUE(Alter("ALTER TABLE child ALTER COLUMN parent_id TO parent_id INTEGER NOT NULL "
                    "REFERENCES parent(id) ON DELETE RESTRICT")
                  .ok());
  Exec("COMMIT");
  EXPECT_EQ(One("SELECT count(*) FROM child"), "3");
}

}  // namespace
}  // namespace quarry::storage
