#include "auth/sql_authorizer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "common/random.h"

namespace quarry::auth {
namespace {

namespace fs = std::filesystem;

// A database file in a fresh temporary folder, with a table `t` and an index, opened the way
// the server opens client connections and handed to the test with an authorizer installed.
class SqlAuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("quarry_authz_test_" + RandomToken());
    fs::create_directories(dir_);
    ASSERT_EQ(sqlite3_open((dir_ / "main.db").c_str(), &db_), SQLITE_OK);
    ASSERT_EQ(Exec("PRAGMA journal_mode = WAL"), SQLITE_OK);
    ASSERT_EQ(Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);"
                   "CREATE INDEX t_name ON t(name);"
                   "INSERT INTO t VALUES (1, 'one'), (2, 'two');"),
              SQLITE_OK);
  }

  void TearDown() override {
    sqlite3_close(db_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Install(SqlAccess mode) { ASSERT_EQ(InstallAuthorizer(db_, mode), SQLITE_OK); }

  // Prepares and runs every statement in `sql`; returns the first failing result code.
  int Exec(const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    last_error_ = error == nullptr ? "" : error;
    sqlite3_free(error);
    return rc;
  }

  // The result code of preparing `sql` alone (authorization happens at prepare time).
  int Prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    sqlite3_finalize(stmt);
    return rc;
  }

  void ExpectDenied(const std::string& sql) {
    EXPECT_EQ(Exec(sql), SQLITE_AUTH) << sql << " -> " << last_error_;
  }
  void ExpectAllowed(const std::string& sql) {
    EXPECT_EQ(Exec(sql), SQLITE_OK) << sql << " -> " << last_error_;
  }

  int64_t Count(const std::string& table) {
    sqlite3_set_authorizer(db_, nullptr, nullptr);
    sqlite3_stmt* stmt = nullptr;
    int64_t count = -1;
    if (sqlite3_prepare_v2(db_, ("SELECT count(*) FROM " + table).c_str(), -1, &stmt, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      count = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return count;
  }

  fs::path dir_;
  sqlite3* db_ = nullptr;
  std::string last_error_;
};

TEST(SqlAccessTest, FollowsTokenAccess) {
  EXPECT_EQ(SqlAccessFor(Access::kReadOnly), SqlAccess::kReadOnly);
  EXPECT_EQ(SqlAccessFor(Access::kReadWrite), SqlAccess::kReadWrite);
  EXPECT_EQ(SqlAccessFor(Access::kAdmin), SqlAccess::kReadWrite);
}

TEST_F(SqlAuthorizerTest, ReadOnlyDeniesWritesAtPrepareTime) {
  Install(SqlAccess::kReadOnly);
  EXPECT_EQ(Prepare("INSERT INTO t VALUES (3, 'three')"), SQLITE_AUTH);
  EXPECT_STREQ(sqlite3_errmsg(db_), "not authorized");
  for (const char* sql : {
           "INSERT INTO t VALUES (3, 'three')",
           "INSERT INTO t SELECT id + 10, name FROM t",
           "REPLACE INTO t VALUES (1, 'uno')",
           "UPDATE t SET name = 'x'",
           "DELETE FROM t",
           "DELETE FROM t WHERE id = 1 RETURNING *",
           "CREATE TABLE u(x)",
           "CREATE TABLE IF NOT EXISTS t(x)",
           "CREATE TABLE u AS SELECT * FROM t",
           "CREATE INDEX t_id ON t(id)",
           "CREATE VIEW v AS SELECT * FROM t",
           "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
           "CREATE VIRTUAL TABLE f USING fts5(body)",
           "DROP TABLE t",
           "DROP INDEX t_name",
           "ALTER TABLE t ADD COLUMN extra",
           "ALTER TABLE t RENAME TO t2",
           "REINDEX t",
           "REINDEX",
           "ANALYZE",
           "PRAGMA user_version = 5",
           "PRAGMA user_version(5)",
           "PRAGMA application_id = 7",
           "PRAGMA foreign_keys = ON",
           "PRAGMA query_only = 0",
           "PRAGMA journal_mode = DELETE",
           "PRAGMA optimize",
           "PRAGMA incremental_vacuum",
           "PRAGMA shrink_memory",
           "PRAGMA no_such_pragma",
       }) {
    ExpectDenied(sql);
  }
  EXPECT_EQ(Count("t"), 2);
}

TEST_F(SqlAuthorizerTest, ReadOnlyDeniesTemporaryObjects) {
  Install(SqlAccess::kReadOnly);
  ExpectDenied("CREATE TEMP TABLE scratch(x)");
  ExpectDenied("CREATE TEMP VIEW tv AS SELECT 1");
  ExpectDenied("CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END");
}

TEST_F(SqlAuthorizerTest, ReadOnlyDeniesVacuum) {
  Install(SqlAccess::kReadOnly);
  // VACUUM passes prepare; SQLite asks about its internal ATTACH when it runs.
  EXPECT_NE(Exec("VACUUM"), SQLITE_OK);
  EXPECT_NE(Exec("VACUUM INTO '" + (dir_ / "copy.db").string() + "'"), SQLITE_OK);
  EXPECT_FALSE(fs::exists(dir_ / "copy.db"));
}

TEST_F(SqlAuthorizerTest, ReadOnlyAllowsReads) {
  Install(SqlAccess::kReadOnly);
  for (const char* sql : {
           "SELECT * FROM t",
           "SELECT name, length(name), upper(name) FROM t WHERE id = 1",
           "SELECT * FROM t t1 JOIN t t2 USING (id)",
           "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) "
           "SELECT sum(x) FROM c",
           "SELECT * FROM sqlite_schema",
           "SELECT value FROM json_each('[1, 2, 3]')",
           "SELECT * FROM json_each('[4]')",
           "SELECT * FROM pragma_table_info('t')",
           "SELECT name FROM pragma_index_list('t')",
           "BEGIN",
           "SELECT count(*) FROM t",
           "COMMIT",
           "BEGIN DEFERRED; SELECT 1; ROLLBACK",
           "SAVEPOINT sp; SELECT 1; RELEASE sp",
           "SAVEPOINT sp; ROLLBACK TO sp; RELEASE sp",
           "EXPLAIN SELECT * FROM t",
           "EXPLAIN QUERY PLAN SELECT * FROM t WHERE name = 'one'",
           "PRAGMA table_info(t)",
           "PRAGMA table_xinfo('t')",
           "PRAGMA main.table_info(t)",
           "PRAGMA table_list",
           "PRAGMA index_list(t)",
           "PRAGMA index_info(t_name)",
           "PRAGMA foreign_key_list(t)",
           "PRAGMA foreign_key_check",
           "PRAGMA integrity_check",
           "PRAGMA quick_check(10)",
           "PRAGMA database_list",
           "PRAGMA user_version",
           "PRAGMA schema_version",
           "PRAGMA Journal_Mode",
           "PRAGMA foreign_keys",
           "PRAGMA page_count",
           "PRAGMA compile_options",
       }) {
    ExpectAllowed(sql);
  }
}

TEST_F(SqlAuthorizerTest, ReadOnlyCannotTakeTheWriteLock) {
  Install(SqlAccess::kReadOnly);
  EXPECT_EQ(Exec("BEGIN IMMEDIATE"), SQLITE_READONLY) << last_error_;
  EXPECT_EQ(Exec("BEGIN EXCLUSIVE"), SQLITE_READONLY) << last_error_;
  ExpectAllowed("BEGIN; SELECT * FROM t; COMMIT");
}

TEST_F(SqlAuthorizerTest, ReadWriteAllowsWritesAndSchemaChanges) {
  Install(SqlAccess::kReadWrite);
  for (const char* sql : {
           "INSERT INTO t VALUES (3, 'three')",
           "UPDATE t SET name = 'uno' WHERE id = 1",
           "DELETE FROM t WHERE id = 2",
           "BEGIN IMMEDIATE",
           "INSERT INTO t VALUES (4, 'four')",
           "COMMIT",
           "CREATE TABLE u(x, y)",
           "CREATE INDEX u_x ON u(x)",
           "CREATE VIEW v AS SELECT * FROM u",
           "CREATE TRIGGER tr AFTER INSERT ON u BEGIN UPDATE t SET name = 'hit' WHERE id = 1; END",
           "INSERT INTO u VALUES (1, 2)",
           "ALTER TABLE u ADD COLUMN z",
           "ALTER TABLE u RENAME TO u2",
           "CREATE VIRTUAL TABLE f USING fts5(body)",
           "INSERT INTO f(body) VALUES ('hello world')",
           "CREATE TEMP TABLE scratch(x)",
           "INSERT INTO scratch VALUES (1)",
           "DROP VIEW v",
           "DROP TABLE u2",
           "DROP TABLE f",
           "REINDEX",
           "ANALYZE",
           "VACUUM",
           "PRAGMA user_version = 5",
           "PRAGMA foreign_keys = ON",
           "PRAGMA defer_foreign_keys = ON",
           "PRAGMA legacy_alter_table = OFF",
           "PRAGMA journal_mode = WAL",
           "PRAGMA journal_mode",
           "PRAGMA synchronous",
           "PRAGMA optimize",
           "PRAGMA integrity_check",
       }) {
    ExpectAllowed(sql);
  }
  EXPECT_EQ(Count("t"), 3);
}

TEST_F(SqlAuthorizerTest, ReadWriteDeniesAttachAndDetach) {
  Install(SqlAccess::kReadWrite);
  fs::path other = dir_ / "other.db";
  ExpectDenied("ATTACH '" + other.string() + "' AS other");
  ExpectDenied("ATTACH 'file:" + other.string() + "?mode=rwc' AS other");
  ExpectDenied("ATTACH ':memory:' AS mem");
  ExpectDenied("ATTACH ('" + dir_.string() + "/' || 'other.db') AS other");
  EXPECT_EQ(Prepare("ATTACH ? AS other"), SQLITE_AUTH);
  ExpectDenied("DETACH main");
  ExpectDenied("DETACH temp");
  EXPECT_FALSE(fs::exists(other));
}

TEST_F(SqlAuthorizerTest, ReadWriteDeniesVacuumInto) {
  Install(SqlAccess::kReadWrite);
  fs::path copy = dir_ / "copy.db";
  EXPECT_EQ(Exec("VACUUM INTO '" + copy.string() + "'"), SQLITE_AUTH) << last_error_;
  EXPECT_FALSE(fs::exists(copy));
}

TEST_F(SqlAuthorizerTest, ReadWriteDeniesServerOwnedPragmas) {
  Install(SqlAccess::kReadWrite);
  for (const char* sql : {
           "PRAGMA journal_mode = DELETE",
           "PRAGMA journal_mode = MEMORY",
           "PRAGMA main.journal_mode = OFF",
           "PRAGMA locking_mode = EXCLUSIVE",
           "PRAGMA synchronous = OFF",
           "PRAGMA busy_timeout = 0",
           "PRAGMA query_only = 1",
           "PRAGMA writable_schema = ON",
           "PRAGMA Writable_Schema = 1",
           "PRAGMA schema_version = 99",
           "PRAGMA trusted_schema = ON",
           "PRAGMA temp_store = FILE",
           "PRAGMA cache_size = -1000000",
           "PRAGMA mmap_size = 1000000000",
           "PRAGMA max_page_count = 1",
           "PRAGMA hard_heap_limit = 1",
           "PRAGMA wal_autocheckpoint = 0",
           "PRAGMA threads = 8",
           "PRAGMA encoding = 'UTF-16le'",  // the change log spells TEXT as UTF-8 bytes
           "PRAGMA temp_store_directory = '/tmp'",
           "PRAGMA temp_store_directory",
           "PRAGMA data_store_directory = '/tmp'",
           "PRAGMA wal_checkpoint(TRUNCATE)",
           "PRAGMA wal_checkpoint",
       }) {
    ExpectDenied(sql);
  }
}

// drizzle-kit push drops every table its schema does not declare, Quarry's migration history
// among them; `migrate status` then showed every migration pending.
TEST_F(SqlAuthorizerTest, BookkeepingTablesSurviveClientDropAndRefuseAlter) {
  ASSERT_EQ(Exec("CREATE TABLE _quarry_migrations(id TEXT PRIMARY KEY, checksum TEXT);"
                 "INSERT INTO _quarry_migrations VALUES ('0001_init', 'c1')"),
            SQLITE_OK);
  Install(SqlAccess::kReadWrite);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_, "DROP TABLE _quarry_migrations", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_NE(stmt, nullptr);  // a statement that does nothing, not "no statement"
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  ExpectAllowed("DROP TABLE IF EXISTS \"_QUARRY_MIGRATIONS\"");
  ExpectDenied("ALTER TABLE _quarry_migrations RENAME TO kept");
  ExpectDenied("ALTER TABLE _quarry_migrations ADD COLUMN x");
  ExpectDenied("ALTER TABLE _quarry_migrations DROP COLUMN checksum");
  // The migrator writes its history through the same rules.
  ExpectAllowed("INSERT INTO _quarry_migrations VALUES ('0002_more', 'c2')");
  ExpectAllowed("DELETE FROM _quarry_migrations WHERE id = '0002_more'");
  EXPECT_EQ(Exec("SELECT 1 FROM _quarry_migrations WHERE id = '0001_init'"), SQLITE_OK);
  // A schema rebuild's staging table is not bookkeeping: it is renamed and dropped as usual.
  ExpectAllowed("CREATE TABLE _quarry_new_t(id INTEGER PRIMARY KEY)");
  ExpectAllowed("ALTER TABLE _quarry_new_t RENAME TO renamed");
  ExpectAllowed("DROP TABLE renamed");
  // A read-only client is refused the drop outright.
  Install(SqlAccess::kReadOnly);
  ExpectDenied("DROP TABLE _quarry_migrations");
  Install(SqlAccess::kReadWrite);
  int count = 0;
  sqlite3_exec(
      db_, "SELECT count(*) FROM sqlite_schema WHERE name = '_quarry_migrations'",
      [](void* out, int, char** values, char**) {
        *static_cast<int*>(out) = std::stoi(values[0]);
        return 0;
      },
      &count, nullptr);
  EXPECT_EQ(count, 1);
}

TEST_F(SqlAuthorizerTest, BothModesDenyDangerousFunctions) {
  for (SqlAccess mode : {SqlAccess::kReadOnly, SqlAccess::kReadWrite}) {
    Install(mode);
    // SQLite reports a denied function as SQLITE_ERROR, not SQLITE_AUTH.
    for (const char* sql :
         {"SELECT load_extension('/tmp/evil.so')", "SELECT fts3_tokenizer('simple')",
          "SELECT FTS3_TOKENIZER('simple', x'00')"}) {
      EXPECT_EQ(Exec(sql), SQLITE_ERROR) << sql;
      EXPECT_NE(last_error_.find("not authorized to use function"), std::string::npos)
          << sql << " -> " << last_error_;
    }
    ExpectDenied("ATTACH '" + (dir_ / "other.db").string() + "' AS other");
  }
}

TEST_F(SqlAuthorizerTest, SwitchingModesOnAPooledConnection) {
  Install(SqlAccess::kReadOnly);
  ExpectDenied("INSERT INTO t VALUES (3, 'three')");
  Install(SqlAccess::kReadWrite);
  ExpectAllowed("INSERT INTO t VALUES (3, 'three')");
  ExpectAllowed("BEGIN IMMEDIATE; COMMIT");
  Install(SqlAccess::kReadOnly);
  ExpectDenied("INSERT INTO t VALUES (4, 'four')");
  EXPECT_EQ(Count("t"), 3);
}

TEST_F(SqlAuthorizerTest, StatementsPreparedBeforeInstallAreRechecked) {
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_, "DELETE FROM t", -1, &stmt, nullptr), SQLITE_OK);
  Install(SqlAccess::kReadOnly);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_AUTH);
  sqlite3_finalize(stmt);
  EXPECT_EQ(Count("t"), 2);
}

}  // namespace
}  // namespace quarry::auth

namespace quarry::auth {
namespace {

// Regression: a read-only token's INSERT failed with SQLite's bare "not authorized", which
// does not say that the token is the reason.
TEST_F(SqlAuthorizerTest, ReadOnlyWriteIsExplainedAsReadOnlyToken) {
  Install(SqlAccess::kReadOnly);
  ASSERT_EQ(Prepare("INSERT INTO t VALUES (3, 'three')"), SQLITE_AUTH);
  Status explained =
      ExplainDenial(Status(ErrorCode::kSqlite, sqlite3_errmsg(db_), sqlite3_extended_errcode(db_)));
  EXPECT_NE(explained.message().find("read-only token"), std::string::npos) << explained.message();
  EXPECT_EQ(explained.sqlite_code(), SQLITE_AUTH);

  // A refusal both modes share (ATTACH) is not a read-only matter: left as SQLite said it.
  ASSERT_EQ(Prepare("ATTACH 'other.db' AS o"), SQLITE_AUTH);
  Status attach =
      ExplainDenial(Status(ErrorCode::kSqlite, sqlite3_errmsg(db_), sqlite3_extended_errcode(db_)));
  EXPECT_EQ(attach.message(), "not authorized");

  // The note is taken: a later refusal under the read-write rules is not explained as one.
  ASSERT_EQ(Prepare("DELETE FROM t"), SQLITE_AUTH);
  Install(SqlAccess::kReadWrite);
  ASSERT_EQ(Prepare("ATTACH 'other.db' AS o"), SQLITE_AUTH);
  EXPECT_EQ(ExplainDenial(Status(ErrorCode::kSqlite, "not authorized", SQLITE_AUTH)).message(),
            "not authorized");
}

}  // namespace
}  // namespace quarry::auth
