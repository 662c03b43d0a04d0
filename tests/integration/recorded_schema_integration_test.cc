// The schema a namespace serves, on the real server: recorded by `quarry migrate push` and by
// applying migrations made from a schema, read back from GET /admin/v1/namespaces/<n>/schema,
// carried by forks, and announced to the server's SchemaChanges listeners.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

#include "cli_runner.h"
#include "client/client.h"
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

// Two files: the root imports the posts model.
constexpr const char* kRootV1 =
    "import \"posts.quarry\"\n"
    "\n"
    "model users {\n"
    "  id    Integer @id\n"
    "  email Text    @unique\n"
    "\n"
    "  @@allow('read', id == auth().id)\n"
    "}\n";
constexpr const char* kPosts =
    "model posts {\n"
    "  id     Integer @id\n"
    "  userId Integer\n"
    "  title  Text\n"
    "}\n";

class RecordedSchemaIntegrationTest : public ::testing::Test {
 protected:
  RecordedSchemaIntegrationTest()
      : server_([this](server::ServerConfig& config) {
          config.on_schema_change = [this](const std::string& ns) {
            std::lock_guard lock(mutex_);
            changes_.push_back(ns);
          };
        }) {}
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    ASSERT_EQ(Quarry({"db", "create", "shop"}).exit_code, 0);
    WriteFile(work_.path() / "schema" / "app.quarry", kRootV1);
    WriteFile(work_.path() / "schema" / "posts.quarry", kPosts);
  }
  CliResult Quarry(std::vector<std::string> args) {
    for (auto& flag : server_.CliFlags()) {
      args.push_back(std::move(flag));
    }
    return RunCli(args, work_.path());
  }
  // GET /namespaces/<ns>/schema[?query]: the answer object.
  json::object Schema(const std::string& ns, const std::string& query = "") {
    json::value body;
    int status = server_.Admin("GET", "/namespaces/" + ns + "/schema" + query, "", &body);
    EXPECT_EQ(status, 200) << json::serialize(body);
    return body.is_object() ? body.get_object() : json::object();
  }
  std::vector<std::string> TakeChanges() {
    std::lock_guard lock(mutex_);
    return std::exchange(changes_, {});
  }
  std::vector<std::filesystem::path> Migrations() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(work_.path() / "migrations")) {
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }
  void Exec(const std::string& ns, const std::string& sql) {
    auto db = client::Client::Open(server_.url(ns), server_.AdminToken());
    ASSERT_TRUE(db.ok());
    auto rs = (*db)->Execute(sql);
    ASSERT_TRUE(rs.ok()) << rs.status().message();
  }

  std::mutex mutex_;
  std::vector<std::string> changes_;  // GUARDED_BY(mutex_)
  TestServer server_;
  TempDir work_;
};

TEST_F(RecordedSchemaIntegrationTest, PushRecordsTheSchemaWithItsImportsResolved) {
  // Nothing recorded yet: the live tables, introspected.
  json::object before = Schema("shop");
  EXPECT_EQ(before.at("recorded"), false);
  EXPECT_EQ(before.at("namespace"), "shop");
  TakeChanges();

  CliResult push = Quarry({"migrate", "push", "--schema", "schema/app.quarry", "--db", "shop"});
  ASSERT_EQ(push.exit_code, 0) << push.output;
  EXPECT_EQ(TakeChanges(), std::vector<std::string>{"shop"});

  json::object recorded = Schema("shop");
  EXPECT_EQ(recorded.at("recorded"), true);
  EXPECT_EQ(recorded.at("namespace"), "shop");
  EXPECT_EQ(recorded.at("warnings"), json::array());
  std::string text(recorded.at("schema").as_string());
  // One self-contained text: both files, the policy kept, the import gone.
  EXPECT_TRUE(Contains(text, "model users")) << text;
  EXPECT_TRUE(Contains(text, "model posts")) << text;
  EXPECT_TRUE(Contains(text, "@@allow('read', id == auth().id)")) << text;
  EXPECT_FALSE(Contains(text, "import")) << text;

  // ?source=live still introspects the tables (no policies there).
  json::object live = Schema("shop", "?source=live");
  EXPECT_EQ(live.at("recorded"), false);
  EXPECT_FALSE(Contains(std::string(live.at("schema").as_string()), "@@allow"));
  json::value bad;
  EXPECT_EQ(server_.Admin("GET", "/namespaces/shop/schema?source=nope", "", &bad), 400);

  // A policy-only change alters no table, and is recorded all the same.
  WriteFile(work_.path() / "schema" / "app.quarry",
            std::string(kRootV1).replace(std::string(kRootV1).find("id == auth().id"), 15,
                                         "auth().role == 'admin'"));
  CliResult again = Quarry({"migrate", "push", "--schema", "schema/app.quarry", "--db", "shop"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "Already up to date; the schema is recorded")) << again.output;
  EXPECT_TRUE(
      Contains(std::string(Schema("shop").at("schema").as_string()), "auth().role == 'admin'"));

  // The record lives in the namespace's file: a fork carries it.
  TakeChanges();
  ASSERT_EQ(server_.Admin("POST", "/namespaces/shop/fork", R"({"to": "shop2"})"), 201);
  EXPECT_EQ(TakeChanges(), std::vector<std::string>{"shop2"});
  EXPECT_EQ(Schema("shop2").at("schema"), Schema("shop").at("schema"));
  ASSERT_EQ(server_.Admin("DELETE", "/namespaces/shop2", ""), 200);
  EXPECT_EQ(TakeChanges(), std::vector<std::string>{"shop2"});

  // Client SQL cannot remove it (DROP TABLE of a _quarry_ table is ignored).
  Exec("shop", "DROP TABLE _quarry_schema");
  EXPECT_EQ(Schema("shop").at("recorded"), true);
}

TEST_F(RecordedSchemaIntegrationTest, MigrationsFromASchemaRecordItPlainOnesDoNot) {
  CliResult create =
      Quarry({"migrate", "create", "init", "--schema", "schema/app.quarry", "--db", "shop"});
  ASSERT_EQ(create.exit_code, 0) << create.output;
  ASSERT_EQ(Migrations().size(), 1u);
  std::string file = ReadFile(Migrations()[0]);
  EXPECT_TRUE(Contains(file, "CREATE TABLE \"users\"")) << file;
  EXPECT_TRUE(Contains(file, "-- quarry:schema\n--| model users {")) << file;
  EXPECT_TRUE(Contains(file, "--|   @@allow('read', id == auth().id)")) << file;
  EXPECT_EQ(Schema("shop").at("recorded"), false);  // nothing recorded until applied

  TakeChanges();
  CliResult apply = Quarry({"migrate", "apply", "--db", "shop"});
  ASSERT_EQ(apply.exit_code, 0) << apply.output;
  EXPECT_EQ(TakeChanges(), std::vector<std::string>{"shop"});
  json::object recorded = Schema("shop");
  ASSERT_EQ(recorded.at("recorded"), true);
  std::string v1(recorded.at("schema").as_string());
  EXPECT_TRUE(Contains(v1, "model posts")) << v1;
  EXPECT_TRUE(Contains(v1, "@@allow('read', id == auth().id)")) << v1;

  // The same schema again: the database matches it, tables and record.
  CliResult same =
      Quarry({"migrate", "create", "again", "--schema", "schema/app.quarry", "--db", "shop"});
  ASSERT_EQ(same.exit_code, 0) << same.output;
  EXPECT_TRUE(Contains(same.output, "already matches")) << same.output;
  EXPECT_EQ(Migrations().size(), 1u);

  // A plain SQL migration leaves the recorded schema as it is.
  CliResult plain = Quarry({"migrate", "create", "first_user"});
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  ASSERT_EQ(Migrations().size(), 2u);
  WriteFile(Migrations()[1],
            "CREATE INDEX users_by_email ON users (email);\n"
            "INSERT INTO users (id, email) VALUES (1, 'ann@example.com');\n"
            "DROP INDEX users_by_email;\n"
            "-- down\nDELETE FROM users WHERE id = 1;\n");
  ASSERT_EQ(Quarry({"migrate", "apply", "--db", "shop"}).exit_code, 0);
  EXPECT_EQ(Schema("shop").at("schema").as_string(), v1);

  // A policy-only change makes a migration with no SQL that records the new schema.
  WriteFile(work_.path() / "schema" / "app.quarry",
            std::string(kRootV1).replace(std::string(kRootV1).find("id == auth().id"), 15,
                                         "auth().role == 'admin'"));
  CliResult policy =
      Quarry({"migrate", "create", "policy", "--schema", "schema/app.quarry", "--db", "shop"});
  ASSERT_EQ(policy.exit_code, 0) << policy.output;
  EXPECT_TRUE(Contains(policy.output, "no table changes; it records the schema")) << policy.output;
  ASSERT_EQ(Quarry({"migrate", "apply", "--db", "shop"}).exit_code, 0);
  std::string v2(Schema("shop").at("schema").as_string());
  EXPECT_TRUE(Contains(v2, "auth().role == 'admin'")) << v2;

  // Undoing it brings the earlier migration's schema back.
  ASSERT_EQ(Quarry({"migrate", "down", "--db", "shop"}).exit_code, 0);
  EXPECT_EQ(Schema("shop").at("schema").as_string(), v1);
}

TEST_F(RecordedSchemaIntegrationTest, ASnapshotThatDoesNotBindIsRefusedBeforeAnythingRuns) {
  WriteFile(work_.path() / "migrations" / "20240101000000_bad.sql",
            "CREATE TABLE t (x);\n\n-- quarry:schema\n--| model t {\n--|   x Nonsense\n--| }\n"
            "-- end quarry:schema\n\n-- down\n");
  CliResult local = RunCli({"migrate", "apply", "--file", "local.db"}, work_.path());
  EXPECT_NE(local.exit_code, 0) << local.output;
  EXPECT_TRUE(Contains(local.output, "schema snapshot")) << local.output;
  EXPECT_FALSE(std::filesystem::exists(work_.path() / "local.db"));

  CliResult remote = Quarry({"migrate", "apply", "--db", "shop"});
  EXPECT_NE(remote.exit_code, 0) << remote.output;
  EXPECT_TRUE(Contains(remote.output, "schema snapshot")) << remote.output;
  EXPECT_EQ(Schema("shop").at("recorded"), false);
}

// migrate push and migrate create --schema on a local file record the schema the same way.
TEST_F(RecordedSchemaIntegrationTest, LocalFilesRecordTheirSchemaToo) {
  CliResult push = RunCli({"migrate", "push", "--schema", "schema/app.quarry", "--file", "app.db"},
                          work_.path());
  ASSERT_EQ(push.exit_code, 0) << push.output;
  CliResult same =
      RunCli({"migrate", "create", "x", "--schema", "schema/app.quarry", "--file", "app.db"},
             work_.path());
  ASSERT_EQ(same.exit_code, 0) << same.output;
  EXPECT_TRUE(Contains(same.output, "already matches")) << same.output;
}

}  // namespace
}  // namespace quarry
