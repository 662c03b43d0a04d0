#include "server/router.h"

#include <gtest/gtest.h>

namespace quarry::server {
namespace {

TEST(RouterTest, LiteralsAndCapturesInOrder) {
  Router<int> router;
  router.Add("GET", "/namespaces", 1);
  router.Add("POST", "/namespaces", 2);
  router.Add("GET", "/namespaces/{ns}", 3);
  router.Add("POST", "/namespaces/{ns}/fork", 4);
  router.Add("GET", "/groups/{group}/migrations", 5);

  auto list = router.Find("GET", "/namespaces");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list->handler, 1);
  auto fork = router.Find("POST", "/namespaces/shop/fork");
  ASSERT_TRUE(fork.ok());
  EXPECT_EQ(*fork->handler, 4);
  EXPECT_EQ(fork->params.Get("ns"), "shop");
  EXPECT_EQ(fork->params.Get("other"), "");
  auto trailing = router.Find("GET", "/namespaces/shop/");
  ASSERT_TRUE(trailing.ok());
  EXPECT_EQ(*trailing->handler, 3);
}

TEST(RouterTest, WrongMethodNamesTheAllowedOnes) {
  Router<int> router;
  router.Add("GET", "/namespaces", 1);
  router.Add("POST", "/namespaces", 2);
  auto wrong = router.Find("DELETE", "/namespaces");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kMethodNotAllowed);
  EXPECT_NE(wrong.status().message().find("GET, POST"), std::string::npos)
      << wrong.status().message();
  auto missing = router.Find("GET", "/nothing/here");
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(router.Find("GET", "/namespaces/a/b/c").status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace quarry::server
