#include "client/url.h"

#include <gtest/gtest.h>

namespace quarry::client {
namespace {

TEST(ClientUrlTest, ServerRootIsDefaultNamespace) {
  auto url = ParseClientUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(url->kind, ClientUrl::Kind::kHttp);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->path_prefix, "");
  EXPECT_EQ(url->ns, "");
  EXPECT_EQ(url->Origin(), "http://127.0.0.1:8080");
}

TEST(ClientUrlTest, DbPathWithAndWithoutTrailingSlash) {
  for (const char* text : {"http://localhost:9000/db/shop", "http://localhost:9000/db/shop/"}) {
    auto url = ParseClientUrl(text);
    ASSERT_TRUE(url.ok()) << text;
    EXPECT_EQ(url->path_prefix, "/db/shop") << text;
    EXPECT_EQ(url->ns, "shop") << text;
    EXPECT_EQ(url->ToString(), "http://localhost:9000/db/shop");
  }
}

TEST(ClientUrlTest, DefaultPortIs80) {
  auto url = ParseClientUrl("http://example.com/");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->path_prefix, "");
}

TEST(ClientUrlTest, Ipv6Literal) {
  auto url = ParseClientUrl("http://[::1]:8081/db/a");
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8081);
  EXPECT_EQ(url->Origin(), "http://[::1]:8081");
}

TEST(ClientUrlTest, FileForms) {
  auto abs = ParseClientUrl("file:/tmp/x.db");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->kind, ClientUrl::Kind::kFile);
  EXPECT_EQ(abs->file_path, "/tmp/x.db");
  auto rel = ParseClientUrl("file:.quarry/shop.db");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->file_path, ".quarry/shop.db");
  auto rel2 = ParseClientUrl("file:./local.db");
  ASSERT_TRUE(rel2.ok());
  EXPECT_EQ(rel2->file_path, "./local.db");
  auto triple = ParseClientUrl("file:///var/db/a.db");
  ASSERT_TRUE(triple.ok());
  EXPECT_EQ(triple->file_path, "/var/db/a.db");
  auto host = ParseClientUrl("file://localhost/var/db/a.db");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->file_path, "/var/db/a.db");
}

TEST(ClientUrlTest, RefusesHttpsWithClearMessage) {
  auto url = ParseClientUrl("https://db.example.com");
  ASSERT_FALSE(url.ok());
  EXPECT_NE(url.status().message().find("https is not supported"), std::string::npos)
      << url.status().message();
  EXPECT_FALSE(ParseClientUrl("libsql://x.turso.io").ok());
  EXPECT_FALSE(ParseClientUrl("ws://localhost:8080").ok());
}

TEST(ClientUrlTest, RefusesMalformed) {
  for (const char* text :
       {"", "localhost:8080", "http://", "http://:8080", "http://h:", "http://h:0",
        "http://h:65536", "http://h:80x", "http://h/db/", "http://h/db/Bad.Name", "http://h/db/a/b",
        "http://u:p@h", "http://h/?x=1", "http://[::1", "file:", "file://otherhost/x.db"}) {
    EXPECT_FALSE(ParseClientUrl(text).ok()) << text;
  }
}

}  // namespace
}  // namespace quarry::client
