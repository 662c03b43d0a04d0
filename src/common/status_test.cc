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
