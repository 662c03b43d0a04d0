#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>

#include "cli_runner.h"
#include "client/client.h"
#include "client/http_connection.h"
#include "test_server.h"

namespace quarry {
namespace {

using quarry::testing::CliResult;
using quarry::testing::RunCli;
using quarry::testing::TempDir;
using quarry::testing::TestServer;

class CliIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.ok()) << server_.error(); }

  // Connection flags: the server's URL and its data folder (for a locally signed token).
  std::vector<std::string> Conn() const { return server_.CliFlags(); }
  CliResult Quarry(std::vector<std::string> args, const std::string& stdin_text = "") {
    for (const auto& a : Conn()) {
      args.push_back(a);
    }
    return RunCli(args, work_.path(), stdin_text);
  }

  TestServer server_;
  TempDir work_;
};

// sqld leaves foreign keys off and Quarry had them on for every namespace with no way out.
TEST_F(CliIntegrationTest, DbForeignKeysSettingAtCreateAndAfter) {
  auto bad = Quarry({"db", "create", "fk", "--foreign-keys", "maybe"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--foreign-keys"), std::string::npos) << bad.output;
  auto created = Quarry({"db", "create", "fk", "--foreign-keys", "off"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  auto enforced = [&] {
    auto shell = Quarry({"db", "shell", "fk", "-c", "PRAGMA foreign_keys;"});
    EXPECT_EQ(shell.exit_code, 0) << shell.output;
    return shell.output;
  };
  auto listed = [&] {
    auto list = Quarry({"db", "list", "--json"});
    EXPECT_EQ(list.exit_code, 0) << list.output;
    boost::json::value parsed = boost::json::parse(list.output);
    for (const auto& item : parsed.as_array()) {
      if (item.at("name").as_string() == "fk") {
        return item.at("foreign_keys").as_bool();
      }
    }
    ADD_FAILURE() << "fk not listed: " << list.output;
    return true;
  };
  EXPECT_FALSE(listed());
  EXPECT_NE(enforced().find('0'), std::string::npos);
  auto on = Quarry({"db", "config", "fk", "--foreign-keys", "on"});
  ASSERT_EQ(on.exit_code, 0) << on.output;
  EXPECT_TRUE(listed());
  EXPECT_NE(enforced().find('1'), std::string::npos);
  auto nothing = Quarry({"db", "config", "fk"});
  EXPECT_EQ(nothing.exit_code, 2) << nothing.output;
  auto missing = Quarry({"db", "config", "nope", "--foreign-keys", "on"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("does not exist"), std::string::npos) << missing.output;
}

TEST_F(CliIntegrationTest, DbCreateListForkDelete) {
  auto created = Quarry({"db", "create", "shop"});
  EXPECT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("Created database 'shop'"), std::string::npos);

  auto again = Quarry({"db", "create", "shop"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("namespace 'shop' already exists"), std::string::npos)
      << again.output;

  auto forked = Quarry({"db", "fork", "shop", "shop-copy"});
  EXPECT_EQ(forked.exit_code, 0) << forked.output;

  auto list = Quarry({"db", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find(" shop "), std::string::npos) << list.output;
  EXPECT_NE(list.output.find(" shop-copy "), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("last used"), std::string::npos) << list.output;

  auto refused = Quarry({"db", "delete", "shop-copy"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("--yes"), std::string::npos) << refused.output;

  auto deleted = Quarry({"db", "delete", "shop-copy", "--yes"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.output;
  auto missing = Quarry({"db", "delete", "shop-copy", "--yes"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("does not exist"), std::string::npos) << missing.output;

  auto json_list = Quarry({"db", "list", "--json"});
  ASSERT_EQ(json_list.exit_code, 0) << json_list.output;
  auto parsed = boost::json::parse(json_list.output);
  std::vector<std::string> names;
  for (const auto& item : parsed.as_array()) {
    names.emplace_back(item.as_object().at("name").as_string());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"default", "shop"}));
}

TEST_F(CliIntegrationTest, GroupCommandsAndGroupMigrate) {
  ASSERT_EQ(Quarry({"db", "create", "t1"}).exit_code, 0);
  ASSERT_EQ(Quarry({"db", "create", "t2"}).exit_code, 0);
  auto created = Quarry({"group", "create", "tenants", "t1", "t2"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  auto missing = Quarry({"group", "create", "bad", "nope"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("'nope' does not exist"), std::string::npos) << missing.output;
  EXPECT_NE(Quarry({"group", "list"}).output.find("tenants"), std::string::npos);

  std::filesystem::create_directories(work_.path() / "migrations");
  std::ofstream(work_.path() / "migrations" / "20260101000000_notes.sql")
      << "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);\n";
  auto applied = Quarry({"migrate", "apply", "--group", "tenants"});
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  auto shown = Quarry({"group", "show", "tenants"});
  EXPECT_NE(shown.output.find("t1 (1 migration applied)"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("t2 (1 migration applied)"), std::string::npos) << shown.output;
  EXPECT_EQ(Quarry({"group", "delete", "tenants"}).exit_code, 0);
  EXPECT_EQ(Quarry({"group", "list"}).output.find("tenants"), std::string::npos);
}

TEST_F(CliIntegrationTest, UnreachableServerExplains) {
  auto result = RunCli({"db", "list", "--url", "http://127.0.0.1:1", "--token", "t"}, work_.path());
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("cannot connect to http://127.0.0.1:1"), std::string::npos)
      << result.output;
}

TEST_F(CliIntegrationTest, ShellCommandAndStdin) {
  ASSERT_EQ(Quarry({"db", "create", "sh"}).exit_code, 0);
  auto made = Quarry({"db", "shell", "sh", "-c",
                      "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);\n"
                      "INSERT INTO t(name) VALUES ('semi;colon'), ('Zoë');\n"
                      "SELECT id, name FROM t ORDER BY id;\n"
                      ".tables\n"});
  EXPECT_EQ(made.exit_code, 0) << made.output;
  EXPECT_NE(made.output.find(" id | name\n"), std::string::npos) << made.output;
  EXPECT_NE(made.output.find("  1 | semi;colon\n"), std::string::npos) << made.output;
  EXPECT_NE(made.output.find("  2 | Zoë\n"), std::string::npos) << made.output;
  EXPECT_NE(made.output.find("(2 rows)"), std::string::npos) << made.output;
  EXPECT_NE(made.output.find("\nt\n"), std::string::npos) << made.output;

  // Statement by statement from stdin, stopping at the first error.
  auto script = Quarry({"db", "shell", "sh"},
                       "INSERT INTO t(name) VALUES ('three');\n"
                       "BEGIN;\nINSERT INTO t(name)\n  VALUES ('in txn');\nCOMMIT;\n"
                       "SELECT * FROM no_such_table;\n"
                       "INSERT INTO t(name) VALUES ('never');\n");
  EXPECT_EQ(script.exit_code, 1) << script.output;
  EXPECT_NE(script.output.find("Error: no such table: no_such_table"), std::string::npos)
      << script.output;

  auto json = Quarry({"db", "shell", "sh", "--json", "-c", "SELECT count(*) AS n FROM t"});
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(json.output, "[{\"n\":4}]\n");

  auto schema = Quarry({"db", "shell", "sh", "-c", ".schema t"});
  EXPECT_EQ(schema.output, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);\n");
}

TEST_F(CliIntegrationTest, ShellOnLocalFile) {
  auto result = RunCli({"db", "shell", "--url", "file:local.db", "-c",
                        "CREATE TABLE k(v); INSERT INTO k VALUES (x'00ff'), (1.5); "
                        "SELECT v FROM k;"},
                       work_.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("x'00ff'"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("1.5"), std::string::npos) << result.output;
  EXPECT_TRUE(std::filesystem::exists(work_.path() / "local.db"));
}

TEST_F(CliIntegrationTest, EnvAndRunFromBindings) {
  ASSERT_EQ(Quarry({"db", "create", "shop"}).exit_code, 0);
  ASSERT_EQ(Quarry({"db", "create", "other"}).exit_code, 0);
  std::ofstream(work_.path() / "quarry.toml")
      << "[[databases]]\nbinding = \"DB\"\nname = \"shop\"\n";

  auto env = Quarry({"env"});
  ASSERT_EQ(env.exit_code, 0) << env.output;
  std::string expected_url = "DB_URL=" + server_.url() + "/db/shop/\n";
  EXPECT_EQ(env.output.substr(0, expected_url.size()), expected_url) << env.output;
  size_t at = env.output.find("DB_TOKEN=");
  ASSERT_NE(at, std::string::npos) << env.output;
  std::string token = env.output.substr(at + 9);
  token = token.substr(0, token.find('\n'));

  // The token reaches its namespace and no other.
  auto shop = client::Client::Open(server_.url("shop"), token);
  ASSERT_TRUE(shop.ok());
  EXPECT_TRUE((*shop)->Execute("CREATE TABLE hello(x)", {}).ok());
  auto other = client::Client::Open(server_.url("other"), token);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->Execute("SELECT 1", {}).status().code(), ErrorCode::kForbidden);

  std::vector<std::string> run_args = {"run"};
  for (const auto& a : Conn()) {
    run_args.push_back(a);
  }
  for (const char* a : {"--", "sh", "-c", "echo \"url=$DB_URL\"; exit 3"}) {
    run_args.push_back(a);
  }
  auto run = RunCli(run_args, work_.path());
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_EQ(run.output, "url=" + server_.url() + "/db/shop/\n");

  auto local = RunCli({"env", "--local"}, work_.path());
  EXPECT_EQ(local.exit_code, 0) << local.output;
  EXPECT_EQ(local.output, "DB_URL=file:.quarry/shop.db\n");
  EXPECT_TRUE(std::filesystem::is_directory(work_.path() / ".quarry"));

  std::ofstream(work_.path() / "bad.toml") << "[[databases]]\nbinding = \"db\"\nname = \"shop\"\n";
  auto bad = Quarry({"env", "--config", "bad.toml"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("bad.toml:2:11:"), std::string::npos) << bad.output;
}

// Regression: outside the folder holding quarry-data a command found no token and failed with
// the server's bare "missing Authorization header". Now it says what to do, and a profile
// saved by `quarry login` serves every command from anywhere.
TEST_F(CliIntegrationTest, LoginSavesAProfileThatCommandsUseAnywhere) {
  std::string url = server_.url();
  auto bare = RunCli({"db", "list", "--url", url}, work_.path());
  EXPECT_EQ(bare.exit_code, 1) << bare.output;
  EXPECT_NE(bare.output.find("run `quarry login`"), std::string::npos) << bare.output;

  auto refused = RunCli({"login", "--url", url, "--token", "not-a-token"}, work_.path());
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("refused the token"), std::string::npos) << refused.output;
  auto profile = work_.path() / ".config" / "quarry" / "profile.toml";
  EXPECT_FALSE(std::filesystem::exists(profile));

  auto login = RunCli({"login", "--url", url, "--data", (server_.data_dir() / "data").string()},
                      work_.path());
  ASSERT_EQ(login.exit_code, 0) << login.output;
  EXPECT_NE(login.output.find("Logged in to " + url), std::string::npos) << login.output;
  ASSERT_TRUE(std::filesystem::exists(profile));
  EXPECT_EQ(std::filesystem::status(profile).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // No --url, --token or --data, from a folder without quarry-data.
  auto created = RunCli({"db", "create", "anywhere"}, work_.path());
  EXPECT_EQ(created.exit_code, 0) << created.output;
  auto shell = RunCli({"db", "shell", "anywhere", "-c", "SELECT 7 AS seven"}, work_.path());
  EXPECT_NE(shell.output.find("    7"), std::string::npos) << shell.output;

  // Away from the data folder, token create has the profile's server mint the token.
  auto minted = RunCli({"token", "create", "--db", "anywhere", "--access", "rw"}, work_.path());
  ASSERT_EQ(minted.exit_code, 0) << minted.output;
  auto minted_db = client::Client::Open(server_.url("anywhere"),
                                        minted.output.substr(0, minted.output.find('\n')));
  ASSERT_TRUE(minted_db.ok());
  EXPECT_TRUE((*minted_db)->Execute("SELECT 1", {}).ok());

  // The profile's token is not sent to another server named with --url.
  auto elsewhere = RunCli({"db", "list", "--url", "http://127.0.0.1:1"}, work_.path());
  EXPECT_NE(elsewhere.exit_code, 0);

  // A read-only token is saved with a note, and its writes say why they fail.
  auto ro = RunCli({"token", "create", "--db", "anywhere", "--access", "ro", "--data",
                    (server_.data_dir() / "data").string()},
                   work_.path());
  ASSERT_EQ(ro.exit_code, 0) << ro.output;
  std::string ro_token = ro.output.substr(0, ro.output.find('\n'));
  auto ro_login = RunCli({"login", "--url", url}, work_.path(), ro_token + "\n");
  ASSERT_EQ(ro_login.exit_code, 0) << ro_login.output;
  EXPECT_NE(ro_login.output.find("not an admin token"), std::string::npos) << ro_login.output;
  auto write = RunCli({"db", "shell", "anywhere", "-c", "CREATE TABLE t(x)"}, work_.path());
  EXPECT_EQ(write.exit_code, 1) << write.output;
  EXPECT_NE(write.output.find("read-only token"), std::string::npos) << write.output;

  // A profile whose token the server no longer accepts (signed with an earlier key) says how
  // to fix it.
  TestServer other;
  ASSERT_TRUE(other.ok()) << other.error();
  std::ofstream(profile) << "url = \"" << url << "\"\ntoken = \"" << other.AdminToken() << "\"\n";
  auto stale = RunCli({"db", "list"}, work_.path());
  EXPECT_EQ(stale.exit_code, 1) << stale.output;
  EXPECT_NE(stale.output.find("run `quarry login` again"), std::string::npos) << stale.output;

  auto logout = RunCli({"logout"}, work_.path());
  EXPECT_EQ(logout.exit_code, 0) << logout.output;
  EXPECT_FALSE(std::filesystem::exists(profile));
  EXPECT_EQ(RunCli({"db", "list", "--url", url}, work_.path()).exit_code, 1);

  std::filesystem::create_directories(profile.parent_path());
  std::ofstream(profile) << "url = \"unterminated\n";
  auto broken = RunCli({"db", "list"}, work_.path());
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.output.find(profile.string() + ":1"), std::string::npos) << broken.output;
}

// Regression: `token create --expires-in 0` printed CLI11's validation error and the whole
// help text instead of one line.
TEST_F(CliIntegrationTest, TokenExpiresInZeroIsOneLineError) {
  auto result = RunCli({"token", "create", "--access", "admin", "--expires-in", "0", "--data",
                        (server_.data_dir() / "data").string()},
                       work_.path());
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
  EXPECT_NE(result.output.find("--expires-in must be a positive number of seconds"),
            std::string::npos)
      << result.output;
}

// Regression: a client given http://HOST/db/shop (no trailing slash) posts to
// /db/v2/pipeline and was told "no access to namespace 'v2'".
TEST_F(CliIntegrationTest, UrlWithoutTrailingSlashIsNamedByTheServer) {
  client::HttpConnection http("127.0.0.1", server_.port(), server_.url(), {});
  auto response = http.Send("POST", "/db/v2/pipeline", R"({"requests":[]})", server_.AdminToken());
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 404);
  EXPECT_NE(response->body.find("trailing slash"), std::string::npos) << response->body;
  EXPECT_EQ(response->body.find("no access"), std::string::npos) << response->body;
}

}  // namespace
}  // namespace quarry

namespace quarry::testing {
namespace {

// The schema-first workflow on a local file: create a migration from the schema, apply it,
// verify, change the schema, and push; destructive pushes are refused without the flag.
TEST(SchemaWorkflowTest, CreateApplyVerifyPushOnALocalFile) {
  TempDir work;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(work.path() / name) << text;
  };
  auto run = [&](std::vector<std::string> args) { return RunCli(args, work.path()); };
  write("v1.quarry", "model users {\n  id Integer @id\n  email Text @unique\n}\n");
  write("v2.quarry",
        "enum Role { admin member }\n"
        "model users {\n  id Integer @id\n  email Text @unique\n  role Role @default(member)\n}\n");

  auto created = run({"migrate", "create", "init", "--schema", "v1.quarry", "--file", "app.db"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("create table users"), std::string::npos) << created.output;
  auto applied = run({"migrate", "apply", "--file", "app.db"});
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  auto same = run({"migrate", "verify", "--schema", "v1.quarry", "--file", "app.db"});
  EXPECT_EQ(same.exit_code, 0) << same.output;
  auto none = run({"migrate", "create", "again", "--schema", "v1.quarry", "--file", "app.db"});
  EXPECT_NE(none.output.find("no migration written"), std::string::npos) << none.output;

  auto seeded = run({"db", "shell", "--url", "file:app.db", "-c",
                     "INSERT INTO users(email) VALUES ('a@example.com')"});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.output;
  auto differs = run({"migrate", "verify", "--schema", "v2.quarry", "--file", "app.db"});
  EXPECT_EQ(differs.exit_code, 1) << differs.output;
  EXPECT_NE(differs.output.find("add column users.role"), std::string::npos) << differs.output;
  auto pushed = run({"migrate", "push", "--schema", "v2.quarry", "--file", "app.db"});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.output;
  EXPECT_EQ(run({"migrate", "verify", "--schema", "v2.quarry", "--file", "app.db"}).exit_code, 0);

  // Back to v1 would drop users.role, which holds data: refused, and nothing changes.
  auto refused = run({"migrate", "push", "--schema", "v1.quarry", "--file", "app.db"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("drop column users.role (1 row has a value)"), std::string::npos)
      << refused.output;
  EXPECT_EQ(run({"migrate", "verify", "--schema", "v2.quarry", "--file", "app.db"}).exit_code, 0);
  auto forced =
      run({"migrate", "push", "--schema", "v1.quarry", "--file", "app.db", "--allow-data-loss"});
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  auto rows = run({"db", "shell", "--url", "file:app.db", "-c", "SELECT email FROM users"});
  EXPECT_NE(rows.output.find("a@example.com"), std::string::npos) << rows.output;
}

}  // namespace
}  // namespace quarry::testing
