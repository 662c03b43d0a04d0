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
  score     Integer?

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
                    ->Exec("INSERT INTO posts (id, title, accountId, status, score) VALUES"
                           " (1, 'a', 5, 'draft', NULL), (2, 'b', 6, 'draft', 20),"
                           " (3, 'c', 6, 'published', NULL), (4, 'd', 5, 'published', 40)")
                    .ok());
  }
  void TearDown() override {
    conn_.reset();
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    std::filesystem::remove(path_.string() + "-wal", ec);
    std::filesystem::remove(path_.string() + "-shm", ec);
  }

  // Runs `op` (findMany) through the cache as `identity`; the result's JSON text or the error
  // message.
  std::string Find(const Identity& identity, const std::string& args,
                   const std::string& op = "findMany") {
    CompileContext ctx{schema_, identity, "2024-01-01T00:00:00.000Z",
                       [](std::string_view payload) { return "mac of " + std::string(payload); }};
    ctx.plans = &cache_;
    ctx.schema_generation = 1;
    ConnectionRunner runner(*conn_, 1 << 20);
    auto result = RunOperation(ctx, "posts", op, json::parse(args), runner);
    return result.ok() ? *result : "error: " + result.status().message();
  }

  // As Find, compiled without the cache.
  std::string Compile(const Identity& identity, const std::string& args,
                      const std::string& op = "findMany") {
    CompileContext ctx{schema_, identity, "2024-01-01T00:00:00.000Z",
                       [](std::string_view payload) { return "mac of " + std::string(payload); }};
    ConnectionRunner runner(*conn_, 1 << 20);
    auto result = RunOperation(ctx, "posts", op, json::parse(args), runner);
    return result.ok() ? *result : "error: " + result.status().message();
  }

  // One findManyCursor page as "ids|nextCursor" ("1,2|<cursor>", "3|null"), or the error.
  std::string Page(const std::string& args) {
    std::string result = Find(Identity::Service(true), args, "findManyCursor");
    if (result.starts_with("error: ")) {
      return result;
    }
    json::value page = json::parse(result);
    std::string ids;
    for (const json::value& item : page.at("items").as_array()) {
      ids += (ids.empty() ? "" : ",") + json::serialize(item.at("id"));
    }
    const json::value& next = page.at("nextCursor");
    return ids + "|" + (next.is_null() ? "null" : std::string(next.as_string()));
  }
  // The arguments of a page after `page` (a Page result) with `shape`'s other arguments.
  static std::string After(const std::string& page, const std::string& shape) {
    std::string cursor = page.substr(page.find('|') + 1);
    return "{" + shape + R"(, "cursor": ")" + cursor + R"("})";
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
            R"([{"id":1,"title":"a","accountId":5,"status":"draft","score":null}])");
  EXPECT_EQ(Find(service, R"({"where": {"id": "x"}, "limit": 1})"),
            "error: where.id: expected an integer (a number, or a decimal string past 2^53), "
            "got \"x\"");
  EXPECT_EQ(Find(service, R"({"where": {"id": 1}, "limit": -3})"),
            "error: limit: expected a non-negative integer, got -3");
}

TEST_F(PlanCacheTest, CursorPagesHitWithTheirOwnKeysAndPageSize) {
  const std::string shape = R"("orderBy": {"id": "asc"}, "select": {"id": true})";
  std::string first = Page("{" + shape + R"(, "limit": 1})");
  EXPECT_EQ(first.substr(0, 2), "1|");
  std::string second = Page(After(first, shape + R"(, "limit": 1)"));
  EXPECT_EQ(second.substr(0, 2), "2|");
  const uint64_t misses = cache_.misses();
  EXPECT_EQ(misses, 2u);  // the first page, and pages after a cursor
  std::string third = Page(After(second, shape + R"(, "limit": 1)"));
  EXPECT_EQ(third.substr(0, 2), "3|");
  // Another page size binds on the same plan.
  EXPECT_EQ(Page(After(first, shape + R"(, "limit": 3)")), "2,3,4|null");
  EXPECT_EQ(Page("{" + shape + R"(, "limit": 2})").substr(0, 4), "1,2|");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(cache_.hits(), 3u);
  // The cursor is verified on a hit, and the page size checked.
  std::string altered = After(second, shape + R"(, "limit": 1)");
  altered[altered.rfind('.') + 1] ^= 1;
  EXPECT_EQ(Page(altered), "error: cursor: not a cursor this server issued (or it was altered)");
  EXPECT_EQ(Page(After(second, shape + R"(, "limit": 0)")),
            "error: limit: a page holds at least one row");
  EXPECT_EQ(Page(After(second, shape + R"(, "limit": -1)")),
            "error: limit: expected a non-negative integer, got -1");
  EXPECT_EQ(cache_.misses(), misses);
}

TEST_F(PlanCacheTest, CursorKeysThatAreNullAreAnotherShape) {
  // Nulls sort first: 1 (null), 3 (null), 2 (20), 4 (40).
  const std::string shape = R"("orderBy": {"score": "asc"}, "select": {"id": true}, "limit": 1)";
  std::string first = Page("{" + shape + "}");
  EXPECT_EQ(first.substr(0, 2), "1|");
  std::string second = Page(After(first, shape));  // after (null, 1)
  EXPECT_EQ(second.substr(0, 2), "3|");
  const uint64_t misses = cache_.misses();
  std::string third = Page(After(second, shape));  // after (null, 3): the same plan
  EXPECT_EQ(third.substr(0, 2), "2|");
  EXPECT_EQ(cache_.misses(), misses);
  std::string fourth = Page(After(third, shape));  // after (20, 2): no null key
  EXPECT_EQ(fourth, "4|null");
  EXPECT_EQ(cache_.misses(), misses + 1);
}

// A plan finds a request's values by dotted paths ("window.w.filter.score.gt"), so a window
// named "a.b" had its filter value looked up at window.a.b..., found nothing, and a hit bound
// NULL: the count came out 0 for every request after the first. Such requests are not cached.
TEST_F(PlanCacheTest, WindowNameWithADotBindsItsOwnValues) {
  Identity service = Identity::Service(true);
  auto args = [](int gt) {
    return R"({"select": {"id": true}, "orderBy": {"id": "asc"}, "limit": 1,)"
           R"( "window": {"a.b": {"count": true, "filter": {"score": {"gt": )" +
           std::to_string(gt) + "}}}}}";
  };
  EXPECT_EQ(Find(service, args(10)), R"([{"id":1,"a.b":2}])");
  EXPECT_EQ(Find(service, args(30)), R"([{"id":1,"a.b":1}])");
  EXPECT_EQ(Find(service, args(30)), Compile(service, args(30)));
  EXPECT_EQ(cache_.hits(), 0u);
}

// A key holds the skeleton of every argument, so 2,048 requests with long `in` lists (the body
// may be 10 MiB) could keep gigabytes. A plan larger than 32 KiB is not kept.
TEST_F(PlanCacheTest, ALargeRequestIsNotKept) {
  Identity service = Identity::Service(true);
  auto args = [](int first) {
    json::array ids;
    for (int i = 0; i < 20000; ++i) {
      ids.emplace_back(first + i);
    }
    return R"({"select": {"id": true}, "where": {"id": {"in": )" + json::serialize(ids) + "}}}";
  };
  EXPECT_EQ(Find(service, args(-19998)), R"([{"id":1}])");
  EXPECT_EQ(Find(service, args(-19997)), R"([{"id":1},{"id":2}])");
  EXPECT_EQ(cache_.hits(), 0u);
  EXPECT_EQ(cache_.misses(), 2u);
  // A small request of the same kind still is.
  EXPECT_EQ(Find(service, R"({"select": {"id": true}, "where": {"id": {"in": [1]}}})"),
            R"([{"id":1}])");
  EXPECT_EQ(Find(service, R"({"select": {"id": true}, "where": {"id": {"in": [2]}}})"),
            R"([{"id":2}])");
  EXPECT_EQ(cache_.hits(), 1u);
}
}  // namespace
}  // namespace quarry::query
