#include "cli/bindings.h"

#include <gtest/gtest.h>

namespace quarry::cli {
namespace {

TEST(BindingsTest, ParsesDatabases) {
  auto config = ParseBindingsConfig(R"(
url = "http://127.0.0.1:9000"

[[databases]]
binding = "DB"
name = "shop"

[[databases]]
binding = "ANALYTICS_DB"
name = "analytics"
url = "file:.quarry/analytics.db"
)",
                                    "quarry.toml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->url, "http://127.0.0.1:9000");
  ASSERT_EQ(config->databases.size(), 2u);
  EXPECT_EQ(config->databases[0].binding, "DB");
  EXPECT_EQ(config->databases[0].name, "shop");
  EXPECT_FALSE(config->databases[0].url.has_value());
  EXPECT_EQ(config->databases[1].url, "file:.quarry/analytics.db");
}

void ExpectError(std::string_view text, std::string_view expected) {
  auto config = ParseBindingsConfig(text, "quarry.toml");
  ASSERT_FALSE(config.ok()) << text;
  EXPECT_NE(config.status().message().find(expected), std::string::npos)
      << "got: " << config.status().message();
}

TEST(BindingsTest, SyntaxErrorNamesLineAndColumn) {
  ExpectError("[[databases]]\nbinding = \"DB\"\nname = shop\n", "quarry.toml:3:");
}

TEST(BindingsTest, BadBindingNameNamesPosition) {
  ExpectError("[[databases]]\nbinding = \"db-1\"\nname = \"shop\"\n", "quarry.toml:2:11:");
  ExpectError("[[databases]]\nbinding = \"1DB\"\nname = \"shop\"\n", "environment variable name");
}

TEST(BindingsTest, BadNamespaceName) {
  ExpectError("[[databases]]\nbinding = \"DB\"\nname = \"Shop!\"\n", "quarry.toml:3:8:");
}

TEST(BindingsTest, MissingKeysAndTypos) {
  ExpectError("[[databases]]\nbinding = \"DB\"\n", "needs a \"name\" key");
  ExpectError("[[databases]]\nbinding = \"DB\"\nname = \"a\"\nnmae = \"b\"\n",
              "quarry.toml:4:8: unknown key \"nmae\"");
  ExpectError("[[databases]]\nbinding = 1\nname = \"a\"\n", "\"binding\" must be a string");
  ExpectError("title = \"x\"\n", "no [[databases]] entries");
}

TEST(BindingsTest, DuplicateBindingAndBadUrl) {
  ExpectError(
      "[[databases]]\nbinding = \"DB\"\nname = \"a\"\n[[databases]]\nbinding = \"DB\"\nname = "
      "\"b\"\n",
      "declared twice");
  ExpectError("url = \"ftp://x\"\n[[databases]]\nbinding = \"DB\"\nname = \"a\"\n",
              "quarry.toml:1:7:");
}

TEST(BindingsTest, Urls) {
  EXPECT_EQ(*BindingServerUrl("http://127.0.0.1:8080", "shop"), "http://127.0.0.1:8080/db/shop/");
  EXPECT_EQ(*BindingServerUrl("http://h:1/db/other/", "shop"), "http://h:1/db/shop/");
  EXPECT_EQ(*BindingServerUrl("libsql://db.example.com", "shop"),
            "https://db.example.com:443/db/shop/");
  EXPECT_EQ(BindingLocalUrl("shop"), "file:.quarry/shop.db");
  EXPECT_TRUE(ValidateBindingName("_A1").ok());
  EXPECT_FALSE(ValidateBindingName("a").ok());
  EXPECT_FALSE(ValidateBindingName("").ok());
}

}  // namespace
}  // namespace quarry::cli
