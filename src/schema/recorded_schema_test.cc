#include "schema/recorded_schema.h"

#include <gtest/gtest.h>

#include "schema/migration_sql.h"
#include "schema/migration_test_util.h"
#include "schema/migrator.h"

namespace quarry::schema {
namespace {

using testing::OpenDb;
using testing::Query;
using testing::Tables;
using testing::TempDir;

using Strings = std::vector<std::string>;

constexpr const char* kUsersV1 = "model users {\n  id Integer @id\n}\n";
constexpr const char* kUsersV2 = "model users {\n  id   Integer @id\n  name Text?\n}\n";

class RecordedSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = OpenDb(dir_ / "db.sqlite");
    ASSERT_NE(conn_, nullptr);
  }
  std::optional<std::string> Recorded() {
    auto loaded = LoadRecordedSchema(conn_->handle());
    EXPECT_TRUE(loaded.ok()) << loaded.status().message();
    return loaded.ok() ? *loaded : std::optional<std::string>("ERROR");
  }
  // A Quarry-format set of (id, text) migrations.
  static MigrationSet Set(const std::vector<MigrationSource>& sources) {
    auto set = MakeMigrationSet(MigrationFormat::kQuarry, sources);
    EXPECT_TRUE(set.ok()) << set.status().message();
    return set.ok() ? std::move(*set) : MigrationSet{};
  }
  static std::string WithSnapshot(const std::string& up, const std::string& schema) {
    return up + "\n" + SchemaSnapshotComment(schema) + "\n-- down\n";
  }

  TempDir dir_;
  std::unique_ptr<storage::Connection> conn_;
};

TEST_F(RecordedSchemaTest, NothingRecordedUntilRecorded) {
  EXPECT_EQ(Recorded(), std::nullopt);
  EXPECT_EQ(Tables(*conn_), Strings{});  // loading creates nothing
  ASSERT_TRUE(RecordSchema(conn_->handle(), kUsersV1).ok());
  EXPECT_EQ(Recorded(), kUsersV1);
  ASSERT_TRUE(RecordSchema(conn_->handle(), kUsersV2).ok());
  EXPECT_EQ(Recorded(), kUsersV2);
  EXPECT_EQ(Query(*conn_, "SELECT count(*) FROM _quarry_schema"), (std::vector<Strings>{{"1"}}));
  ASSERT_TRUE(ForgetRecordedSchema(conn_->handle()).ok());
  EXPECT_EQ(Recorded(), std::nullopt);
}

TEST_F(RecordedSchemaTest, RecordingCommitsAndRollsBackWithTheTransaction) {
  ASSERT_TRUE(RecordSchema(conn_->handle(), kUsersV1).ok());
  ASSERT_TRUE(conn_->Exec("BEGIN IMMEDIATE").ok());
  ASSERT_TRUE(RecordSchema(conn_->handle(), kUsersV2).ok());
  EXPECT_EQ(Recorded(), kUsersV2);
  ASSERT_TRUE(conn_->Exec("ROLLBACK").ok());
  EXPECT_EQ(Recorded(), kUsersV1);
}

TEST_F(RecordedSchemaTest, ReadOnlyHandlesCanLoadIt) {
  ASSERT_TRUE(RecordSchema(conn_->handle(), kUsersV1).ok());
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ / "db.sqlite").c_str(), &raw, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  auto loaded = LoadRecordedSchema(raw);
  sqlite3_close_v2(raw);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(*loaded, kUsersV1);
}

TEST_F(RecordedSchemaTest, AMigrationMadeFromASchemaRecordsItsSnapshot) {
  MigrationSet set = Set({
      {"20240101000000_users",
       WithSnapshot("CREATE TABLE users (id INTEGER PRIMARY KEY);", kUsersV1)},
      {"20240102000000_name", WithSnapshot("ALTER TABLE users ADD COLUMN name TEXT;", kUsersV2)},
      {"20240103000000_plain", "CREATE TABLE audit (x);\n-- down\nDROP TABLE audit;\n"},
  });
  ASSERT_EQ(set.migrations[0].schema, kUsersV1);
  ASSERT_EQ(set.migrations[2].schema, std::nullopt);

  MigrationSet first{set.format, {set.migrations[0]}};
  ASSERT_TRUE(Migrator(*conn_).Apply(first).status.ok());
  EXPECT_EQ(Recorded(), kUsersV1);

  // The rest in one apply: the newest snapshot wins, the plain SQL migration changes nothing.
  MigrationRun run = Migrator(*conn_).Apply(set);
  ASSERT_TRUE(run.status.ok()) << run.status.message();
  EXPECT_EQ(run.done, (Strings{"20240102000000_name", "20240103000000_plain"}));
  EXPECT_EQ(Recorded(), kUsersV2);
  EXPECT_EQ(Tables(*conn_), (Strings{"_quarry_migrations", "_quarry_schema", "audit", "users"}));
}

TEST_F(RecordedSchemaTest, AFailedMigrationRecordsNothing) {
  ASSERT_TRUE(RecordSchema(conn_->handle(), kUsersV1).ok());
  MigrationSet set =
      Set({{"20240101000000_bad",
            WithSnapshot("CREATE TABLE t (x); INSERT INTO nope VALUES (1);", kUsersV2)}});
  MigrationRun run = Migrator(*conn_).Apply(set);
  EXPECT_FALSE(run.status.ok());
  EXPECT_EQ(Recorded(), kUsersV1);
}

TEST_F(RecordedSchemaTest, DownRestoresTheSnapshotOfTheNewestMigrationLeft) {
  std::string v1 = WithSnapshot("CREATE TABLE users (id INTEGER PRIMARY KEY);", kUsersV1);
  v1 += "DROP TABLE users;\n";
  std::string v2 = WithSnapshot("ALTER TABLE users ADD COLUMN name TEXT;", kUsersV2);
  v2 += "ALTER TABLE users DROP COLUMN name;\n";
  MigrationSet set =
      Set({{"20240101000000_users", v1},
           {"20240102000000_name", v2},
           {"20240103000000_plain", "CREATE TABLE a (x);\n-- down\nDROP TABLE a;\n"}});
  ASSERT_TRUE(Migrator(*conn_).Apply(set).status.ok());
  ASSERT_EQ(Recorded(), kUsersV2);

  ASSERT_TRUE(Migrator(*conn_).Down(set, 1).status.ok());  // plain: the schema stays
  EXPECT_EQ(Recorded(), kUsersV2);
  ASSERT_TRUE(Migrator(*conn_).Down(set, 1).status.ok());
  EXPECT_EQ(Recorded(), kUsersV1);
  ASSERT_TRUE(Migrator(*conn_).Down(set, 1).status.ok());
  EXPECT_EQ(Recorded(), std::nullopt);
}

}  // namespace
}  // namespace quarry::schema
