#include "schema/migration_json.h"

#include <gtest/gtest.h>

namespace quarry::schema {
namespace {

namespace json = boost::json;

TEST(MigrationJson, RequestRoundTripKeepsChecksumsAndDownSections) {
  auto set =
      MakeMigrationSet(MigrationFormat::kQuarry,
                       {{"20240101000000_a", "CREATE TABLE a (x);\n-- down\nDROP TABLE a;\n"},
                        {"20240102000000_b", "CREATE TABLE b (x);"}});
  ASSERT_TRUE(set.ok());
  json::object body = MigrationRequestJson(*set, true);
  bool force = false;
  auto back = MigrationSetFromJson(json::parse(json::serialize(body)).get_object(), &force);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(force);
  EXPECT_EQ(back->format, MigrationFormat::kQuarry);
  ASSERT_EQ(back->migrations.size(), 2u);
  EXPECT_EQ(back->migrations[0].checksum, set->migrations[0].checksum);
  EXPECT_TRUE(back->migrations[0].has_down);
}

TEST(MigrationJson, BadRequestsNameTheField) {
  bool force = false;
  auto missing = MigrationSetFromJson(json::object{{"format", "plain"}}, &force);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("\"migrations\""), std::string::npos);
  auto bad_format = MigrationSetFromJson(
      json::object{{"format", "flyway"}, {"migrations", json::array{}}}, &force);
  ASSERT_FALSE(bad_format.ok());
  EXPECT_NE(bad_format.status().message().find("flyway"), std::string::npos);
  auto bad_item = MigrationSetFromJson(
      json::object{{"migrations", json::array{json::object{{"id", "x"}}}}}, &force);
  ASSERT_FALSE(bad_item.ok());
  EXPECT_NE(bad_item.status().message().find("migrations[0] needs a string \"sql\""),
            std::string::npos);
}

TEST(MigrationJson, RecordedRoundTrip) {
  std::vector<AppliedMigration> rows{{"0001_a", "abc", 1700000000000, "plain"}};
  auto back = RecordedFromJson(RecordedJson(rows));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].id, "0001_a");
  EXPECT_EQ((*back)[0].applied_at_ms, 1700000000000);
  EXPECT_EQ((*back)[0].format, "plain");
  EXPECT_FALSE(RecordedFromJson(json::value(3)).ok());
}

}  // namespace
}  // namespace quarry::schema
