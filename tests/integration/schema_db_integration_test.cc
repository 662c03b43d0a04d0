// `quarry migrate push|verify|create --schema` and `quarry schema introspect` with --db: a
// schema file against a namespace on the real server, through the admin API's schema routes.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

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

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class SchemaDbIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.ok()) << server_.error(); }
  CliResult Quarry(std::vector<std::string> args) {
    for (auto& flag : server_.CliFlags()) {
      args.push_back(std::move(flag));
    }
    return RunCli(args, work_.path());
  }
  void Exec(const std::string& ns, const std::string& sql) {
    auto db = client::Client::Open(server_.url(ns), server_.AdminToken());
    ASSERT_TRUE(db.ok());
    auto rs = (*db)->Execute(sql);
    ASSERT_TRUE(rs.ok()) << rs.status().message();
  }
  int64_t Count(const std::string& ns, const std::string& sql) {
    auto db = client::Client::Open(server_.url(ns), server_.AdminToken());
    EXPECT_TRUE(db.ok());
    auto rs = (*db)->Execute(sql);
    EXPECT_TRUE(rs.ok()) << rs.status().message();
    if (!rs.ok() || rs->rows.empty()) return -1;
    return std::stoll(client::DebugString(rs->rows[0][0]));
  }

  TestServer server_;
  TempDir work_;
};

TEST_F(SchemaDbIntegrationTest, PushVerifyCreateApplyIntrospect) {
  ASSERT_EQ(Quarry({"db", "create", "shop"}).exit_code, 0);
  // v1 imports a file: the CLI resolves it and sends one self-contained text.
  WriteFile(work_.path() / "v1" / "schema.quarry",
            "import \"orders.quarry\"\nmodel users {\n  id Integer @id\n  name Text\n}\n");
  WriteFile(work_.path() / "v1" / "orders.quarry",
            "model orders {\n  id Integer @id\n  total Integer\n}\n");
  WriteFile(work_.path() / "v2.quarry",
            "model users {\n  id Integer @id\n  name Text\n  age Integer?\n}\n"
            "model orders {\n  id Integer @id\n  total Integer\n}\n");
  WriteFile(work_.path() / "v3.quarry",
            "model users {\n  id Integer @id\n  name Text\n  age Integer?\n}\n");

  CliResult push = Quarry({"migrate", "push", "--schema", "v1/schema.quarry", "--db", "shop"});
  ASSERT_EQ(push.exit_code, 0) << push.output;
  EXPECT_TRUE(Contains(push.output, "Applied")) << push.output;
  Exec("shop", "INSERT INTO users (id, name) VALUES (1, 'ann')");
  Exec("shop", "INSERT INTO orders (id, total) VALUES (1, 10)");

  CliResult ok1 = Quarry({"migrate", "verify", "--schema", "v1/schema.quarry", "--db", "shop"});
  EXPECT_EQ(ok1.exit_code, 0) << ok1.output;
  EXPECT_TRUE(Contains(ok1.output, "OK: shop matches")) << ok1.output;

  CliResult differs = Quarry({"migrate", "verify", "--schema", "v2.quarry", "--db", "shop"});
  EXPECT_EQ(differs.exit_code, 1) << differs.output;
  EXPECT_TRUE(Contains(differs.output, "users.age")) << differs.output;

  CliResult create =
      Quarry({"migrate", "create", "add_age", "--schema", "v2.quarry", "--db", "shop"});
  ASSERT_EQ(create.exit_code, 0) << create.output;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(work_.path() / "migrations")) {
    files.push_back(entry.path());
  }
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files[0].filename().string().ends_with("_add_age.sql")) << files[0];
  EXPECT_TRUE(Contains(ReadFile(files[0]), "ALTER TABLE \"users\" ADD COLUMN \"age\" INTEGER;"))
      << ReadFile(files[0]);

  CliResult apply = Quarry({"migrate", "apply", "--db", "shop"});
  ASSERT_EQ(apply.exit_code, 0) << apply.output;
  CliResult ok2 = Quarry({"migrate", "verify", "--schema", "v2.quarry", "--db", "shop"});
  EXPECT_EQ(ok2.exit_code, 0) << ok2.output;

  // v3 drops orders, which holds a row: refused without --allow-data-loss, nothing changes.
  CliResult refused = Quarry({"migrate", "push", "--schema", "v3.quarry", "--db", "shop"});
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_TRUE(Contains(refused.output, "drop table orders")) << refused.output;
  EXPECT_EQ(Count("shop", "SELECT count(*) FROM orders"), 1);
  CliResult dropped =
      Quarry({"migrate", "push", "--schema", "v3.quarry", "--db", "shop", "--allow-data-loss"});
  EXPECT_EQ(dropped.exit_code, 0) << dropped.output;
  EXPECT_EQ(Count("shop", "SELECT count(*) FROM sqlite_schema WHERE name = 'orders'"), 0);
  EXPECT_EQ(Count("shop", "SELECT count(*) FROM users"), 1);

  CliResult introspect = Quarry({"schema", "introspect", "--db", "shop"});
  ASSERT_EQ(introspect.exit_code, 0) << introspect.output;
  EXPECT_TRUE(Contains(introspect.output, "model users")) << introspect.output;
  EXPECT_TRUE(Contains(introspect.output, "age")) << introspect.output;
  EXPECT_FALSE(Contains(introspect.output, "model orders")) << introspect.output;
}

// Regression: a Json field's DDL has CHECK (json_valid(...)), and with trusted_schema off
// SQLite 3.40 refused it ("unsafe use of json_valid()"): over Hrana, and in every migration
// that created such a table.
TEST_F(SchemaDbIntegrationTest, JsonChecksAndGeneratedColumnsWorkOverHranaAndMigrations) {
  ASSERT_EQ(Quarry({"db", "create", "docs"}).exit_code, 0);
  Exec("docs",
       "CREATE TABLE raw (x TEXT CHECK (json_valid(x)), "
       "a TEXT GENERATED ALWAYS AS (json_extract(x, '$.a')))");
  Exec("docs", "INSERT INTO raw (x) VALUES ('{\"a\": \"b\"}')");
  EXPECT_EQ(Count("docs", "SELECT count(*) FROM raw WHERE a = 'b'"), 1);
  auto db = client::Client::Open(server_.url("docs"), server_.AdminToken());
  ASSERT_TRUE(db.ok());
  auto invalid = (*db)->Execute("INSERT INTO raw (x) VALUES ('not json')");
  EXPECT_FALSE(invalid.ok()) << "the CHECK must still reject invalid JSON";

  // A schema with Json fields, pushed and then migrated with a migration file.
  ASSERT_EQ(Quarry({"db", "create", "notes"}).exit_code, 0);
  WriteFile(work_.path() / "v1.quarry", "model notes {\n  id Integer @id\n  meta Json?\n}\n");
  WriteFile(work_.path() / "v2.quarry",
            "model notes {\n  id Integer @id\n  meta Json?\n  tags Json @default(\"[]\")\n}\n");
  CliResult push = Quarry({"migrate", "push", "--schema", "v1.quarry", "--db", "notes"});
  ASSERT_EQ(push.exit_code, 0) << push.output;
  Exec("notes", "INSERT INTO notes (id, meta) VALUES (1, '{\"k\": 1}')");
  CliResult create =
      Quarry({"migrate", "create", "add_tags", "--schema", "v2.quarry", "--db", "notes"});
  ASSERT_EQ(create.exit_code, 0) << create.output;
  CliResult apply = Quarry({"migrate", "apply", "--db", "notes"});
  ASSERT_EQ(apply.exit_code, 0) << apply.output;
  EXPECT_EQ(Count("notes", "SELECT count(*) FROM notes WHERE tags = '[]' AND meta ->> 'k' = 1"), 1);
  CliResult verify = Quarry({"migrate", "verify", "--schema", "v2.quarry", "--db", "notes"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

TEST_F(SchemaDbIntegrationTest, RoutesValidateRequests) {
  ASSERT_EQ(Quarry({"db", "create", "app"}).exit_code, 0);
  json::value body;
  EXPECT_EQ(
      server_.Admin("POST", "/namespaces/app/schema/plan",
                    R"({"schema": "import \"x.quarry\"\nmodel a { id Integer @id }"})", &body),
      400);
  EXPECT_TRUE(Contains(std::string(body.at("message").as_string()), "imports"));
  EXPECT_EQ(server_.Admin("POST", "/namespaces/app/schema/plan", R"({"allow_data_loss": true})"),
            400);
  EXPECT_EQ(server_.Admin("POST", "/namespaces/app/schema/plan", R"({"schema": "model {"})"), 400);
  ASSERT_EQ(server_.Admin("POST", "/namespaces/app/schema/plan",
                          R"({"schema": "model a { id Integer @id }"})", &body),
            200);
  EXPECT_EQ(body.at("changes").as_array().size(), 1u);
  EXPECT_FALSE(body.at("statements").as_array().empty());
  EXPECT_TRUE(body.at("destructive").as_array().empty());
  // plan changes nothing
  ASSERT_EQ(server_.Admin("GET", "/namespaces/app/schema", "", &body), 200);
  EXPECT_EQ(body.at("schema").as_string(), "");
  EXPECT_EQ(server_.Admin("GET", "/namespaces/nope/schema", ""), 404);
  EXPECT_EQ(server_.Admin("DELETE", "/namespaces/app/schema", ""), 405);
}

}  // namespace
}  // namespace quarry
