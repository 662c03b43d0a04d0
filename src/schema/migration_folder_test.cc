#include "schema/migration_folder.h"

#include <gtest/gtest.h>

#include "schema/migration_sql.h"
#include "schema/migration_test_util.h"

namespace quarry::schema {
namespace {

using testing::kFixtures;
using testing::TempDir;
using testing::WriteFile;

TEST(ReadMigrationFolder, QuarryFormatWithDownSectionsAndTriggers) {
  auto set = ReadMigrationFolder(kFixtures / "quarry");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->format, MigrationFormat::kQuarry);
  ASSERT_EQ(set->migrations.size(), 2u);
  const Migration& first = set->migrations[0];
  EXPECT_EQ(first.id, "20240501120000_create_users");
  EXPECT_EQ(first.up.size(), 3u);  // users, audit, the trigger in one piece
  EXPECT_NE(first.up[2].find("UPDATE audit"), std::string::npos);
  EXPECT_TRUE(first.has_down);
  EXPECT_EQ(first.down.size(), 3u);
  EXPECT_EQ(first.checksum, Sha256Hex(first.text));
  EXPECT_EQ(set->migrations[1].id, "20240502090000_add_posts");
  EXPECT_EQ(set->migrations[1].up.size(), 2u);
}

TEST(ReadMigrationFolder, PlainFormatOrderedByNumber) {
  auto set = ReadMigrationFolder(kFixtures / "plain");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->format, MigrationFormat::kPlain);
  ASSERT_EQ(set->migrations.size(), 3u);
  EXPECT_EQ(set->migrations[0].id, "0001_create_items");
  EXPECT_EQ(set->migrations[1].id, "0002_add_price");
  EXPECT_EQ(set->migrations[1].up.size(), 2u);
  EXPECT_EQ(set->migrations[2].id, "0010_add_stock");
  EXPECT_FALSE(set->migrations[0].has_down);
}

TEST(ReadMigrationFolder, PlainNumbersWithoutPaddingSortNumerically) {
  TempDir dir;
  WriteFile(dir / "m/10_ten.sql", "SELECT 10;");
  WriteFile(dir / "m/9_nine.sql", "SELECT 9;");
  WriteFile(dir / "m/2_two.sql", "SELECT 2;");
  auto set = ReadMigrationFolder(dir / "m");
  ASSERT_TRUE(set.ok()) << set.status().message();
  ASSERT_EQ(set->migrations.size(), 3u);
  EXPECT_EQ(set->migrations[0].id, "2_two");
  EXPECT_EQ(set->migrations[1].id, "9_nine");
  EXPECT_EQ(set->migrations[2].id, "10_ten");
}

TEST(ReadMigrationFolder, RealDrizzleKitFolder) {
  auto set = ReadMigrationFolder(kFixtures / "drizzle" / "migrations");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->format, MigrationFormat::kDrizzle);
  ASSERT_EQ(set->migrations.size(), 2u);
  EXPECT_EQ(set->migrations[0].id, "0000_init");
  EXPECT_EQ(set->migrations[0].up.size(), 3u);  // posts, users, unique index
  EXPECT_EQ(set->migrations[1].id, "0001_add_display_name");
  ASSERT_EQ(set->migrations[1].up.size(), 2u);
  EXPECT_EQ(set->migrations[1].up[0], "ALTER TABLE `users` ADD `display_name` text;");
  for (const auto& m : set->migrations) {
    for (const auto& statement : m.up) {
      EXPECT_EQ(statement.find("statement-breakpoint"), std::string::npos) << statement;
    }
  }
}

TEST(ReadMigrationFolder, MalformedJournalNamesTheFile) {
  auto set = ReadMigrationFolder(kFixtures / "bad_journal");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("bad_journal/meta/_journal.json"), std::string::npos)
      << set.status().message();
  EXPECT_NE(set.status().message().find("not valid JSON"), std::string::npos);
}

TEST(ReadMigrationFolder, JournalEntryErrorsNameFileAndEntry) {
  TempDir dir;
  WriteFile(dir / "d/meta/_journal.json",
            R"({"dialect":"sqlite","entries":[{"idx":0,"tag":"0000_a"},{"idx":1}]})");
  WriteFile(dir / "d/0000_a.sql", "CREATE TABLE a (x);");
  auto set = ReadMigrationFolder(dir / "d");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("_journal.json: entries[1]"), std::string::npos)
      << set.status().message();
  EXPECT_NE(set.status().message().find("\"tag\""), std::string::npos);

  WriteFile(dir / "d/meta/_journal.json",
            R"({"dialect":"sqlite","entries":[{"idx":0,"tag":"0000_missing"}]})");
  set = ReadMigrationFolder(dir / "d");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("0000_missing.sql"), std::string::npos)
      << set.status().message();

  WriteFile(dir / "d/meta/_journal.json", R"({"dialect":"postgresql","entries":[]})");
  set = ReadMigrationFolder(dir / "d");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("postgresql"), std::string::npos);

  WriteFile(dir / "d/meta/_journal.json", R"({"entries":{}})");
  set = ReadMigrationFolder(dir / "d");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("\"entries\" array"), std::string::npos);
}

TEST(ReadMigrationFolder, RejectsUnrecognizedAndMixedFiles) {
  TempDir dir;
  WriteFile(dir / "m/create_users.sql", "SELECT 1;");
  auto set = ReadMigrationFolder(dir / "m");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("create_users.sql"), std::string::npos);

  TempDir mixed;
  WriteFile(mixed / "m/20240101000000_a.sql", "SELECT 1;");
  WriteFile(mixed / "m/0002_b.sql", "SELECT 2;");
  set = ReadMigrationFolder(mixed / "m");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("mixes"), std::string::npos);
}

TEST(ReadMigrationFolder, MissingFolderAndEmptyFolder) {
  TempDir dir;
  auto missing = ReadMigrationFolder(dir / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  std::filesystem::create_directories(dir / "empty");
  auto empty = ReadMigrationFolder(dir / "empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->format, MigrationFormat::kQuarry);
  EXPECT_TRUE(empty->migrations.empty());
}

TEST(MakeMigrationSet, RejectsDuplicateAndEmptyIds) {
  auto dup = MakeMigrationSet(MigrationFormat::kPlain, {{"0001_a", "SELECT 1;"}, {"0001_a", ""}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("migrations[1]"), std::string::npos);
  auto empty = MakeMigrationSet(MigrationFormat::kPlain, {{"", "SELECT 1;"}});
  ASSERT_FALSE(empty.ok());
  auto ok = MakeMigrationSet(MigrationFormat::kQuarry,
                             {{"20240101000000_a", "CREATE TABLE a (x);\n-- down\nDROP TABLE a;"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->migrations[0].has_down);
}

TEST(CreateMigrationFile, WritesATemplateThatSortsLast) {
  TempDir dir;
  auto now = std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + std::chrono::hours{12};
  auto first = CreateMigrationFile(dir / "migrations", "create_users", "", "", now);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->filename().string(), "20240501120000_create_users.sql");
  // Same second again: moved one second later, never overwritten.
  auto second = CreateMigrationFile(dir / "migrations", "add_posts",
                                    "CREATE TABLE posts (id INTEGER);", "DROP TABLE posts;", now);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->filename().string(), "20240501120001_add_posts.sql");
  auto set = ReadMigrationFolder(dir / "migrations");
  ASSERT_TRUE(set.ok()) << set.status().message();
  ASSERT_EQ(set->migrations.size(), 2u);
  EXPECT_TRUE(set->migrations[0].up.empty());
  EXPECT_FALSE(set->migrations[0].has_down);
  ASSERT_EQ(set->migrations[1].up.size(), 1u);
  EXPECT_EQ(set->migrations[1].up[0], "CREATE TABLE posts (id INTEGER);");
  ASSERT_EQ(set->migrations[1].down.size(), 1u);
}

TEST(CreateMigrationFile, RejectsBadLabelsAndOtherFormats) {
  TempDir dir;
  auto now = std::chrono::system_clock::now();
  EXPECT_FALSE(CreateMigrationFile(dir / "m", "bad label", "", "", now).ok());
  EXPECT_FALSE(CreateMigrationFile(dir / "m", "../escape", "", "", now).ok());
  auto drizzle = CreateMigrationFile(kFixtures / "drizzle" / "migrations", "x", "", "", now);
  ASSERT_FALSE(drizzle.ok());
  EXPECT_NE(drizzle.status().message().find("drizzle"), std::string::npos);
}

}  // namespace
}  // namespace quarry::schema
