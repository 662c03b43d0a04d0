#include "schema/migrator.h"

#include <gtest/gtest.h>

#include "schema/migration_test_util.h"

namespace quarry::schema {
namespace {

using testing::Columns;
using testing::kFixtures;
using testing::OpenDb;
using testing::Query;
using testing::Snapshot;
using testing::Tables;
using testing::TempDir;
using testing::WriteFile;

using Strings = std::vector<std::string>;

MigrationSet ReadOrDie(const std::filesystem::path& dir) {
  auto set = ReadMigrationFolder(dir);
  EXPECT_TRUE(set.ok()) << set.status().message();
  return set.ok() ? std::move(*set) : MigrationSet{};
}

Strings States(const std::vector<MigrationStatus>& statuses) {
  Strings out;
  for (const auto& s : statuses) {
    out.push_back(s.id + "=" + std::string(StateName(s.state)));
  }
  return out;
}

class MigratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = OpenDb(dir_ / "db.sqlite");
    ASSERT_NE(conn_, nullptr);
  }
  Strings StatesNow(const MigrationSet& set) {
    auto statuses = Migrator(*conn_).Status(set);
    EXPECT_TRUE(statuses.ok()) << statuses.status().message();
    return statuses.ok() ? States(*statuses) : Strings{};
  }

  TempDir dir_;
  std::unique_ptr<storage::Connection> conn_;
};

TEST_F(MigratorTest, AppliesPendingInOrderAndRecordsThem) {
  MigrationSet set = ReadOrDie(kFixtures / "quarry");
  EXPECT_EQ(StatesNow(set),
            (Strings{"20240501120000_create_users=pending", "20240502090000_add_posts=pending"}));
  MigrationRun run = Migrator(*conn_).Apply(set);
  ASSERT_TRUE(run.status.ok()) << run.status.message();
  EXPECT_EQ(run.done, (Strings{"20240501120000_create_users", "20240502090000_add_posts"}));
  EXPECT_EQ(Tables(*conn_), (Strings{"_quarry_migrations", "audit", "posts", "users"}));
  // The trigger came through whole.
  Query(*conn_, "INSERT INTO users (email) VALUES ('a@x')");
  EXPECT_EQ(Query(*conn_, "SELECT what FROM audit"), (std::vector<Strings>{{"INSERT A@X"}}));
  EXPECT_EQ(StatesNow(set),
            (Strings{"20240501120000_create_users=applied", "20240502090000_add_posts=applied"}));
  auto rows = Query(*conn_, "SELECT id, format, checksum FROM _quarry_migrations ORDER BY rowid");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1], "quarry");
  EXPECT_EQ(rows[0][2], set.migrations[0].checksum);
  // Applying again does nothing.
  MigrationRun again = Migrator(*conn_).Apply(set);
  ASSERT_TRUE(again.status.ok());
  EXPECT_TRUE(again.done.empty());
}

TEST_F(MigratorTest, FailingMigrationRollsBackCompletelyAndLaterOnesDoNotRun) {
  TempDir folder;
  WriteFile(folder / "m/0001_ok.sql", "CREATE TABLE a (x);");
  WriteFile(folder / "m/0002_bad.sql",
            "CREATE TABLE b (y);\nINSERT INTO a VALUES (1);\nINSERT INTO nope VALUES (1);\n"
            "CREATE TABLE c (z);");
  WriteFile(folder / "m/0003_later.sql", "CREATE TABLE d (w);");
  MigrationSet set = ReadOrDie(folder / "m");
  MigrationRun run = Migrator(*conn_).Apply(set);
  ASSERT_FALSE(run.status.ok());
  EXPECT_EQ(run.done, (Strings{"0001_ok"}));
  ASSERT_TRUE(run.failure.has_value());
  EXPECT_EQ(run.failure->migration_id, "0002_bad");
  EXPECT_EQ(run.failure->statement, 3);
  EXPECT_EQ(run.failure->sql, "INSERT INTO nope VALUES (1);");
  EXPECT_NE(run.failure->message.find("no such table: nope"), std::string::npos);
  const std::string& message = run.status.message();
  EXPECT_NE(message.find("0002_bad.sql"), std::string::npos) << message;
  EXPECT_NE(message.find("statement 3"), std::string::npos) << message;
  EXPECT_NE(message.find("no such table: nope"), std::string::npos) << message;
  // Nothing of 0002 (table b, the row in a) and nothing of 0003.
  EXPECT_EQ(Tables(*conn_), (Strings{"_quarry_migrations", "a"}));
  EXPECT_TRUE(Query(*conn_, "SELECT * FROM a").empty());
  EXPECT_EQ(StatesNow(set), (Strings{"0001_ok=applied", "0002_bad=pending", "0003_later=pending"}));
  EXPECT_FALSE(conn_->InTransaction());
  // Foreign-key enforcement is back on after the migrator switched it off.
  EXPECT_EQ(Query(*conn_, "PRAGMA foreign_keys"), (std::vector<Strings>{{"1"}}));
}

TEST_F(MigratorTest, ModifiedAfterApplyIsDetectedAndRefusedUnlessForced) {
  TempDir folder;
  WriteFile(folder / "m/20240101000000_a.sql", "CREATE TABLE a (x);");
  ASSERT_TRUE(Migrator(*conn_).Apply(ReadOrDie(folder / "m")).status.ok());
  WriteFile(folder / "m/20240101000000_a.sql", "CREATE TABLE a (x, y);");
  WriteFile(folder / "m/20240102000000_b.sql", "CREATE TABLE b (x);");
  MigrationSet set = ReadOrDie(folder / "m");
  EXPECT_EQ(StatesNow(set), (Strings{"20240101000000_a=modified", "20240102000000_b=pending"}));
  MigrationRun refused = Migrator(*conn_).Apply(set);
  ASSERT_FALSE(refused.status.ok());
  EXPECT_NE(refused.status.message().find("modified after they were applied (20240101000000_a)"),
            std::string::npos)
      << refused.status.message();
  EXPECT_EQ(Tables(*conn_), (Strings{"_quarry_migrations", "a"}));
  EXPECT_FALSE(Migrator(*conn_).Plan(set).ok());
  MigrationRun forced = Migrator(*conn_).Apply(set, {.force = true});
  ASSERT_TRUE(forced.status.ok()) << forced.status.message();
  EXPECT_EQ(forced.done, (Strings{"20240102000000_b"}));
  // Still reported as modified: force does not rewrite history.
  EXPECT_EQ(StatesNow(set), (Strings{"20240101000000_a=modified", "20240102000000_b=applied"}));
}

TEST_F(MigratorTest, MissingFromFolderIsReported) {
  TempDir folder;
  WriteFile(folder / "m/0001_a.sql", "CREATE TABLE a (x);");
  WriteFile(folder / "m/0002_b.sql", "CREATE TABLE b (x);");
  ASSERT_TRUE(Migrator(*conn_).Apply(ReadOrDie(folder / "m")).status.ok());
  std::filesystem::remove(folder / "m/0001_a.sql");
  MigrationSet set = ReadOrDie(folder / "m");
  EXPECT_EQ(StatesNow(set), (Strings{"0002_b=applied", "0001_a=missing"}));
  MigrationRun refused = Migrator(*conn_).Apply(set);
  ASSERT_FALSE(refused.status.ok());
  EXPECT_NE(refused.status.message().find("missing from the folder (0001_a)"), std::string::npos);
}

// A database that drizzle-kit's own migrator brought up to date showed every migration pending.
TEST_F(MigratorTest, DrizzleKitHistoryCountsAsAppliedForADrizzleFolder) {
  MigrationSet set = ReadOrDie(kFixtures / "drizzle" / "migrations");
  ASSERT_EQ(set.migrations.size(), 2u);
  EXPECT_EQ(set.migrations[0].when_ms, 1795260854381);
  // What drizzle-orm's migrator writes: the file's SHA-256 and the journal's "when".
  Query(*conn_,
        "CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, hash text NOT "
        "NULL, created_at numeric)");
  Query(*conn_, "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('" +
                    set.migrations[0].checksum + "', 1795260854381)");
  EXPECT_EQ(StatesNow(set), (Strings{"0000_init=applied", "0001_add_display_name=pending"}));
  Query(*conn_,
        "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('edited', "
        "1795260857909), ('x', 1700000000000)");
  EXPECT_EQ(StatesNow(set), (Strings{"0000_init=applied", "0001_add_display_name=modified",
                                     "drizzle-kit:1700000000000=missing"}));
  // Other folder formats ignore drizzle-kit's table.
  MigrationSet quarry = ReadOrDie(kFixtures / "quarry");
  EXPECT_EQ(StatesNow(quarry),
            (Strings{"20240501120000_create_users=pending", "20240502090000_add_posts=pending"}));
}

TEST_F(MigratorTest, DryRunPrintsThePlanAndWritesNothing) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE existing (v); INSERT INTO existing VALUES (42);").ok());
  std::string before = Snapshot(*conn_);
  MigrationSet set = ReadOrDie(kFixtures / "quarry");
  auto plan = Migrator(*conn_).Plan(set);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0].id, "20240501120000_create_users");
  ASSERT_EQ((*plan)[0].statements.size(), 3u);
  EXPECT_NE((*plan)[0].statements[0].find("CREATE TABLE users"), std::string::npos);
  EXPECT_EQ(Snapshot(*conn_), before);  // not even the tracking table
  // Try runs everything and rolls back: also no change.
  MigrationRun rehearsal = Migrator(*conn_).Try(set);
  ASSERT_TRUE(rehearsal.status.ok()) << rehearsal.status.message();
  EXPECT_EQ(rehearsal.done.size(), 2u);
  EXPECT_EQ(Snapshot(*conn_), before);
}

TEST_F(MigratorTest, DownUndoesTheLastNInReverse) {
  MigrationSet set = ReadOrDie(kFixtures / "quarry");
  ASSERT_TRUE(Migrator(*conn_).Apply(set).status.ok());
  MigrationRun one = Migrator(*conn_).Down(set, 1);
  ASSERT_TRUE(one.status.ok()) << one.status.message();
  EXPECT_EQ(one.done, (Strings{"20240502090000_add_posts"}));
  EXPECT_EQ(Tables(*conn_), (Strings{"_quarry_migrations", "audit", "users"}));
  EXPECT_EQ(StatesNow(set),
            (Strings{"20240501120000_create_users=applied", "20240502090000_add_posts=pending"}));
  ASSERT_TRUE(Migrator(*conn_).Apply(set).status.ok());
  MigrationRun all = Migrator(*conn_).Down(set, 5);
  ASSERT_TRUE(all.status.ok()) << all.status.message();
  EXPECT_EQ(all.done, (Strings{"20240502090000_add_posts", "20240501120000_create_users"}));
  EXPECT_EQ(Tables(*conn_), (Strings{"_quarry_migrations"}));
}

TEST_F(MigratorTest, DownRefusesWithoutADownSectionAndUndoesNothing) {
  TempDir folder;
  WriteFile(folder / "m/20240101000000_a.sql", "CREATE TABLE a (x);\n-- down\nDROP TABLE a;\n");
  WriteFile(folder / "m/20240102000000_b.sql", "CREATE TABLE b (x);\n");
  WriteFile(folder / "m/20240103000000_c.sql", "CREATE TABLE c (x);\n-- down\nDROP TABLE c;\n");
  MigrationSet set = ReadOrDie(folder / "m");
  ASSERT_TRUE(Migrator(*conn_).Apply(set).status.ok());
  MigrationRun refused = Migrator(*conn_).Down(set, 2);
  ASSERT_FALSE(refused.status.ok());
  EXPECT_NE(refused.status.message().find("20240102000000_b"), std::string::npos);
  EXPECT_NE(refused.status.message().find("no \"-- down\" section"), std::string::npos);
  EXPECT_TRUE(refused.done.empty());
  EXPECT_EQ(Tables(*conn_), (Strings{"_quarry_migrations", "a", "b", "c"}));  // c kept too
}

TEST_F(MigratorTest, DownRefusesOtherFormats) {
  MigrationSet set = ReadOrDie(kFixtures / "plain");
  ASSERT_TRUE(Migrator(*conn_).Apply(set).status.ok());
  MigrationRun refused = Migrator(*conn_).Down(set, 1);
  ASSERT_FALSE(refused.status.ok());
  EXPECT_NE(refused.status.message().find("plain"), std::string::npos);
}

TEST_F(MigratorTest, FailingDownSectionRollsBack) {
  TempDir folder;
  WriteFile(folder / "m/20240101000000_a.sql",
            "CREATE TABLE a (x);\n-- down\nDROP TABLE a;\nDROP TABLE not_there;\n");
  MigrationSet set = ReadOrDie(folder / "m");
  ASSERT_TRUE(Migrator(*conn_).Apply(set).status.ok());
  MigrationRun down = Migrator(*conn_).Down(set, 1);
  ASSERT_FALSE(down.status.ok());
  EXPECT_EQ(down.failure->statement, 2);
  EXPECT_EQ(Tables(*conn_), (Strings{"_quarry_migrations", "a"}));
  EXPECT_EQ(StatesNow(set), (Strings{"20240101000000_a=applied"}));
}

TEST_F(MigratorTest, ForeignKeyViolationRollsTheMigrationBack) {
  TempDir folder;
  WriteFile(
      folder / "m/0001_tables.sql",
      "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
      "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));");
  WriteFile(folder / "m/0002_orphans.sql",
            "INSERT INTO parent VALUES (1);\nINSERT INTO child VALUES (1, 1), (2, 99);");
  MigrationSet set = ReadOrDie(folder / "m");
  MigrationRun run = Migrator(*conn_).Apply(set);
  ASSERT_FALSE(run.status.ok());
  EXPECT_EQ(run.done, (Strings{"0001_tables"}));
  EXPECT_EQ(run.failure->migration_id, "0002_orphans");
  EXPECT_NE(run.status.message().find("foreign key check failed"), std::string::npos)
      << run.status.message();
  EXPECT_NE(run.status.message().find("table child row 2"), std::string::npos)
      << run.status.message();
  EXPECT_TRUE(Query(*conn_, "SELECT * FROM parent").empty());
  EXPECT_TRUE(Query(*conn_, "SELECT * FROM child").empty());
}

TEST_F(MigratorTest, TableRebuildKeepsChildRows) {
  // SQLite's documented rebuild: with enforcement on, dropping the parent would cascade.
  TempDir folder;
  WriteFile(folder / "m/0001_tables.sql",
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n"
            "CREATE TABLE child (id INTEGER PRIMARY KEY,\n"
            "  parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE);\n"
            "INSERT INTO parent VALUES (1, 'p');\nINSERT INTO child VALUES (1, 1);");
  WriteFile(folder / "m/0002_rebuild.sql",
            "PRAGMA foreign_keys=OFF;\n"
            "CREATE TABLE __new_parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
            "INSERT INTO __new_parent SELECT id, name FROM parent;\n"
            "DROP TABLE parent;\n"
            "ALTER TABLE __new_parent RENAME TO parent;\n"
            "PRAGMA foreign_keys=ON;");
  MigrationRun run = Migrator(*conn_).Apply(ReadOrDie(folder / "m"));
  ASSERT_TRUE(run.status.ok()) << run.status.message();
  EXPECT_EQ(Query(*conn_, "SELECT id, parent_id FROM child"), (std::vector<Strings>{{"1", "1"}}));
}

// drizzle-kit's turso dialect writes libSQL's ALTER COLUMN into migration files; SQLite refused it.
TEST_F(MigratorTest, LibsqlAlterColumnInAMigrationRebuildsAndKeepsChildRows) {
  TempDir folder;
  WriteFile(folder / "m/0001_tables.sql",
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n"
            "CREATE TABLE child (id INTEGER PRIMARY KEY,\n"
            "  parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE);\n"
            "INSERT INTO parent VALUES (1, 'p');\nINSERT INTO child VALUES (1, 1);");
  WriteFile(folder / "m/0002_alter.sql",
            "ALTER TABLE `parent` ALTER COLUMN \"name\" TO \"name\" text NOT NULL DEFAULT '';");
  WriteFile(folder / "m/0003_misfit.sql",
            "ALTER TABLE parent ALTER COLUMN name TO name TEXT CHECK (length(name) > 3);");
  MigrationRun run = Migrator(*conn_).Apply(ReadOrDie(folder / "m"));
  ASSERT_FALSE(run.status.ok());
  EXPECT_EQ(run.done, (Strings{"0001_tables", "0002_alter"}));
  EXPECT_NE(run.status.message().find("existing rows do not fit"), std::string::npos)
      << run.status.message();
  EXPECT_EQ(Query(*conn_, "SELECT id, parent_id FROM child"), (std::vector<Strings>{{"1", "1"}}));
  EXPECT_EQ(
      Query(*conn_, "SELECT \"notnull\" FROM pragma_table_info('parent') WHERE name = 'name'"),
      (std::vector<Strings>{{"1"}}));
}

TEST_F(MigratorTest, TransactionControlInAMigrationIsRefused) {
  TempDir folder;
  WriteFile(folder / "m/0001_a.sql", "CREATE TABLE a (x);\nCOMMIT;\nCREATE TABLE b (x);");
  MigrationRun run = Migrator(*conn_).Apply(ReadOrDie(folder / "m"));
  ASSERT_FALSE(run.status.ok());
  EXPECT_EQ(run.failure->statement, 2);
  EXPECT_NE(run.status.message().find("must not contain COMMIT"), std::string::npos);
  EXPECT_TRUE(Tables(*conn_).empty() || Tables(*conn_) == (Strings{"_quarry_migrations"}));
}

TEST_F(MigratorTest, RealDrizzleKitFolderAppliesAndBuildsItsSchema) {
  MigrationSet set = ReadOrDie(kFixtures / "drizzle" / "migrations");
  MigrationRun run = Migrator(*conn_).Apply(set);
  ASSERT_TRUE(run.status.ok()) << run.status.message();
  EXPECT_EQ(run.done, (Strings{"0000_init", "0001_add_display_name"}));
  EXPECT_EQ(Tables(*conn_), (Strings{"_quarry_migrations", "posts", "users"}));
  EXPECT_EQ(Columns(*conn_, "users"),
            (Strings{"id", "email", "name", "created_at", "display_name"}));
  EXPECT_EQ(Columns(*conn_, "posts"), (Strings{"id", "author_id", "title", "body", "created_at"}));
  auto indexes = Query(*conn_,
                       "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                       "ORDER BY name");
  EXPECT_EQ(indexes, (std::vector<Strings>{{"posts_author_created_idx"}, {"users_email_unique"}}));
  auto fks = Query(*conn_, "SELECT \"table\", on_delete FROM pragma_foreign_key_list('posts')");
  EXPECT_EQ(fks, (std::vector<Strings>{{"users", "CASCADE"}}));
  EXPECT_EQ(Query(*conn_, "SELECT format FROM _quarry_migrations"),
            (std::vector<Strings>{{"drizzle"}, {"drizzle"}}));
  EXPECT_EQ(StatesNow(set), (Strings{"0000_init=applied", "0001_add_display_name=applied"}));
}

}  // namespace
}  // namespace quarry::schema
