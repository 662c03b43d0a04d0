// `quarry migrate` and `quarry seed` against the real server: the admin API's migration and
// schema-group routes, driven through the built binary, checked with the C++ client.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>

#include "cli_runner.h"
#include "client/admin_client.h"
#include "client/client.h"
#include "client/http_connection.h"
#include "test_server.h"

namespace quarry {
namespace {

namespace json = boost::json;
using quarry::testing::CliResult;
using quarry::testing::RunCli;
using quarry::testing::TempDir;
using quarry::testing::TestServer;

// tests/migrate, an absolute path from CMake: __FILE__ can be relative to the build folder,
// and the CLI runs in a temporary folder.
const std::filesystem::path kFixtures = QUARRY_MIGRATE_FIXTURES;

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class MigrateIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    auto admin = client::AdminClient::Open(server_.url(), server_.AdminToken());
    ASSERT_TRUE(admin.ok());
    admin_ = std::move(*admin);
  }
  CliResult Quarry(std::vector<std::string> args) {
    for (auto& flag : server_.CliFlags()) {
      args.push_back(std::move(flag));
    }
    return RunCli(args, work_.path());
  }
  // Rows of `sql` on namespace `ns`, each value as its debug string.
  std::vector<std::vector<std::string>> Rows(const std::string& ns, const std::string& sql) {
    auto db = client::Client::Open(server_.url(ns), server_.AdminToken());
    EXPECT_TRUE(db.ok());
    auto rs = (*db)->Execute(sql);
    EXPECT_TRUE(rs.ok()) << rs.status().message();
    std::vector<std::vector<std::string>> out;
    if (rs.ok()) {
      for (const auto& row : rs->rows) {
        std::vector<std::string> cells;
        for (const auto& v : row) {
          cells.push_back(client::DebugString(v));
        }
        out.push_back(std::move(cells));
      }
    }
    return out;
  }
  std::vector<std::vector<std::string>> UserTables(const std::string& ns) {
    return Rows(ns,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name");
  }

  TestServer server_;
  TempDir work_;
  std::unique_ptr<client::AdminClient> admin_;
};

using Rows_ = std::vector<std::vector<std::string>>;

TEST_F(MigrateIntegrationTest, DrizzleFolderAppliesThroughTheAdminApi) {
  ASSERT_TRUE(admin_->CreateNamespace("shop").ok());
  std::string dir = (kFixtures / "drizzle" / "migrations").string();
  CliResult dry = Quarry({"migrate", "dry-run", "--db", "shop", "--dir", dir});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("ALTER TABLE `users` ADD `display_name` text;"), std::string::npos);
  EXPECT_EQ(UserTables("shop"), Rows_{});

  CliResult apply = Quarry({"migrate", "apply", "--db", "shop", "--dir", dir});
  ASSERT_EQ(apply.exit_code, 0) << apply.output;
  EXPECT_NE(apply.output.find("Applied 0001_add_display_name"), std::string::npos) << apply.output;
  EXPECT_EQ(UserTables("shop"), (Rows_{{"'_quarry_migrations'"}, {"'posts'"}, {"'users'"}}));
  EXPECT_EQ(Rows("shop", "SELECT name FROM pragma_table_info('users') WHERE name = 'display_name'"),
            (Rows_{{"'display_name'"}}));

  CliResult status = Quarry({"migrate", "status", "--db", "shop", "--dir", dir});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("2 applied, 0 pending"), std::string::npos) << status.output;

  json::value recorded;
  ASSERT_EQ(server_.Admin("GET", "/namespaces/shop/migrations", "", &recorded), 200);
  ASSERT_EQ(recorded.at("recorded").as_array().size(), 2u);
  EXPECT_EQ(recorded.at("recorded").as_array()[0].at("format").as_string(), "drizzle");
}

TEST_F(MigrateIntegrationTest, FailureNamesFileAndStatementAndDownUndoes) {
  ASSERT_TRUE(admin_->CreateNamespace("app").ok());
  auto dir = work_.path() / "migrations";
  WriteFile(dir / "20240101000000_a.sql", "CREATE TABLE a (x);\n-- down\nDROP TABLE a;\n");
  WriteFile(dir / "20240102000000_b.sql", "CREATE TABLE b (x);\nINSERT INTO nope VALUES (1);\n");
  CliResult apply = Quarry({"migrate", "apply", "--db", "app"});
  EXPECT_EQ(apply.exit_code, 1) << apply.output;
  EXPECT_NE(apply.output.find("Applied 20240101000000_a"), std::string::npos) << apply.output;
  EXPECT_NE(apply.output.find("statement 2"), std::string::npos) << apply.output;
  EXPECT_NE(apply.output.find("no such table: nope"), std::string::npos) << apply.output;
  EXPECT_NE(apply.output.find("migrations/20240102000000_b.sql"), std::string::npos)
      << apply.output;
  EXPECT_EQ(UserTables("app"), (Rows_{{"'_quarry_migrations'"}, {"'a'"}}));

  std::filesystem::remove(dir / "20240102000000_b.sql");
  CliResult down = Quarry({"migrate", "down", "--db", "app"});
  ASSERT_EQ(down.exit_code, 0) << down.output;
  EXPECT_EQ(UserTables("app"), (Rows_{{"'_quarry_migrations'"}}));
}

TEST_F(MigrateIntegrationTest, SeedOverTheServerIsIdempotent) {
  ASSERT_TRUE(admin_->CreateNamespace("seeded").ok());
  ASSERT_EQ(Quarry({"migrate", "apply", "--db", "seeded", "--dir", (kFixtures / "quarry").string()})
                .exit_code,
            0);
  std::string seed = (kFixtures / "seed.json").string();
  CliResult first = Quarry({"seed", seed, "--db", "seeded"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("4 rows inserted, 0 already present"), std::string::npos)
      << first.output;
  CliResult second = Quarry({"seed", seed, "--db", "seeded"});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("0 rows inserted, 4 already present"), std::string::npos)
      << second.output;
  EXPECT_EQ(Rows("seeded", "SELECT count(*) FROM users"), (Rows_{{"2"}}));
}

TEST_F(MigrateIntegrationTest, GroupWithOneFailingMemberAppliesNowhere) {
  for (const char* ns : {"t1", "t2", "t3"}) {
    ASSERT_TRUE(admin_->CreateNamespace(ns).ok());
  }
  // t2 already has a posts table that the migrations would create.
  ASSERT_EQ(Rows("t2", "CREATE TABLE posts (legacy TEXT)"), Rows_{});
  json::value created;
  ASSERT_EQ(server_.Admin("POST", "/groups",
                          R"({"name": "tenants", "namespaces": ["t1", "t2", "t3"]})", &created),
            201);
  std::string dir = (kFixtures / "quarry").string();
  CliResult apply = Quarry({"migrate", "apply", "--group", "tenants", "--dir", dir});
  EXPECT_EQ(apply.exit_code, 1) << apply.output;
  EXPECT_NE(apply.output.find("nothing was applied to any member"), std::string::npos)
      << apply.output;
  EXPECT_NE(apply.output.find("namespace 't2'"), std::string::npos) << apply.output;
  EXPECT_NE(apply.output.find("table posts already exists"), std::string::npos) << apply.output;
  EXPECT_NE(apply.output.find("20240502090000_add_posts.sql"), std::string::npos) << apply.output;
  EXPECT_EQ(UserTables("t1"), Rows_{});
  EXPECT_EQ(UserTables("t2"), (Rows_{{"'posts'"}}));
  EXPECT_EQ(UserTables("t3"), Rows_{});

  // The same through the API: the response names the member, migration and statement.
  json::value failed;
  std::string body =
      R"({"format": "quarry", "migrations": [)"
      R"({"id": "20240101000000_posts", "sql": "SELECT 1;\nCREATE TABLE posts (id INTEGER);"}]})";
  EXPECT_EQ(server_.Admin("POST", "/groups/tenants/migrations", body, &failed), 400);
  EXPECT_EQ(failed.at("failed_namespace").as_string(), "t2");
  EXPECT_EQ(failed.at("phase").as_string(), "try");
  EXPECT_EQ(failed.at("failure").at("statement").as_int64(), 2);
  EXPECT_EQ(failed.at("failure").at("migration").as_string(), "20240101000000_posts");
  EXPECT_EQ(failed.at("namespaces").as_array().size(), 3u);

  // Once the conflict is gone, every member is migrated.
  ASSERT_EQ(Rows("t2", "DROP TABLE posts"), Rows_{});
  CliResult retry = Quarry({"migrate", "apply", "--group", "tenants", "--dir", dir});
  ASSERT_EQ(retry.exit_code, 0) << retry.output;
  for (const char* ns : {"t1", "t2", "t3"}) {
    EXPECT_EQ(UserTables(ns),
              (Rows_{{"'_quarry_migrations'"}, {"'audit'"}, {"'posts'"}, {"'users'"}}))
        << ns;
  }
  CliResult status = Quarry({"migrate", "status", "--group", "tenants", "--dir", dir});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("t3"), std::string::npos);
  EXPECT_NE(status.output.find("2 applied, 0 pending"), std::string::npos) << status.output;

  json::value group;
  ASSERT_EQ(server_.Admin("GET", "/groups/tenants", "", &group), 200);
  EXPECT_EQ(group.at("namespaces").as_array()[0].at("recorded").as_array().size(), 2u);
}

// Regression: `migrate status` exited 0 whatever it found, so CI could not gate on it.
TEST_F(MigrateIntegrationTest, StatusExitCodeSaysPendingOrModified) {
  ASSERT_TRUE(admin_->CreateNamespace("ci").ok());
  auto dir = work_.path() / "migrations";
  WriteFile(dir / "20240101000000_a.sql", "CREATE TABLE a (x);\n-- down\nDROP TABLE a;\n");
  CliResult pending = Quarry({"migrate", "status", "--db", "ci"});
  EXPECT_EQ(pending.exit_code, 3) << pending.output;
  EXPECT_NE(pending.output.find("0 applied, 1 pending"), std::string::npos) << pending.output;
  CliResult pending_json = Quarry({"migrate", "status", "--db", "ci", "--json"});
  EXPECT_EQ(pending_json.exit_code, 3) << pending_json.output;

  ASSERT_EQ(Quarry({"migrate", "apply", "--db", "ci"}).exit_code, 0);
  CliResult current = Quarry({"migrate", "status", "--db", "ci"});
  EXPECT_EQ(current.exit_code, 0) << current.output;

  WriteFile(dir / "20240101000000_a.sql", "CREATE TABLE a (x, y);\n-- down\nDROP TABLE a;\n");
  WriteFile(dir / "20240102000000_b.sql", "CREATE TABLE b (x);\n");
  CliResult modified = Quarry({"migrate", "status", "--db", "ci"});
  EXPECT_EQ(modified.exit_code, 4) << modified.output;
  EXPECT_NE(modified.output.find("1 modified"), std::string::npos) << modified.output;
}

// Regression: `migrate down` checked only the migrations it undid, so it ran while an earlier
// applied migration had been edited, although docs/migrations.md says it refuses (as apply
// does).
TEST_F(MigrateIntegrationTest, DownRefusesWhenAnAppliedMigrationWasEdited) {
  ASSERT_TRUE(admin_->CreateNamespace("edited").ok());
  auto dir = work_.path() / "migrations";
  std::string file = (work_.path() / "local.db").string();
  WriteFile(dir / "20240101000000_a.sql", "CREATE TABLE a (x);\n-- down\nDROP TABLE a;\n");
  WriteFile(dir / "20240102000000_b.sql", "CREATE TABLE b (x);\n-- down\nDROP TABLE b;\n");
  ASSERT_EQ(Quarry({"migrate", "apply", "--db", "edited"}).exit_code, 0);
  ASSERT_EQ(RunCli({"migrate", "apply", "--file", file}, work_.path()).exit_code, 0);
  WriteFile(dir / "20240101000000_a.sql", "CREATE TABLE a (x, y);\n-- down\nDROP TABLE a;\n");

  CliResult down = Quarry({"migrate", "down", "--db", "edited"});
  EXPECT_EQ(down.exit_code, 1) << down.output;
  EXPECT_NE(down.output.find("modified after they were applied (20240101000000_a)"),
            std::string::npos)
      << down.output;
  EXPECT_EQ(UserTables("edited"), (Rows_{{"'_quarry_migrations'"}, {"'a'"}, {"'b'"}}));
  CliResult local = RunCli({"migrate", "down", "--file", file}, work_.path());
  EXPECT_EQ(local.exit_code, 1) << local.output;
  EXPECT_NE(local.output.find("20240101000000_a"), std::string::npos) << local.output;

  CliResult forced = Quarry({"migrate", "down", "--db", "edited", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_EQ(UserTables("edited"), (Rows_{{"'_quarry_migrations'"}, {"'a'"}}));
}

TEST_F(MigrateIntegrationTest, BadRequestsGetClearErrors) {
  json::value error;
  EXPECT_EQ(server_.Admin("POST", "/groups", R"({"name": "g", "namespaces": ["ghost"]})", &error),
            404);
  EXPECT_NE(std::string(error.at("message").as_string()).find("ghost"), std::string::npos);
  EXPECT_EQ(server_.Admin("POST", "/namespaces/default/migrations", R"({"format": "flyway",
            "migrations": []})",
                          &error),
            400);
  EXPECT_NE(std::string(error.at("message").as_string()).find("flyway"), std::string::npos);
  EXPECT_EQ(server_.Admin("GET", "/groups/none", "", &error), 404);
}

}  // namespace
}  // namespace quarry
