#include "storage/client_ddl.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace quarry::storage {
namespace {
namespace fs = std::filesystem;

class ClientDdlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() /
            ("quarry-client-ddl-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    fs::remove(path_);
    auto conn = Connection::Open(path_, ConnectionOptions{}, true);
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    conn_ = std::move(*conn);
    Exec(
        "CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT);"
        "CREATE TABLE child(id INTEGER PRIMARY KEY,"
        "  parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE);"
        "INSERT INTO parent VALUES (1, 'a'), (2, 'b');"
        "INSERT INTO child(parent_id) VALUES (1), (2), (2);");
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
  // Runs `sql` the way a door does: Quarry's DDL first, SQLite for the rest.
  void Run(const std::string& sql) {
    auto ran = RunClientDdl(*conn_, sql, true);
    ASSERT_TRUE(ran.ok()) << sql << ": " << ran.status().message();
    if (!*ran) {
      Exec(sql);
    }
  }
  int64_t Count(const std::string& table) {
    auto stmt = conn_->Prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(stmt.ok());
    EXPECT_EQ(sqlite3_step(stmt->get()), SQLITE_ROW);
    return sqlite3_column_int64(stmt->get(), 0);
  }

  fs::path path_;
  std::unique_ptr<Connection> conn_;
};

// drizzle-kit push (dialect "sqlite") rebuilt a parent as separate requests after a
// PRAGMA foreign_keys=OFF that never reached them: the DROP TABLE cascaded to every child row.
TEST_F(ClientDdlTest, DrizzleKitRebuildAsSeparateStatementsKeepsChildRows) {
  Run("CREATE TABLE `__new_parent` (`id` integer PRIMARY KEY, `name` text NOT NULL DEFAULT '')");
  Run("INSERT INTO `__new_parent`(\"id\", \"name\") SELECT \"id\", \"name\" FROM `parent`;");
  Run("DROP TABLE `parent`;");
  EXPECT_EQ(Count("child"), 3);
  Run("ALTER TABLE `__new_parent` RENAME TO `parent`;");
  EXPECT_EQ(Count("parent"), 2);
  EXPECT_EQ(Count("child"), 3);
  EXPECT_EQ(Count("pragma_foreign_key_check"), 0);
  int on = 0;
  sqlite3_db_config(conn_->handle(), SQLITE_DBCONFIG_ENABLE_FKEY, -1, &on);
  EXPECT_EQ(on, 1);  // enforcement is back for the next statement
  Run("DELETE FROM parent WHERE id = 2");
  EXPECT_EQ(Count("child"), 1);
}

TEST_F(ClientDdlTest, InsideATransactionDropTableIsSqlites) {
  auto ran = RunClientDdl(*conn_, "BEGIN", true);
  ASSERT_TRUE(ran.ok());
  EXPECT_FALSE(*ran);
  Exec("BEGIN");
  ran = RunClientDdl(*conn_, "DROP TABLE parent", true);
  ASSERT_TRUE(ran.ok());
  EXPECT_FALSE(*ran);
  Exec("ROLLBACK");
}

TEST_F(ClientDdlTest, RunsAlterColumnAndRefusesWhatFollowsIt) {
  auto ran =
      RunClientDdl(*conn_, "ALTER TABLE parent ALTER COLUMN name TO name TEXT; SELECT 1", true);
  ASSERT_FALSE(ran.ok());
  EXPECT_EQ(ran.status().code(), ErrorCode::kSqlManyStatements);
  std::string sql = "ALTER TABLE parent ALTER COLUMN name TO name TEXT DEFAULT 'z';";
  ran = RunClientDdl(*conn_, sql + " SELECT 1", false);
  ASSERT_TRUE(ran.ok()) << ran.status().message();
  ASSERT_TRUE(*ran);
  EXPECT_EQ(**ran, sql.size());
  EXPECT_EQ(Count("child"), 3);
  ran = RunClientDdl(*conn_, "SELECT 1", true);
  ASSERT_TRUE(ran.ok());
  EXPECT_FALSE(*ran);
}

}  // namespace
}  // namespace quarry::storage
