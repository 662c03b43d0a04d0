#include "cli/type_declarations.h"

#include <gtest/gtest.h>

#include "cli/generated_output_test_util.h"
#include "schema/binder.h"
#include "schema/loader.h"

namespace quarry::cli {
namespace {

using testing::ExpectMatchesFile;
using testing::LoadTestSchema;

schema::Schema Bind(const std::string& text) {
  Result<schema::Schema> bound = schema::LoadAndBindSchema(
      "main.schema", [&text](const std::string&) -> Result<std::string> { return text; });
  EXPECT_TRUE(bound.ok()) << bound.status().message();
  return bound.ok() ? *bound : schema::Schema{};
}

TEST(TypeDeclarations, BlogSchemaMatchesExpectedFile) {
  ExpectMatchesFile(TypeDeclarations(LoadTestSchema("blog.schema"), {.source = "blog.schema"}),
                    "blog.d.ts");
}

TEST(TypeDeclarations, IntegerStringsTypeIntegersAsNumberOrBigIntString) {
  std::string out = TypeDeclarations(Bind("model t { id Integer @id  n Integer?  r Real }"),
                                     {.source = "main.schema", .integer_strings = true});
  EXPECT_NE(out.find("  id: number | $q.BigIntString;\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  n: number | $q.BigIntString | null;\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  r: number;\n"), std::string::npos) << out;
}

TEST(TypeDeclarations, ClientModuleIsTheImport) {
  std::string out =
      TypeDeclarations(Bind("model t { id Integer @id }"),
                       {.source = "main.schema", .client_module = "../dist/index.js"});
  EXPECT_NE(out.find("import type * as $q from '../dist/index.js';"), std::string::npos) << out;
}

TEST(TypeDeclarations, CollidingTypeNamesGetSuffixes) {
  // `user_posts` and `userPosts` are both UserPosts; `Database` is the client's interface.
  std::string out = TypeDeclarations(
      Bind("model user_posts { id Integer @id }\nmodel userPosts { id Integer @id }\n"
           "model database { id Integer @id }\nmodel t { id Integer @id }\nmodel tWhere { id "
           "Integer @id }"),
      {.source = "main.schema"});
  EXPECT_NE(out.find("export interface UserPosts {"), std::string::npos) << out;
  EXPECT_NE(out.find("export interface UserPosts_2 {"), std::string::npos) << out;
  EXPECT_NE(out.find("export interface Database_2 {"), std::string::npos) << out;
  EXPECT_NE(out.find("export interface TWhere_2 {"), std::string::npos) << out;
  EXPECT_NE(out.find("  user_posts: UserPostsModel;\n  userPosts: UserPosts_2Model;\n"),
            std::string::npos)
      << out;
}

TEST(PascalCase, JoinsWordsAndAvoidsLeadingDigits) {
  EXPECT_EQ(PascalCase("users"), "Users");
  EXPECT_EQ(PascalCase("blog_posts"), "BlogPosts");
  EXPECT_EQ(PascalCase("userPosts"), "UserPosts");
  EXPECT_EQ(PascalCase("_1st"), "T1st");
}

}  // namespace
}  // namespace quarry::cli
