#include "cli/json_schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>

#include "cli/generated_output_test_util.h"

namespace quarry::cli {
namespace {

using testing::ExpectMatchesFile;
using testing::LoadTestSchema;

TEST(JsonSchemaDocument, BlogSchemaMatchesExpectedFile) {
  ExpectMatchesFile(JsonSchemaDocument(LoadTestSchema("blog.schema"), "blog.schema"),
                    "blog.schema.json");
}

TEST(JsonSchemaDocument, IsJsonWithOneDefinitionPerModelAndEnum) {
  boost::json::value doc =
      boost::json::parse(JsonSchemaDocument(LoadTestSchema("blog.schema"), "blog.schema"));
  const boost::json::object& defs = doc.at("$defs").as_object();
  for (const char* name : {"Role", "users", "posts", "blog_tags", "Integer", "Blob"}) {
    EXPECT_TRUE(defs.contains(name)) << name;
  }
  const boost::json::object& users = defs.at("users").as_object();
  EXPECT_FALSE(users.at("properties").as_object().contains("apiKey"));  // @secret
  const boost::json::array& required = users.at("required").as_array();
  EXPECT_NE(std::find(required.begin(), required.end(), boost::json::value("email")),
            required.end());
  EXPECT_EQ(std::find(required.begin(), required.end(), boost::json::value("bio")),
            required.end());  // @omit
}

}  // namespace
}  // namespace quarry::cli
