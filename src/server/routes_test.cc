#include "server/routes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "server/admin_api.h"
#include "server/jwks_source.h"

namespace quarry::server {
namespace {

http::Request Make(std::string path,
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::Request request;
  request.method = "POST";
  request.path = std::move(path);
  request.headers = std::move(headers);
  return request;
}

TEST(ResolveRouteTest, PathPrefixWins) {
  ServerConfig config;
  auto route = ResolveRoute(Make("/db/shop/v2/pipeline", {{"x-namespace", "other"}}), config);
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->ns, "shop");
  EXPECT_EQ(route->path, "/v2/pipeline");
}

// Regression: a client given http://HOST/db/shop (no trailing slash) posts to
// /db/v2/pipeline, which was routed to namespace 'v2' and refused as "no access to namespace
// 'v2'" instead of naming the missing slash.
TEST(ResolveRouteTest, UrlWithoutTrailingSlashIsNamed) {
  ServerConfig config;
  for (const char* path : {"/db/v2/pipeline", "/db/v3/pipeline", "/db/v3/cursor"}) {
    auto route = ResolveRoute(Make(path), config);
    ASSERT_FALSE(route.ok()) << path;
    EXPECT_EQ(route.status().code(), ErrorCode::kNotFound);
    EXPECT_NE(route.status().message().find("trailing slash"), std::string::npos)
        << route.status().message();
  }
  // A namespace may still be called v2: its pipeline is one level further down.
  auto v2 = ResolveRoute(Make("/db/v2/v2/pipeline"), config);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->ns, "v2");
  EXPECT_EQ(v2->path, "/v2/pipeline");
}

TEST(ResolveRouteTest, HeaderThenHostThenDefault) {
  ServerConfig config;
  config.base_domain = "db.example.com";
  EXPECT_EQ(ResolveRoute(Make("/v2/pipeline", {{"x-namespace", "blog"}}), config)->ns, "blog");
  EXPECT_EQ(ResolveRoute(Make("/v2/pipeline", {{"host", "shop.db.example.com:8080"}}), config)->ns,
            "shop");
  EXPECT_EQ(ResolveRoute(Make("/v2/pipeline", {{"host", "a.b.db.example.com"}}), config)->ns,
            "default");
  EXPECT_EQ(ResolveRoute(Make("/v2/pipeline", {{"host", "db.example.com"}}), config)->ns,
            "default");
  EXPECT_EQ(ResolveRoute(Make("/v2/pipeline", {{"host", "shop.elsewhere.com"}}), config)->ns,
            "default");
  ServerConfig no_domain;
  EXPECT_EQ(ResolveRoute(Make("/v2/pipeline", {{"host", "shop.db.example.com"}}), no_domain)->ns,
            "default");
}

TEST(ResolveRouteTest, InvalidNamesAreRefused) {
  ServerConfig config;
  config.base_domain = "db.example.com";
  EXPECT_EQ(ResolveRoute(Make("/db/Bad/v2/pipeline"), config).status().code(),
            ErrorCode::kInvalidName);
  EXPECT_EQ(ResolveRoute(Make("/db/../v2/pipeline"), config).status().code(),
            ErrorCode::kInvalidName);
  EXPECT_EQ(ResolveRoute(Make("/v2/pipeline", {{"x-namespace", "a/b"}}), config).status().code(),
            ErrorCode::kInvalidName);
  EXPECT_EQ(
      ResolveRoute(Make("/v2/pipeline", {{"host", "UP.db.example.com"}}), config).status().code(),
      ErrorCode::kInvalidName);
}

TEST(CheckNoAuthOriginTest, OnlyLoopbackPagesReachANoAuthServer) {
  ServerConfig config;
  config.no_auth = true;
  EXPECT_TRUE(CheckNoAuthOrigin(Make("/v2/pipeline"), config).ok());
  for (const char* origin : {"http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]:8080",
                             "http://localhost"}) {
    EXPECT_TRUE(CheckNoAuthOrigin(Make("/v2/pipeline", {{"origin", origin}}), config).ok())
        << origin;
  }
  for (const char* origin : {"https://evil.example", "http://localhost.evil.example",
                             "http://127.0.0.1.evil.example:80", "null"}) {
    EXPECT_EQ(CheckNoAuthOrigin(Make("/v2/pipeline", {{"origin", origin}}), config).code(),
              ErrorCode::kForbidden)
        << origin;
  }
  ServerConfig with_auth;
  EXPECT_TRUE(
      CheckNoAuthOrigin(Make("/v2/pipeline", {{"origin", "https://app.example"}}), with_auth).ok());
}

TEST(ServerConfigTest, NoAuthOnlyOnLoopback) {
  ServerConfig config;
  config.no_auth = true;
  ASSERT_TRUE(ParseListen("0.0.0.0:8080", config).ok());
  EXPECT_EQ(config.Validate().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(ParseListen("127.0.0.1:9000", config).ok());
  EXPECT_TRUE(config.Validate().ok());
  ASSERT_TRUE(ParseListen("[::1]:9000", config).ok());
  EXPECT_EQ(config.listen_address, "::1");
  EXPECT_TRUE(config.Validate().ok());
  EXPECT_FALSE(ParseListen("127.0.0.1", config).ok());
  EXPECT_FALSE(ParseListen("127.0.0.1:70000", config).ok());
}

}  // namespace
}  // namespace quarry::server

namespace quarry::server {
namespace {

TEST(AdminApiTest, ScopedAdminTokensAndImpossibleNamesAreRefused) {
  auto dir =
      std::filesystem::temp_directory_path() / ("quarry-admin-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  storage::StoreOptions options;
  options.data_dir = dir;
  auto store = storage::NamespaceStore::Open(options);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Create("victim").ok());
  auto key = auth::KeyPair::Generate();
  ASSERT_TRUE(key.ok());
  SchemaChanges schema_changes;
  auto api = std::make_unique<AdminApi>(**store, *key, schema_changes, nullptr);

  auth::Claims scoped;
  scoped.access = auth::Access::kAdmin;
  scoped.namespaces = {"a"};
  http::Request del;
  del.method = "DELETE";
  EXPECT_EQ(api->Handle(del, "/namespaces/victim", scoped).status, 403);
  EXPECT_TRUE((*store)->Exists("victim"));

  auth::Claims admin;
  admin.access = auth::Access::kAdmin;
  admin.all_namespaces = true;
  http::Request mint;
  mint.method = "POST";
  mint.body = R"({"access":"admin","namespaces":["a"]})";
  EXPECT_EQ(api->Handle(mint, "/tokens", admin).status, 400);
  mint.body = R"({"access":"rw","namespaces":["a"]})";
  EXPECT_EQ(api->Handle(mint, "/tokens", admin).status, 201);
  EXPECT_EQ(api->Handle(del, "/namespaces/victim", admin).status, 200);
  // A name that cannot exist is a bad request, not a missing namespace; long names are not
  // echoed back.
  http::Request get;
  get.method = "GET";
  for (std::string bad : {std::string(".."), std::string("ABC"), std::string(300, 'a')}) {
    http::Response response = api->Handle(get, "/namespaces/" + bad, admin);
    EXPECT_EQ(response.status, 400) << bad << ": " << response.body;
    EXPECT_EQ(response.body.find(std::string(300, 'a')), std::string::npos);
    EXPECT_EQ(api->Handle(get, "/namespaces/" + bad + "/migrations", admin).status, 400) << bad;
  }
  EXPECT_EQ(api->Handle(del, "/namespaces", admin).status, 405);
  EXPECT_EQ(api->Handle(get, "/nothing", admin).status, 404);
  api.reset();
  store->reset();
  std::filesystem::remove_all(dir);
}

TEST(RequireServiceTokenTest, UserTokensAreRefusedNamingTheDataApi) {
  auth::Claims service;
  service.access = auth::Access::kReadWrite;
  EXPECT_TRUE(RequireServiceToken(service, "raw SQL needs a service token").ok());
  auth::Claims user;
  user.access = auth::Access::kAdmin;  // ignored for a user token
  user.all_namespaces = true;
  user.user = boost::json::object{{"id", 1}};
  Status refused = RequireServiceToken(user, "raw SQL needs a service token (ro, rw or admin)");
  EXPECT_EQ(refused.code(), ErrorCode::kForbidden);
  EXPECT_EQ(refused.message(),
            "user tokens reach the data API only (POST /db/<ns>/v1/<model>/<op>); raw SQL needs a "
            "service token (ro, rw or admin)");
}

TEST(ServerConfigTest, ExternalIssuerNeedsIssuerAndAudience) {
  ServerConfig config;
  config.jwks = "jwks.json";
  EXPECT_FALSE(config.Validate().ok());
  config.jwt_issuer = "https://idp/";
  EXPECT_NE(config.Validate().message().find("--jwt-audience"), std::string::npos);
  config.jwt_audience = "app";
  EXPECT_TRUE(config.Validate().ok());
  config.jwt_namespaces_claim.clear();
  EXPECT_FALSE(config.Validate().ok());
  ServerConfig stray;
  stray.jwt_issuer = "https://idp/";
  EXPECT_NE(stray.Validate().message().find("need --jwks"), std::string::npos);
}

TEST(JwksSourceTest, FilesAndHttpUrls) {
  EXPECT_TRUE(JwksFetcherFor("https://idp.example.com/.well-known/jwks.json").ok());
  for (const char* bad :
       {"http://", "http://:80/x", "http://h:0/x", "http://h:99999/", "http://user@h/x",
        "http://[::1/x", "https://", "https://u@h/x", "http://h/x#frag"}) {
    EXPECT_FALSE(JwksFetcherFor(bad).ok()) << "accepted: " << bad;
  }
  EXPECT_TRUE(JwksFetcherFor("http://[::1]:8080/jwks?tenant=a").ok());
  EXPECT_FALSE(JwksFetcherFor("").ok());

  auto path = std::filesystem::temp_directory_path() /
              ("quarry-jwks-test-" + std::to_string(::getpid()) + ".json");
  auto file = JwksFetcherFor(path.string());
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)().status().code(), ErrorCode::kNotFound);  // read on each fetch
  std::ofstream(path) << R"({"keys": []})";
  Result<std::string> text = (*file)();
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, R"({"keys": []})");
  std::filesystem::remove(path);
}

TEST(AdminApiTest, NamespaceForeignKeySettingIsValidatedAndChangeable) {
  auto dir = std::filesystem::temp_directory_path() /
             ("quarry-admin-fk-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  storage::StoreOptions options;
  options.data_dir = dir;
  auto store = storage::NamespaceStore::Open(options);
  ASSERT_TRUE(store.ok());
  auto key = auth::KeyPair::Generate();
  ASSERT_TRUE(key.ok());
  auth::Claims admin;
  admin.access = auth::Access::kAdmin;
  admin.all_namespaces = true;
  SchemaChanges schema_changes;
  auto api = std::make_unique<AdminApi>(**store, *key, schema_changes, nullptr);
  auto call = [&](const std::string& method, std::string_view path, const std::string& body) {
    http::Request request;
    request.method = method;
    request.body = body;
    return api->Handle(request, path, admin);
  };
  auto bad = call("POST", "/namespaces", R"({"name":"a","foreign_keys":"off"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("must be true or false, not"), std::string::npos) << bad.body;
  auto typo = call("POST", "/namespaces", R"({"name":"a","foreign_key":false})");
  EXPECT_EQ(typo.status, 400);
  EXPECT_NE(typo.body.find("unknown field"), std::string::npos) << typo.body;
  EXPECT_FALSE((*store)->Exists("a"));
  auto created = call("POST", "/namespaces", R"({"name":"a","foreign_keys":false})");
  EXPECT_EQ(created.status, 201);
  EXPECT_NE(created.body.find("\"foreign_keys\":false"), std::string::npos) << created.body;
  auto patched = call("PATCH", "/namespaces/a", R"({"foreign_keys":true})");
  EXPECT_EQ(patched.status, 200);
  EXPECT_NE(patched.body.find("\"foreign_keys\":true"), std::string::npos) << patched.body;
  EXPECT_EQ(call("PATCH", "/namespaces/nope", R"({"foreign_keys":true})").status, 404);
  EXPECT_EQ(call("PATCH", "/namespaces/a", R"({"name":"b"})").status, 400);

  // Creating, forking into and deleting a namespace tell SchemaChanges, after the fact.
  std::vector<std::string> changed;
  schema_changes.Subscribe([&](const std::string& ns) { changed.push_back(ns); });
  EXPECT_EQ(call("POST", "/namespaces", R"({"name":"b"})").status, 201);
  EXPECT_EQ(call("POST", "/namespaces/b/fork", R"({"to":"c"})").status, 201);
  EXPECT_EQ(call("DELETE", "/namespaces/c", "").status, 200);
  EXPECT_EQ(call("DELETE", "/namespaces/c", "").status, 404);  // nothing changed: no news
  EXPECT_EQ(changed, (std::vector<std::string>{"b", "c", "c"}));
  EXPECT_EQ(schema_changes.generation(), 4u);  // "a", created above, counted too
  api.reset();
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace quarry::server
