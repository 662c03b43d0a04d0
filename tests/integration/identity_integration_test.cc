// Identities on the real server: user tokens minted by Quarry (admin API, `quarry token create
// --user`) and by an external issuer (--jwks, from a file and over http), and every raw-SQL door
// refusing them.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <thread>

#include "auth/jwt_test_util.h"
#include "cli_runner.h"
#include "client/admin_client.h"
#include "client/http_connection.h"
#include "http/server.h"
#include "test_server.h"

namespace quarry {
namespace {

namespace json = boost::json;
using auth::JwtAlgorithm;
using auth::testing::GenerateTestKey;
using auth::testing::JwksJson;
using auth::testing::SignJwt;
using auth::testing::TestKey;
using quarry::testing::RunCli;
using quarry::testing::TempDir;
using quarry::testing::TestServer;

constexpr const char* kIssuer = "https://idp.example.com/";
constexpr const char* kAudience = "shop-app";
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
           Door{"POST", "/db/shop/v3-protobuf/pipeline", ""},  // an empty PipelineReqBody
           Door{"POST", "/db/shop/v3-protobuf/cursor", ""},
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

// An identity provider's key set in a file, and a server that trusts it.
class ExternalIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    jwks_path_ = keys_dir_.path() / "jwks.json";
    Publish({&rsa_, &ec_, &ed_});
    server_ = std::make_unique<TestServer>([this](server::ServerConfig& config) {
      config.jwks = jwks_path_.string();
      config.jwt_issuer = kIssuer;
      config.jwt_audience = kAudience;
    });
    ASSERT_TRUE(server_->ok()) << server_->error();
    ASSERT_EQ(server_->Admin("POST", "/namespaces", R"({"name": "shop"})"), 201);
  }
  void Publish(const std::vector<const TestKey*>& keys) {
    std::ofstream(jwks_path_) << JwksJson(keys);
  }
  static json::object Claims() {
    return json::object{{"iss", kIssuer},
                        {"aud", json::array{"other", kAudience}},
                        {"sub", "user-1"},
                        {"exp", NowUnix() + 600},
                        {"ns", json::array{"shop"}},
                        {"accountId", 5}};
  }
  // 403 with the user-token message means the token verified; 401 that it did not.
  void ExpectVerified(const std::string& token) {
    Answer answer = Send(*server_, "POST", "/db/shop/v2/pipeline", kPipeline, token);
    EXPECT_EQ(answer.status, 403) << answer.body;
    EXPECT_NE(answer.body.find(kUserRefusal), std::string::npos) << answer.body;
  }
  void ExpectRefused(const std::string& token, const std::string& why) {
    Answer answer = Send(*server_, "POST", "/db/shop/v2/pipeline", kPipeline, token);
    EXPECT_EQ(answer.status, 401) << answer.body;
    EXPECT_NE(answer.body.find("AUTH_FAILED"), std::string::npos) << answer.body;
    EXPECT_NE(answer.body.find(why), std::string::npos) << answer.body;
  }

  TempDir keys_dir_;
  std::filesystem::path jwks_path_;
  TestKey rsa_ = GenerateTestKey(JwtAlgorithm::kRS256, "rsa-1");
  TestKey ec_ = GenerateTestKey(JwtAlgorithm::kES256, "ec-1");
  TestKey ed_ = GenerateTestKey(JwtAlgorithm::kEdDSA, "ed-1");
  std::unique_ptr<TestServer> server_;
};

TEST_F(ExternalIssuerTest, ProviderTokensAreUserTokensBesideQuarrysOwn) {
  for (const TestKey* key : {&rsa_, &ec_, &ed_}) {
    std::string token = SignJwt(*key, Claims());
    ExpectVerified(token);
    ExpectEveryRawSqlDoorRefuses(*server_, token);
  }
  // Quarry's own tokens keep working beside them.
  EXPECT_EQ(Send(*server_, "POST", "/db/shop/v2/pipeline", kPipeline, server_->AdminToken()).status,
            200);
  EXPECT_EQ(server_->Admin("GET", "/namespaces", ""), 200);

  json::object claims = Claims();
  claims["aud"] = "another-app";
  ExpectRefused(SignJwt(rsa_, claims), "audience");
  claims = Claims();
  claims["iss"] = "https://evil.example.com/";
  ExpectRefused(SignJwt(rsa_, claims), "is not trusted");
  claims = Claims();
  claims["exp"] = NowUnix() - 1;
  ExpectRefused(SignJwt(ec_, claims), "token expired");
  std::string forged = SignJwt(ed_, Claims());
  forged[forged.rfind('.') + 1] ^= 1;
  ExpectRefused(forged, "signature");
  // Not a namespace of the token's "ns": refused as a user token all the same, no data.
  claims = Claims();
  claims["ns"] = json::array{"blog"};
  ExpectVerified(SignJwt(rsa_, claims));
}

TEST_F(ExternalIssuerTest, RotatedKeysAreFetchedForAnUnknownKidOnly) {
  auth::ExternalIssuer* issuer = server_->server().external_issuer();
  ASSERT_NE(issuer, nullptr);
  EXPECT_EQ(issuer->fetch_count(), 1u);  // at start-up
  ExpectVerified(SignJwt(rsa_, Claims()));
  EXPECT_EQ(issuer->fetch_count(), 1u);

  TestKey rotated = GenerateTestKey(JwtAlgorithm::kES256, "ec-2");
  Publish({&rsa_, &rotated});
  ExpectVerified(SignJwt(rotated, Claims()));
  EXPECT_EQ(issuer->fetch_count(), 2u);

  // Another unknown kid right after: the refresh is held back, the token refused.
  TestKey unknown = GenerateTestKey(JwtAlgorithm::kRS256, "rsa-9");
  ExpectRefused(SignJwt(unknown, Claims()), "rsa-9");
  EXPECT_EQ(issuer->fetch_count(), 2u);
}

// A key set served over plain http, as an identity provider's jwks_uri.
TEST(ExternalIssuerUrlTest, KeySetIsFetchedOverHttp) {
  TestKey key = GenerateTestKey(JwtAlgorithm::kRS256, "k1");
  std::string published = JwksJson({&key});
  std::atomic<int> requests{0};
  http::ServerOptions options;
  options.port = 0;
  http::Server idp(options, [&](http::Request request, http::Responder respond) {
    ++requests;
    http::Response response;
    response.status = request.path == "/.well-known/jwks.json" ? 200 : 404;
    response.body = published;
    respond(std::move(response));
  });
  ASSERT_TRUE(idp.Listen().ok());
  std::thread idp_thread([&] { idp.Run(); });
  std::string url = "http://127.0.0.1:" + std::to_string(idp.port()) + "/.well-known/jwks.json";
  {
    TestServer server([&](server::ServerConfig& config) {
      config.jwks = url;
      config.jwt_issuer = kIssuer;
      config.jwt_audience = kAudience;
    });
    ASSERT_TRUE(server.ok()) << server.error();
    EXPECT_EQ(requests.load(), 1);
    json::object claims{{"iss", kIssuer}, {"aud", kAudience}, {"exp", NowUnix() + 60}, {"ns", "*"}};
    Answer answer = Send(server, "POST", "/v2/pipeline", kPipeline, SignJwt(key, claims));
    EXPECT_EQ(answer.status, 403) << answer.body;
    EXPECT_NE(answer.body.find(kUserRefusal), std::string::npos) << answer.body;

    TestServer missing([&](server::ServerConfig& config) {
      config.jwks = "http://127.0.0.1:" + std::to_string(idp.port()) + "/nope";
      config.jwt_issuer = kIssuer;
      config.jwt_audience = kAudience;
    });
    EXPECT_FALSE(missing.ok());
    EXPECT_NE(missing.error().find("answered HTTP 404"), std::string::npos) << missing.error();
  }
  idp.Stop();
  idp_thread.join();

  // An https key set that cannot be fetched at start stops the start, naming it.
  TestServer https([](server::ServerConfig& config) {
    config.jwks = "https://127.0.0.1:1/.well-known/jwks.json";
    config.jwt_issuer = kIssuer;
    config.jwt_audience = kAudience;
  });
  EXPECT_FALSE(https.ok());
  EXPECT_NE(https.error().find("https://127.0.0.1:1"), std::string::npos) << https.error();

  TestServer no_audience([](server::ServerConfig& config) {
    config.jwks = "jwks.json";
    config.jwt_issuer = kIssuer;
  });
  EXPECT_FALSE(no_audience.ok());
  EXPECT_NE(no_audience.error().find("--jwt-audience"), std::string::npos) << no_audience.error();
}

}  // namespace
}  // namespace quarry
