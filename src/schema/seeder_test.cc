#include "schema/seeder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "schema/migration_test_util.h"
#include "schema/migrator.h"

namespace quarry::schema {
namespace {

using testing::kFixtures;
using testing::OpenDb;
using testing::Query;
using testing::Snapshot;
using testing::TempDir;

using Rows = std::vector<std::vector<std::string>>;

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class SeederTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = OpenDb(dir_ / "db.sqlite");
    ASSERT_NE(conn_, nullptr);
    auto set = ReadMigrationFolder(kFixtures / "quarry");
    ASSERT_TRUE(set.ok());
    ASSERT_TRUE(Migrator(*conn_).Apply(*set).status.ok());
  }
  TempDir dir_;
  std::unique_ptr<storage::Connection> conn_;
};

TEST_F(SeederTest, JsonSeedIsIdempotent) {
  std::string text = ReadText(kFixtures / "seed.json");
  auto first = Seed(*conn_, text, "seed.json");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->inserted, 4);
  EXPECT_EQ(first->ignored, 0);
  std::string after_first = Snapshot(*conn_);
  auto second = Seed(*conn_, text, "seed.json");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->inserted, 0);
  EXPECT_EQ(second->ignored, 4);
  EXPECT_EQ(Snapshot(*conn_), after_first);
  EXPECT_EQ(Query(*conn_, "SELECT id, title FROM posts ORDER BY id"),
            (Rows{{"10", "Notes on the engine"}, {"11", "untitled; really"}}));
}

TEST_F(SeederTest, ValuesKeepTheirTypes) {
  auto report = Seed(*conn_,
                     R"({"users": [{"id": 5, "email": "t@x", "name": {"first": "T"}}],
                         "audit": [{"id": 100, "what": true}, {"id": 101, "what": 1.5},
                                   {"id": 102, "what": null}]})",
                     "types.json");
  // audit.what is NOT NULL: the null row fails and nothing is seeded.
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("types.json: audit[2]"), std::string::npos)
      << report.status().message();
  EXPECT_NE(report.status().message().find("nothing was seeded"), std::string::npos);
  EXPECT_TRUE(Query(*conn_, "SELECT * FROM users WHERE id = 5").empty());

  ASSERT_TRUE(conn_->Exec("CREATE TABLE kv (k INTEGER PRIMARY KEY, v)").ok());
  report = Seed(*conn_,
                R"({"users": [{"id": 5, "email": "t@x", "name": {"first": "T"}}],
                    "kv": [{"k": 1, "v": true}, {"k": 2, "v": 1.5}, {"k": 3, "v": 9007199254740993},
                           {"k": 4, "v": "text"}, {"k": 5, "v": null}, {"k": 6, "v": [1, "a"]}]})",
                "types.json");
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(Query(*conn_, "SELECT name FROM users WHERE id = 5"), (Rows{{R"({"first":"T"})"}}));
  EXPECT_EQ(Query(*conn_, "SELECT typeof(v), v FROM kv ORDER BY k"),
            (Rows{{"integer", "1"},
                  {"real", "1.5"},
                  {"integer", "9007199254740993"},
                  {"text", "text"},
                  {"null", "NULL"},
                  {"text", R"([1,"a"])"}}));
}

TEST_F(SeederTest, MalformedSeedsNameWhatIsWrong) {
  auto bad = Seed(*conn_, "{\"users\": [1]}", "s.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("s.json: users[0] is not an object"), std::string::npos);
  bad = Seed(*conn_, "{\"users\": {}}", "s.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("array"), std::string::npos);
  bad = Seed(*conn_, "[", "s.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not valid JSON"), std::string::npos);
  bad = Seed(*conn_, R"({"nope": [{"a": 1}]})", "s.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no such table: nope"), std::string::npos);
}

TEST_F(SeederTest, QuotesIdentifiers) {
  EXPECT_EQ(QuoteIdentifier("we\"ird"), "\"we\"\"ird\"");
  auto plan = PlanJsonSeed(R"({"t\"x": [{"a": 1, "b": "two"}]})", "s.json");
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->size(), 1u);
  EXPECT_EQ((*plan)[0].sql,
            "INSERT INTO \"t\"\"x\" (\"a\", \"b\") VALUES (?, ?) ON CONFLICT DO NOTHING");
}

TEST_F(SeederTest, SqlSeedRunsAsIsInOneTransaction) {
  auto report = Seed(*conn_,
                     "INSERT OR IGNORE INTO users (id, email) VALUES (1, 'a@x');\n"
                     "INSERT OR IGNORE INTO users (id, email) VALUES (2, 'b@x');",
                     "seed.sql");
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_GE(report->inserted, 2);
  auto failing = Seed(*conn_,
                      "INSERT INTO users (id, email) VALUES (3, 'c@x');\n"
                      "INSERT INTO users (id, email) VALUES (1, 'dup');",
                      "seed.sql");
  ASSERT_FALSE(failing.ok());
  EXPECT_NE(failing.status().message().find("seed.sql"), std::string::npos);
  EXPECT_TRUE(Query(*conn_, "SELECT * FROM users WHERE id = 3").empty());
}

}  // namespace
}  // namespace quarry::schema
