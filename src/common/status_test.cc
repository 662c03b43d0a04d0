#include "common/status.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace quarry {
namespace {

TEST(StatusTest, SqliteErrorsUsePrimaryCodeName) {
  Status st(ErrorCode::kSqlite, "UNIQUE constraint failed", SQLITE_CONSTRAINT_PRIMARYKEY);
  EXPECT_EQ(st.WireCode(), "SQLITE_CONSTRAINT");
  EXPECT_EQ(st.HttpStatus(), 400);
}

TEST(StatusTest, ProtocolCodes) {
  EXPECT_EQ(Status(ErrorCode::kStreamExpired, "x").WireCode(), "STREAM_EXPIRED");
  EXPECT_EQ(Status(ErrorCode::kPayloadTooLarge, "x").HttpStatus(), 413);
  EXPECT_TRUE(Status::Ok().ok());
}

// Issue 6, defect 8: every SQLite error was HTTP 400, also the server's own trouble.
TEST(StatusTest, SqliteErrorsMapToHttpByCause) {
  EXPECT_EQ(Status(ErrorCode::kSqlite, "busy", 5).HttpStatus(), 503);            // SQLITE_BUSY
  EXPECT_EQ(Status(ErrorCode::kSqlite, "locked", 6).HttpStatus(), 503);          // SQLITE_LOCKED
  EXPECT_EQ(Status(ErrorCode::kSqlite, "full", 13).HttpStatus(), 507);           // SQLITE_FULL
  EXPECT_EQ(Status(ErrorCode::kSqlite, "io", 10 | (3 << 8)).HttpStatus(), 500);  // IOERR_WRITE
  EXPECT_EQ(Status(ErrorCode::kSqlite, "corrupt", 11).HttpStatus(), 500);
  EXPECT_EQ(Status(ErrorCode::kSqlite, "auth", 23).HttpStatus(), 403);
  EXPECT_EQ(Status(ErrorCode::kSqlite, "syntax", 1).HttpStatus(), 400);
  EXPECT_EQ(Status(ErrorCode::kSqlite, "unique", 19 | (8 << 8)).HttpStatus(), 400);
}

// Issue 6, defect 8: one code served three different stored-SQL failures.
TEST(StatusTest, StoredSqlFailuresHaveTheirOwnCodes) {
  EXPECT_EQ(Status(ErrorCode::kSqlIdExists, "x").WireCode(), "SQL_EXISTS");
  EXPECT_EQ(Status(ErrorCode::kTooManyStoredSql, "x").WireCode(), "SQL_STORE_TOO_MANY");
  EXPECT_EQ(Status(ErrorCode::kStoredSqlTooLarge, "x").WireCode(), "SQL_STORE_TOO_LARGE");
}

TEST(StatusTest, ResultHoldsValueOrStatus) {
  Result<int> good = 4;
  Result<int> bad = Status(ErrorCode::kNotFound, "gone");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace quarry
