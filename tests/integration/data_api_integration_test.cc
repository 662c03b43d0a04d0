// The data API over real HTTP (issue 7): the endpoints, the error shapes and statuses, tokens,
// the C++ DataClient and `quarry data`. What each operation computes is covered by the
// data-driven cases in tests/data_api; this file covers what only the wire shows.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "cli_runner.h"
#include "client/client.h"
#include "client/data_client.h"
#include "client/http_connection.h"
#include "test_server.h"

namespace quarry {
namespace {

namespace json = boost::json;
using quarry::testing::RunCli;
using quarry::testing::TempDir;
using quarry::testing::TestServer;

class DataApiIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    ASSERT_EQ(server_.Admin("POST", "/namespaces", R"({"name": "shop"})"), 201);
    auto sql = client::Client::Open(server_.url("shop"), server_.AdminToken());
    ASSERT_TRUE(sql.ok());
    ASSERT_TRUE((*sql)
                    ->ExecuteMultiple(
                        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, "
                        "name TEXT);"
                        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, "
                        "authorId INTEGER NOT NULL REFERENCES users (id));"
                        "INSERT INTO users VALUES (1, 'ada@example.com', 'Ada');"
                        "INSERT INTO posts VALUES (10, 'Hello', 1);")
                    .ok());
  }

  // POST `body` to `path` with `token`: the status and the parsed body.
  std::pair<int, json::value> Post(const std::string& path, const std::string& body,
                                   const std::string& token) {
    client::HttpConnection http("127.0.0.1", server_.port(), server_.url(), {});
    auto response = http.Send("POST", path, body, token);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) {
      return {0, nullptr};
    }
    json::error_code ec;
    json::value parsed = json::parse(response->body, ec);
    EXPECT_FALSE(ec) << response->body;
    return {response->status, parsed};
  }

  TestServer server_;
};

TEST_F(DataApiIntegrationTest, OperationAnswersData) {
  auto [status, body] =
      Post("/db/shop/v1/users/findMany", R"({"where": {"id": 1}, "include": {"posts": true}})",
           server_.AdminToken());
  EXPECT_EQ(status, 200);
  EXPECT_EQ(
      json::serialize(body),
      R"({"data":[{"id":1,"email":"ada@example.com","name":"Ada","posts":[{"id":10,"title":"Hello","authorId":1}]}]})");
}

TEST_F(DataApiIntegrationTest, ErrorsHaveCodeMessageAndPath) {
  struct Case {
    std::string path;
    std::string body;
    int status;
    std::string code;
    json::value arg_path;
  };
  std::vector<Case> cases = {
      {"/db/shop/v1/users/findMany", R"({"where": {"age": 1}})", 400, "ARGS_INVALID", "where.age"},
      {"/db/shop/v1/users/findMany", R"({"where": {"id": {"gte": "x"}}})", 400, "ARGS_INVALID",
       "where.id.gte"},
      {"/db/shop/v1/users/findMany", "{not json", 400, "ARGS_INVALID", nullptr},
      {"/db/shop/v1/nobody/findMany", "{}", 400, "ARGS_INVALID", nullptr},
      {"/db/shop/v1/users/fly", "{}", 400, "ARGS_INVALID", nullptr},
      {"/db/shop/v1/users/findUniqueOrThrow", R"({"where": {"id": 99}})", 404, "NOT_FOUND",
       nullptr},
      {"/db/shop/v1/users/create", R"({"data": {"id": 2, "email": "ada@example.com"}})", 409,
       "CONFLICT", "data.email"},
      {"/db/shop/v1/posts/create", R"({"data": {"id": 11, "title": "x", "authorId": 42}})", 409,
       "CONFLICT", "data"},
      {"/db/nowhere/v1/users/findMany", "{}", 404, "NAMESPACE_DOESNT_EXIST", nullptr},
  };
  for (const Case& c : cases) {
    auto [status, body] = Post(c.path, c.body, server_.AdminToken());
    EXPECT_EQ(status, c.status) << c.path << " " << c.body << " -> " << json::serialize(body);
    const json::value* error = body.is_object() ? body.get_object().if_contains("error") : nullptr;
    ASSERT_NE(error, nullptr) << json::serialize(body);
    EXPECT_EQ(error->at("code"), json::value(c.code)) << json::serialize(body);
    EXPECT_TRUE(error->at("message").is_string());
    EXPECT_EQ(error->at("path"), c.arg_path) << json::serialize(body);
  }
  // Nothing of the refused writes was kept.
  auto [status, body] = Post("/db/shop/v1/users/count", "{}", server_.AdminToken());
  EXPECT_EQ(json::serialize(body), R"({"data":1})");
}

TEST_F(DataApiIntegrationTest, TokensDecide) {
  auto [missing, missing_body] = Post("/db/shop/v1/users/findMany", "{}", "");
  EXPECT_EQ(missing, 401);
  EXPECT_EQ(missing_body.at("error").at("code"), json::value("AUTH_FAILED"));
  auto [forged, forged_body] = Post("/db/shop/v1/users/findMany", "{}", "not.a.token");
  EXPECT_EQ(forged, 401);
  std::string ro = server_.Token(auth::Access::kReadOnly);
  auto [read, read_body] = Post("/db/shop/v1/users/count", "{}", ro);
  EXPECT_EQ(read, 200);
  auto [write, write_body] =
      Post("/db/shop/v1/users/create", R"({"data": {"email": "b@example.com"}})", ro);
  EXPECT_EQ(write, 403) << json::serialize(write_body);
  auto [tx, tx_body] = Post("/db/shop/v1/transaction", R"({"ops": []})", ro);
  EXPECT_EQ(tx, 403) << json::serialize(tx_body);
}

TEST_F(DataApiIntegrationTest, QueryAndTransaction) {
  auto [q, q_body] =
      Post("/db/shop/v1/query",
           R"({"users": {"select": {"id": true}}, "n": {"model": "posts", "op": "count"}})",
           server_.AdminToken());
  EXPECT_EQ(q, 200);
  EXPECT_EQ(json::serialize(q_body), R"({"data":{"users":[{"id":1}],"n":1}})");
  auto [t, t_body] = Post(
      "/db/shop/v1/transaction",
      R"({"ops": [{"model": "users", "op": "create", "args": {"data": {"id": 2, "email": "b@example.com"}, "select": {"id": true}}},
                  {"model": "posts", "op": "create", "args": {"data": {"id": 11, "title": "t", "authorId": 2}, "select": false}}]})",
      server_.AdminToken());
  EXPECT_EQ(t, 200);
  EXPECT_EQ(json::serialize(t_body), R"({"data":[{"id":2},null]})");
  auto [bad, bad_body] = Post(
      "/db/shop/v1/transaction",
      R"({"ops": [{"model": "users", "op": "create", "args": {"data": {"id": 3, "email": "c@example.com"}}},
                  {"model": "users", "op": "create", "args": {"data": {"id": 4, "email": "c@example.com"}}}]})",
      server_.AdminToken());
  EXPECT_EQ(bad, 409);
  EXPECT_EQ(bad_body.at("error").at("path"), json::value("ops.1.args.data.email"));
  auto [count, count_body] = Post("/db/shop/v1/users/count", "{}", server_.AdminToken());
  EXPECT_EQ(json::serialize(count_body), R"({"data":2})");
}

TEST_F(DataApiIntegrationTest, CppDataClient) {
  auto db = client::DataClient::Open(server_.url(), "shop", server_.AdminToken());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto created = (*db)->Call("users", "create",
                             json::parse(R"({"data": {"email": "c@example.com", "name": "Cy"}})"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->at("name"), json::value("Cy"));
  auto bad = (*db)->Call("users", "findMany", json::parse(R"({"where": {"nope": 1}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.status().path(), "where.nope");
  auto conflict =
      (*db)->Call("users", "create", json::parse(R"({"data": {"email": "c@example.com"}})"));
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().code(), ErrorCode::kConflict);
  auto q = (*db)->Query(json::parse(R"({"n": {"model": "users", "op": "count"}})"));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(json::serialize(*q), R"({"n":2})");
  auto from_url = client::DataClient::Open(server_.url("shop"), "", server_.AdminToken());
  ASSERT_TRUE(from_url.ok());
  EXPECT_TRUE((*from_url)->Call("users", "count", json::object()).ok());
  EXPECT_FALSE(client::DataClient::Open(server_.url(), "", "").ok());
}

TEST_F(DataApiIntegrationTest, CliDataCommand) {
  TempDir work;
  std::vector<std::string> flags = server_.CliFlags();
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), flags.begin(), flags.end());
    return RunCli(args, work.path());
  };
  auto found =
      with({"data", "shop", "users", "findMany", R"({"select": {"email": true}})", "--compact"});
  EXPECT_EQ(found.exit_code, 0) << found.output;
  EXPECT_EQ(found.output, "[{\"email\":\"ada@example.com\"}]\n");
  auto query = with({"data", "shop", "query", R"({"n": {"model": "posts", "op": "count"}})"});
  EXPECT_EQ(query.exit_code, 0) << query.output;
  EXPECT_EQ(query.output, "{\n  \"n\": 1\n}\n");
  auto bad = with({"data", "shop", "users", "findMany", R"({"where": {"nope": 1}})"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("ARGS_INVALID: where.nope: unknown field 'nope'"), std::string::npos)
      << bad.output;
  auto not_json = with({"data", "shop", "users", "findMany", "{oops"});
  EXPECT_EQ(not_json.exit_code, 1);
  EXPECT_NE(not_json.output.find("not JSON"), std::string::npos) << not_json.output;
}

// The path a user token takes: a schema pushed through the admin API is recorded, the token's
// claims are auth(), its policies hold over HTTP, and raw SQL refuses it.
TEST_F(DataApiIntegrationTest, UserTokenUnderARecordedSchema) {
  ASSERT_EQ(server_.Admin("POST", "/namespaces", R"({"name": "blog"})"), 201);
  json::object push{{"schema", R"(
model posts {
  id        Integer @id
  title     Text    @email
  accountId Integer @default(auth().accountId)

  @@allow('read', accountId == auth().accountId)
  @@allow('create', accountId == auth().accountId, "posts go into your own account")
}
)"}};
  json::value pushed;
  ASSERT_EQ(server_.Admin("POST", "/namespaces/blog/schema/push", json::serialize(push), &pushed),
            200)
      << json::serialize(pushed);
  json::value minted;
  ASSERT_EQ(
      server_.Admin("POST", "/tokens",
                    R"({"namespaces": ["blog"], "user": {"id": 1, "accountId": 5}})", &minted),
      201);
  std::string user = std::string(minted.at("token").as_string());

  auto [created, created_body] =
      Post("/db/blog/v1/posts/create", R"({"data": {"id": 1, "title": "a@b.example"}})", user);
  EXPECT_EQ(created, 200) << json::serialize(created_body);
  EXPECT_EQ(json::serialize(created_body),
            R"({"data":{"id":1,"title":"a@b.example","accountId":5}})");
  auto [refused, refused_body] =
      Post("/db/blog/v1/posts/create",
           R"({"data": {"id": 2, "title": "c@d.example", "accountId": 6}})", user);
  EXPECT_EQ(refused, 403);
  EXPECT_EQ(refused_body.at("error").at("message"), json::value("posts go into your own account"));
  auto [invalid, invalid_body] =
      Post("/db/blog/v1/posts/create", R"({"data": {"id": 3, "title": "nope"}})", user);
  EXPECT_EQ(invalid, 422);
  EXPECT_EQ(invalid_body.at("error").at("path"), json::value("data.title"));
  // A service token sees every row, the user only its own.
  auto db = client::Client::Open(server_.url("blog"), server_.AdminToken());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Execute("INSERT INTO posts VALUES (9, 'x@y.example', 6)").ok());
  auto [mine, mine_body] = Post("/db/blog/v1/posts/count", "{}", user);
  EXPECT_EQ(json::serialize(mine_body), R"({"data":1})");
  auto [all, all_body] = Post("/db/blog/v1/posts/count", "{}", server_.AdminToken());
  EXPECT_EQ(json::serialize(all_body), R"({"data":2})");
  // The user token reaches no raw SQL.
  auto [sql, sql_body] =
      Post("/db/blog/v2/pipeline",
           R"({"requests": [{"type": "execute", "stmt": {"sql": "SELECT * FROM posts"}}]})", user);
  EXPECT_EQ(sql, 403) << json::serialize(sql_body);
  // Nor a namespace its token does not cover.
  auto [other, other_body] = Post("/db/shop/v1/users/count", "{}", user);
  EXPECT_EQ(other, 403);
}

}  // namespace
}  // namespace quarry
