// PlanCache: a repeated request shape is served from the cache with the new request's values,
// and never answers differently than compiling it would.

#include "query/plan_cache.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "common/random.h"
#include "query/connection_runner.h"
#include "query/data_api.h"
#include "schema/binder.h"
#include "schema/ddl.h"
#include "storage/connection.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

constexpr const char* kSchema = R"(
model posts {
  id        Integer @id
  title     Text
  accountId Integer
  status    Text    @default("draft")

  @@allow('read', status == 'published' || accountId == auth().accountId)
}
)";

class PlanCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bound = schema::LoadAndBindSchema(
        "main.schema", [](const std::string&) { return Result<std::string>(kSchema); });
    ASSERT_TRUE(bound.ok()) << bound.status().message();
    schema_ = std::move(*bound);
    path_ = std::filesystem::temp_directory_path() / ("quarry-plan-" + RandomToken().substr(0, 12));
    auto conn = storage::Connection::Open(path_, {}, true);
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    for (const std::string& ddl : schema::GenerateDdl(schema_)) {
      ASSERT_TRUE(conn_->Exec(ddl).ok());
    }
    ASSERT_TRUE(conn_
                    ->Exec("INSERT INTO posts VALUES (1, 'a', 5, 'draft'), (2, 'b', 6, 'draft'),"
                           " (3, 'c', 6, 'published'), (4, 'd', 5, 'published')")
                    .ok());
  }
  void TearDown() override {
    conn_.reset();
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    std::filesystem::remove(path_.string() + "-wal", ec);
    std::filesystem::remove(path_.string() + "-shm", ec);
  }

  // Runs findMany through the cache as `identity`; the result's JSON text or the error message.
  std::string Find(const Identity& identity, const std::string& args) {
    CompileContext ctx{schema_, identity, "2024-01-01T00:00:00.000Z", nullptr};
    ctx.plans = &cache_;
    ctx.schema_generation = 1;
    ConnectionRunner runner(*conn_, 1 << 20);
    auto result = RunOperation(ctx, "posts", "findMany", json::parse(args), runner);
    return result.ok() ? *result : "error: " + result.status().message();
  }

  schema::Schema schema_;
  std::filesystem::path path_;
  std::unique_ptr<storage::Connection> conn_;
  PlanCache cache_;
};

TEST_F(PlanCacheTest, RepeatedShapeHitsWithNewValues) {
  Identity service = Identity::Service(true);
  EXPECT_EQ(Find(service, R"({"where": {"id": 1}, "select": {"id": true}})"), R"([{"id":1}])");
  EXPECT_EQ(cache_.misses(), 1u);
  EXPECT_EQ(Find(service, R"({"where": {"id": 2}, "select": {"id": true}})"), R"([{"id":2}])");
  EXPECT_EQ(Find(service, R"({"where": {"id": {"in": [3, 4]}}, "select": {"id": true}})"),
            R"([{"id":3},{"id":4}])");
  EXPECT_EQ(Find(service, R"({"where": {"id": {"in": [1, 2]}}, "select": {"id": true}})"),
            R"([{"id":1},{"id":2}])");
  EXPECT_EQ(cache_.hits(), 2u);
  EXPECT_EQ(cache_.misses(), 2u);
  // A null item is part of the shape (IS NULL in the SQL); the other items bind per request.
  EXPECT_EQ(Find(service, R"({"where": {"title": {"in": ["a", null]}}, "select": {"id": true}})"),
            R"([{"id":1}])");
  EXPECT_EQ(Find(service, R"({"where": {"title": {"in": ["c", null]}}, "select": {"id": true}})"),
            R"([{"id":3}])");
  EXPECT_EQ(cache_.hits(), 3u);
}

TEST_F(PlanCacheTest, ValuesTheSqlDependsOnArePinned) {
  Identity service = Identity::Service(true);
  EXPECT_EQ(Find(service, R"({"orderBy": {"id": "asc"}, "limit": 1, "select": {"id": true}})"),
            R"([{"id":1}])");
  EXPECT_EQ(Find(service, R"({"orderBy": {"id": "desc"}, "limit": 1, "select": {"id": true}})"),
            R"([{"id":4}])");
  EXPECT_EQ(Find(service, R"({"orderBy": {"id": "desc"}, "limit": 2, "select": {"id": true}})"),
            R"([{"id":4},{"id":3}])");
  EXPECT_EQ(cache_.hits(), 1u);
  // null changes the SQL (IS NULL), so it is part of the shape.
  EXPECT_EQ(Find(service, R"({"where": {"title": null}})"), "[]");
  EXPECT_EQ(Find(service, R"({"where": {"title": "a"}, "select": {"id": true}})"), R"([{"id":1}])");
}

TEST_F(PlanCacheTest, ClaimsBindPerCaller) {
  Identity five = Identity::User(json::parse(R"({"accountId": 5})").as_object());
  Identity six = Identity::User(json::parse(R"({"accountId": 6})").as_object());
  Identity none = Identity::User(json::object());
  const std::string args = R"({"select": {"id": true}, "orderBy": {"id": "asc"}})";
  EXPECT_EQ(Find(five, args), R"([{"id":1},{"id":3},{"id":4}])");
  EXPECT_EQ(Find(six, args), R"([{"id":2},{"id":3},{"id":4}])");
  EXPECT_EQ(Find(none, args), R"([{"id":3},{"id":4}])");
  EXPECT_EQ(cache_.hits(), 2u);
  // Service callers have their own plans: no policy.
  EXPECT_EQ(Find(Identity::Service(false), args), R"([{"id":1},{"id":2},{"id":3},{"id":4}])");
}

TEST_F(PlanCacheTest, BadValuesOnAHitFailAsCompilingWould) {
  Identity service = Identity::Service(true);
  EXPECT_EQ(Find(service, R"({"where": {"id": 1}, "limit": 1})"),
            R"([{"id":1,"title":"a","accountId":5,"status":"draft"}])");
  EXPECT_EQ(Find(service, R"({"where": {"id": "x"}, "limit": 1})"),
            "error: where.id: expected an integer (a number, or a decimal string past 2^53), "
            "got \"x\"");
  EXPECT_EQ(Find(service, R"({"where": {"id": 1}, "limit": -3})"),
            "error: limit: expected a non-negative integer, got -3");
}

}  // namespace
}  // namespace quarry::query
