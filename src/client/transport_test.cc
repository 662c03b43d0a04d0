#include "client/transport.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "client/client.h"

namespace quarry::client {
namespace {

TEST(StatusFromErrorBodyTest, SqliteCodeFromServerBody) {
  Status st = StatusFromErrorBody(
      400, R"({"message":"UNIQUE constraint failed: t.id","code":"SQLITE_CONSTRAINT"})", "x");
  EXPECT_EQ(st.code(), ErrorCode::kSqlite);
  EXPECT_EQ(st.WireCode(), "SQLITE_CONSTRAINT");
  EXPECT_EQ(st.message(), "UNIQUE constraint failed: t.id");
}

TEST(StatusFromErrorBodyTest, RawCodeKeepsExtendedCode) {
  Status st = StatusFromErrorBody(
      400, R"({"message":"m","code":"SQLITE_CONSTRAINT","raw_code":1555})", "x");
  EXPECT_EQ(st.sqlite_code(), 1555);
  EXPECT_EQ(st.WireCode(), "SQLITE_CONSTRAINT");
}

TEST(StatusFromErrorBodyTest, QuarryCodes) {
  Status exists = StatusFromErrorBody(
      409, R"({"message":"namespace 'shop' already exists","code":"ALREADY_EXISTS"})", "x");
  EXPECT_EQ(exists.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(exists.message(), "namespace 'shop' already exists");
  Status forbidden = StatusFromErrorBody(403, R"({"message":"no","code":"FORBIDDEN"})", "x");
  EXPECT_EQ(forbidden.code(), ErrorCode::kForbidden);
}

TEST(StatusFromErrorBodyTest, NonJsonBodyNamesStatus) {
  Status st = StatusFromErrorBody(502, "Bad Gateway\n", "http://h:1");
  EXPECT_EQ(st.message(), "http://h:1 answered HTTP 502: Bad Gateway");
  Status unknown = StatusFromErrorBody(401, "", "http://h:1");
  EXPECT_EQ(unknown.code(), ErrorCode::kUnauthorized);
}

TEST(HttpTransportTest, ConnectionRefusedSaysSo) {
  // Port 1 on loopback: nothing listens there in a test environment.
  auto client = Client::Open("http://127.0.0.1:1", "");
  ASSERT_TRUE(client.ok());
  auto rs = (*client)->Execute("SELECT 1", {});
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(rs.status().message().find("cannot connect to http://127.0.0.1:1"), std::string::npos)
      << rs.status().message();
  EXPECT_NE(rs.status().message().find("quarry serve"), std::string::npos);
}

TEST(LocalTransportTest, ExecuteOnLocalFile) {
  auto dir =
      std::filesystem::temp_directory_path() / ("quarry_client_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = (dir / "local.db").string();
  {
    auto client = Client::Open("file:" + path, "");
    ASSERT_TRUE(client.ok()) << client.status().message();
    ASSERT_TRUE((*client)->ExecuteMultiple("CREATE TABLE t(a); INSERT INTO t VALUES (41);").ok());
    auto rs = (*client)->Execute("SELECT a + ? AS b FROM t", {Integer(1)});
    ASSERT_TRUE(rs.ok()) << rs.status().message();
    ASSERT_EQ(rs->columns, std::vector<std::string>{"b"});
    ASSERT_EQ(rs->rows.size(), 1u);
    EXPECT_TRUE(SameValue(rs->rows[0][0], Integer(42))) << DebugString(rs->rows[0][0]);
  }
  EXPECT_TRUE(std::filesystem::exists(path));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace quarry::client
