#include "common/base64.h"

#include <gtest/gtest.h>

namespace quarry {
namespace {

TEST(Base64Test, RoundTripsAllLengths) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    ASSERT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
    ASSERT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
    bytes.push_back(static_cast<char>(i * 37));
  }
}

TEST(Base64Test, AcceptsMissingPadding) {
  EXPECT_EQ(Base64Decode("aGk="), "hi");
  EXPECT_EQ(Base64Decode("aGk"), "hi");
  EXPECT_EQ(Base64Decode("AAEC"), std::string("\x00\x01\x02", 3));
}

TEST(Base64Test, RejectsBadInput) {
  EXPECT_EQ(Base64Decode("a"), std::nullopt);
  EXPECT_EQ(Base64Decode("a$bc"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("ab+c"), std::nullopt);
}

}  // namespace
}  // namespace quarry
