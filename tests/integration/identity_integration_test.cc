// Identities on the real server: user tokens minted by Quarry (admin API, `quarry token create
// --user`), and every raw-SQL door refusing them.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>

#include "cli_runner.h"
#include "client/admin_client.h"
#include "client/http_connection.h"
#include "test_server.h"

namespace quarry {
namespace {

namespace json = boost::json;
using quarry::testing::RunCli;
using quarry::testing::TempDir;
using quarry::testing::TestServer;

constexpr const char* kUserRefusal = "user tokens reach the data API only";

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Answer {
  int status = 0;
  std::string body;
};

// One request with `token` as its bearer token.
Answer Send(const TestServer& server, const std::string& method, const std::string& path,
            const std::string& body, const std::string& token) {
  client::HttpConnection http("127.0.0.1", server.port(), server.url(), {});
  auto response = http.Send(method, path, body, token);
  EXPECT_TRUE(response.ok()) << response.status().message();
  return response.ok() ? Answer{response->status, response->body} : Answer{};
}

constexpr const char* kPipeline =
    R"({"requests": [{"type": "execute", "stmt": {"sql": "SELECT 1"}}, {"type": "close"}]})";

// Every door that runs raw SQL or administers the server, with the body it takes.
void ExpectEveryRawSqlDoorRefuses(const TestServer& server, const std::string& token) {
  struct Door {
    const char* method;
    const char* path;
    const char* body;
  };
  for (const Door& door : {
           Door{"POST", "/db/shop/v2/pipeline", kPipeline},
           Door{"POST", "/db/shop/v3/pipeline", kPipeline},
           Door{"POST", "/db/shop/v3/cursor",
                R"({"baton": null, "batch": {"steps": [{"stmt": {"sql": "SELECT 1"}}]}})"},
           Door{"POST", "/db/shop/", R"({"statements": ["SELECT 1"]})"},
           Door{"POST", "/v2/pipeline", kPipeline},  // namespace from the x-namespace default
           Door{"GET", "/admin/v1/namespaces", ""},
           Door{"POST", "/admin/v1/tokens", R"({"access": "admin"})"},
           Door{"GET", "/admin/v1/namespaces/shop/schema", ""},
       }) {
    Answer answer = Send(server, door.method, door.path, door.body, token);
    EXPECT_EQ(answer.status, 403) << door.method << " " << door.path << ": " << answer.body;
    EXPECT_NE(answer.body.find(kUserRefusal), std::string::npos)
        << door.method << " " << door.path << ": " << answer.body;
  }
}

class UserTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    ASSERT_EQ(server_.Admin("POST", "/namespaces", R"({"name": "shop"})"), 201);
  }
  TestServer server_;
  TempDir work_;
};

TEST_F(UserTokenTest, AdminApiMintsUserTokensThatNoRawSqlDoorTakes) {
  json::value answer;
  ASSERT_EQ(server_.Admin("POST", "/tokens",
                          R"({"namespaces": ["shop"], "expires_in": 600,
                              "user": {"id": 1, "accountId": 5, "role": "member"}})",
                          &answer),
            201)
      << json::serialize(answer);
  std::string token(answer.at("token").as_string());
  auto claims = server_.server().key().Verify(token, NowUnix());
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_TRUE(claims->IsUser());
  EXPECT_EQ(json::value(*claims->user),
            json::parse(R"({"id": 1, "accountId": 5, "role": "member"})"));
  EXPECT_TRUE(claims->Covers("shop"));
  EXPECT_FALSE(claims->Covers("blog"));
  ASSERT_TRUE(claims->expires_at.has_value());

  ExpectEveryRawSqlDoorRefuses(server_, token);
  // Service tokens are unaffected.
  EXPECT_EQ(Send(server_, "POST", "/db/shop/v2/pipeline", kPipeline, server_.AdminToken()).status,
            200);
}

TEST_F(UserTokenTest, AdminApiRefusesMalformedUserRequests) {
  json::value answer;
  EXPECT_EQ(server_.Admin("POST", "/tokens", R"({"access": "rw", "user": {"id": 1}})", &answer),
            400);
  EXPECT_NE(json::serialize(answer).find("not both"), std::string::npos) << answer;
  EXPECT_EQ(server_.Admin("POST", "/tokens", R"({"user": [1]})", &answer), 400);
  EXPECT_NE(json::serialize(answer).find("JSON object"), std::string::npos) << answer;
  std::string huge = R"({"user": {"blob": ")" + std::string(5000, 'x') + R"("}})";
  EXPECT_EQ(server_.Admin("POST", "/tokens", huge, &answer), 400);
  EXPECT_NE(json::serialize(answer).find("larger than 4096"), std::string::npos) << answer;
}

TEST_F(UserTokenTest, CliSignsUserTokens) {
  auto flags = server_.CliFlags();
  std::string data = flags[3];
  auto created = RunCli({"token", "create", "--db", "shop", "--user",
                         R"({"id": 7, "role": "member"})", "--expires-in", "60", "--data", data},
                        work_.path());
  ASSERT_EQ(created.exit_code, 0) << created.output;
  std::string token = created.output.substr(0, created.output.find('\n'));
  auto claims = server_.server().key().Verify(token, NowUnix());
  ASSERT_TRUE(claims.ok()) << claims.status().message() << " in " << created.output;
  EXPECT_TRUE(claims->IsUser());
  EXPECT_EQ(claims->user->at("id").as_int64(), 7);
  EXPECT_EQ(claims->namespaces, std::vector<std::string>{"shop"});
  EXPECT_EQ(claims->expires_at, claims->issued_at + 60);
  Answer refused = Send(server_, "POST", "/db/shop/v2/pipeline", kPipeline, token);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find(kUserRefusal), std::string::npos) << refused.body;

  auto both =
      RunCli({"token", "create", "--db", "shop", "--access", "rw", "--user", "{}", "--data", data},
             work_.path());
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_NE(both.output.find("leave out --access"), std::string::npos) << both.output;
  auto not_object =
      RunCli({"token", "create", "--db", "shop", "--user", "[1]", "--data", data}, work_.path());
  EXPECT_EQ(not_object.exit_code, 2) << not_object.output;
  EXPECT_NE(not_object.output.find("--user must be a JSON object"), std::string::npos)
      << not_object.output;
  auto no_db = RunCli({"token", "create", "--user", "{}", "--data", data}, work_.path());
  EXPECT_EQ(no_db.exit_code, 2) << no_db.output;
}

}  // namespace
}  // namespace quarry
