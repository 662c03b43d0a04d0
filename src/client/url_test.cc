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

TEST(ClientUrlTest, HttpsAndLibsqlUrlsSpeakTls) {
  auto https = ParseClientUrl("https://db.example.com/db/shop");
  ASSERT_TRUE(https.ok()) << https.status().message();
  EXPECT_TRUE(https->tls);
  EXPECT_EQ(https->port, 443);
  EXPECT_EQ(https->ns, "shop");
  EXPECT_EQ(https->Origin(), "https://db.example.com:443");
  auto libsql = ParseClientUrl("libsql://x.example.com:8443");
  ASSERT_TRUE(libsql.ok());
  EXPECT_TRUE(libsql->tls);
  EXPECT_EQ(libsql->port, 8443);
  EXPECT_EQ(libsql->ToString(), "https://x.example.com:8443");
  auto wss = ParseClientUrl("wss://[::1]:9000/db/a");
  ASSERT_TRUE(wss.ok());
  EXPECT_TRUE(wss->tls);
  EXPECT_EQ(wss->Origin(), "https://[::1]:9000");
  auto ws = ParseClientUrl("ws://localhost/db/a");
  ASSERT_TRUE(ws.ok());
  EXPECT_FALSE(ws->tls);
  EXPECT_EQ(ws->Origin(), "http://localhost:80");
}

TEST(ClientUrlTest, RefusesMalformed) {
  for (const char* text : {"",
                           "localhost:8080",
                           "http://",
                           "http://:8080",
                           "http://h:",
                           "http://h:0",
                           "http://h:65536",
                           "http://h:80x",
                           "http://h/db/",
                           "http://h/db/Bad.Name",
                           "http://h/db/a/b",
                           "http://u:p@h",
                           "http://h/?x=1",
                           "http://[::1",
                           "file:",
                           "file://otherhost/x.db",
                           "https://",
                           "https:db",
                           "ftp://h",
                           "libsql://h:0",
                           "wss://u@h"}) {
    EXPECT_FALSE(ParseClientUrl(text).ok()) << text;
  }
}

}  // namespace
}  // namespace quarry::client
