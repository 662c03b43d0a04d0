#include "storage/namespace_name.h"

#include <gtest/gtest.h>

#include <string>

namespace quarry::storage {
namespace {

TEST(NamespaceNameTest, AcceptsValidNames) {
  for (const char* name : {"a", "shop", "tenant-42", "a_b", "0abc", "default"}) {
    EXPECT_TRUE(ValidateNamespaceName(name).ok()) << name;
  }
  EXPECT_TRUE(ValidateNamespaceName(std::string(63, 'x')).ok());
}

TEST(NamespaceNameTest, RejectsInvalidNames) {
  for (const char* name : {"", "Shop", "-a", "_a", "a.b", "a/b", "..", "a b", "é"}) {
    Status st = ValidateNamespaceName(name);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidName) << name;
    EXPECT_FALSE(st.message().empty());
  }
  EXPECT_EQ(ValidateNamespaceName(std::string(64, 'x')).code(), ErrorCode::kInvalidName);
}

}  // namespace
}  // namespace quarry::storage
