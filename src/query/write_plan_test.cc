// Cached write statements (plan_cache.h, CompileStatement): a repeated write shape runs with no
// compile and binds the new request's values, while transforms, validators, policies and gates
// still hold for every request and caller; another shape or schema compiles again.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "common/random.h"
#include "query/connection_runner.h"
#include "query/data_api.h"
#include "query/plan_cache.h"
#include "schema/binder.h"
#include "schema/ddl.h"
#include "storage/connection.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

constexpr const char* kSchema = R"(
model accounts {
  id    Integer @id
  name  Text
  posts posts[]

  @@gate("1.0.0.0")
}

model posts {
  id        Integer  @id
  title     Text     @trim @length(1, 20)
  status    Text     @default("draft")
  views     Integer  @default(0)
  account   accounts @relation(fields: [accountId], references: [id])
  accountId Integer

  @@allow('read', status == 'published' || accountId == auth().accountId)
  @@allow('create', accountId == auth().accountId, "you may only post to your own account")
  @@allow('update', accountId == auth().accountId)
  @@allow('delete', accountId == auth().accountId)
}
)";

class WritePlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bound = schema::LoadAndBindSchema(
        "main.schema", [](const std::string&) { return Result<std::string>(kSchema); });
    ASSERT_TRUE(bound.ok()) << bound.status().message();
    schema_ = std::move(*bound);
    path_ = std::filesystem::temp_directory_path() /
            ("quarry-write-plan-" + RandomToken().substr(0, 12));
    auto conn = storage::Connection::Open(path_, {}, true);
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    for (const std::string& ddl : schema::GenerateDdl(schema_)) {
      ASSERT_TRUE(conn_->Exec(ddl).ok());
    }
    ASSERT_TRUE(conn_->Exec("INSERT INTO accounts VALUES (5, 'five'), (6, 'six')").ok());
  }
  void TearDown() override {
    conn_.reset();
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    std::filesystem::remove(path_.string() + "-wal", ec);
    std::filesystem::remove(path_.string() + "-shm", ec);
  }

  // Runs `op` on posts as `identity` in a write transaction (rolled back on an error), through
  // the cache; the result's JSON text, or the error's HTTP status and message.
  std::string Run(const Identity& identity, const std::string& op, const std::string& args,
                  const std::string& model = "posts") {
    CompileContext ctx{schema_, identity, "2024-01-01T00:00:00.000Z", nullptr};
    ctx.plans = &cache_;
    ctx.schema_generation = generation_;
    ConnectionRunner runner(*conn_, 1 << 20);
    EXPECT_TRUE(conn_->Exec("BEGIN IMMEDIATE").ok());
    auto result = RunOperation(ctx, model, op, json::parse(args), runner);
    if (!result.ok()) {
      EXPECT_TRUE(conn_->RollbackIfOpen().ok());
      return std::to_string(result.status().HttpStatus()) + " " + result.status().message();
    }
    EXPECT_TRUE(conn_->Exec("COMMIT").ok());
    return *result;
  }

  // The posts table, read with plain SQL: "id,title,status,views,accountId" rows joined by ';'.
  std::string Rows() {
    ConnectionRunner runner(*conn_, 1 << 20);
    auto rows = runner.Run("SELECT id, title, status, views, accountId FROM posts ORDER BY id", {});
    EXPECT_TRUE(rows.ok());
    std::string out;
    for (const Row& row : *rows) {
      out += out.empty() ? "" : ";";
      for (size_t i = 0; i < row.size(); ++i) {
        out += i ? "," : "";
        out += row[i].type == storage::Value::Type::kInteger ? std::to_string(row[i].integer)
                                                             : row[i].bytes;
      }
    }
    return out;
  }

  void Seed() {
    ASSERT_TRUE(conn_
                    ->Exec("INSERT INTO posts VALUES (1, 'a', 'draft', 0, 5), (2, 'b', 'draft', "
                           "0, 6), (3, 'c', 'published', 0, 6), (4, 'd', 'draft', 0, 5)")
                    .ok());
  }

  const Identity service_ = Identity::Service(true);
  const Identity five_ = Identity::User(json::parse(R"({"accountId": 5})").as_object());
  const Identity six_ = Identity::User(json::parse(R"({"accountId": 6})").as_object());
  schema::Schema schema_;
  std::filesystem::path path_;
  std::unique_ptr<storage::Connection> conn_;
  PlanCache cache_;
  uint64_t generation_ = 1;
};

TEST_F(WritePlanTest, RepeatedCreateHitsAndBindsTheNewValues) {
  const std::string shape = R"("select": {"id": true, "title": true, "views": true})";
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 1, "title": " a ", "accountId": 5}, )" + shape + "}"),
            R"({"id":1,"title":"a","views":0})");
  const uint64_t misses = cache_.misses();
  EXPECT_EQ(misses, 2u);  // the INSERT and the read back
  EXPECT_EQ(cache_.hits(), 0u);
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 2, "title": "  b  ", "accountId": 6}, )" + shape + "}"),
            R"({"id":2,"title":"b","views":0})");
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 3, "title": "c", "accountId": 5}, )" + shape + "}"),
            R"({"id":3,"title":"c","views":0})");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(cache_.hits(), 4u);
  EXPECT_EQ(Rows(), "1,a,draft,0,5;2,b,draft,0,6;3,c,draft,0,5");
}

TEST_F(WritePlanTest, ValidatorsAndTransformsRunOnAHit) {
  const std::string shape = R"("select": {"title": true})";
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 1, "title": "ok", "accountId": 5}, )" + shape + "}"),
            R"({"title":"ok"})");
  const uint64_t misses = cache_.misses();
  const uint64_t hits = cache_.hits();
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 2, "title": "   ", "accountId": 5}, )" + shape + "}"),
            "422 data.title: 'title' must be between 1 and 20 characters long (@length), got 0");
  EXPECT_EQ(
      Run(service_, "create", R"({"data": {"id": 1, "title": "x", "accountId": 5}, )" + shape + "}")
          .substr(0, 4),
      "409 ");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(cache_.hits(), hits + 1);  // the 422 came before any statement; the 409's INSERT
  EXPECT_EQ(Rows(), "1,ok,draft,0,5");
}

TEST_F(WritePlanTest, CreatePolicyHoldsForAnotherCallerOnAHit) {
  const std::string args = R"({"data": {"id": 1, "title": "mine", "accountId": 5}})";
  EXPECT_EQ(Run(five_, "create", args),
            R"({"id":1,"title":"mine","status":"draft","views":0,"accountId":5})");
  const uint64_t misses = cache_.misses();
  const uint64_t hits = cache_.hits();
  EXPECT_EQ(Run(six_, "create", R"({"data": {"id": 2, "title": "theirs", "accountId": 5}})"),
            "403 you may only post to your own account");
  EXPECT_EQ(Run(six_, "create", R"({"data": {"id": 2, "title": "own", "accountId": 6}})"),
            R"({"id":2,"title":"own","status":"draft","views":0,"accountId":6})");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(cache_.hits(), hits + 3);  // the refused INSERT; INSERT and read back
  EXPECT_EQ(Rows(), "1,mine,draft,0,5;2,own,draft,0,6");
}

TEST_F(WritePlanTest, UpdateHitsBindsAndKeepsTheUpdatePolicy) {
  Seed();
  EXPECT_EQ(Run(five_, "update", R"({"where": {"id": 1}, "data": {"title": "x"}})"),
            R"({"id":1,"title":"x","status":"draft","views":0,"accountId":5})");
  const uint64_t misses = cache_.misses();
  const uint64_t hits = cache_.hits();
  EXPECT_EQ(Run(five_, "update", R"({"where": {"id": 4}, "data": {"title": " y "}})"),
            R"({"id":4,"title":"y","status":"draft","views":0,"accountId":5})");
  // Post 2 is six's: for five it is as missing.
  EXPECT_EQ(Run(five_, "update", R"({"where": {"id": 2}, "data": {"title": "z"}})"), "null");
  EXPECT_EQ(Run(six_, "update", R"({"where": {"id": 1}, "data": {"title": "z"}})"), "null");
  EXPECT_EQ(Run(six_, "update", R"({"where": {"id": 2}, "data": {"title": ""}})"),
            "422 data.title: 'title' must be between 1 and 20 characters long (@length), got 0");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(cache_.hits(), hits + 6);  // targets, UPDATE, read back; targets three times
  EXPECT_EQ(Rows(), "1,x,draft,0,5;2,b,draft,0,6;3,c,published,0,6;4,y,draft,0,5");
}

TEST_F(WritePlanTest, AtomicUpdatesKeepTheirOperatorAndBindTheOperand) {
  Seed();
  const std::string select = R"(, "select": {"views": true}})";
  EXPECT_EQ(Run(service_, "update",
                R"({"where": {"id": 1}, "data": {"views": {"increment": 2}})" + select),
            R"({"views":2})");
  const uint64_t misses = cache_.misses();
  const uint64_t hits = cache_.hits();
  EXPECT_EQ(Run(service_, "update",
                R"({"where": {"id": 1}, "data": {"views": {"increment": 3}})" + select),
            R"({"views":5})");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(cache_.hits(), hits + 3);
  // Another operator is another statement, though the arguments' skeleton is the same.
  EXPECT_EQ(Run(service_, "update",
                R"({"where": {"id": 1}, "data": {"views": {"decrement": 4}})" + select),
            R"({"views":1})");
  EXPECT_EQ(Run(service_, "update", R"({"where": {"id": 1}, "data": {"views": 9})" + select),
            R"({"views":9})");
  EXPECT_GT(cache_.misses(), misses);
}

TEST_F(WritePlanTest, UpsertHitsOnBothPaths) {
  Seed();
  auto upsert = [](int id, const std::string& title) {
    return R"({"where": {"id": )" + std::to_string(id) + R"(}, "create": {"id": )" +
           std::to_string(id) + R"(, "title": ")" + title +
           R"(", "accountId": 5}, "update": {"title": ")" + title +
           R"("}, "select": {"id": true, "title": true}})";
  };
  EXPECT_EQ(Run(five_, "upsert", upsert(10, "new")), R"({"id":10,"title":"new"})");
  EXPECT_EQ(Run(five_, "upsert", upsert(10, "again")), R"({"id":10,"title":"again"})");
  const uint64_t misses = cache_.misses();
  const uint64_t hits = cache_.hits();
  EXPECT_EQ(Run(five_, "upsert", upsert(11, "other")), R"({"id":11,"title":"other"})");
  EXPECT_EQ(Run(five_, "upsert", upsert(1, "old")), R"({"id":1,"title":"old"})");
  // Post 2 exists and is six's: left alone, answered as null, never created twice.
  EXPECT_EQ(Run(five_, "upsert", upsert(2, "taken")), "null");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(cache_.hits(), hits + 9);  // 3 creating, 4 updating, 2 finding no row to update
  EXPECT_EQ(Rows(),
            "1,old,draft,0,5;2,b,draft,0,6;3,c,published,0,6;4,d,draft,0,5;10,again,draft,0,5;"
            "11,other,draft,0,5");
}

TEST_F(WritePlanTest, DeleteHitsAndKeepsTheDeletePolicy) {
  Seed();
  EXPECT_EQ(Run(five_, "delete", R"({"where": {"id": 1}, "select": {"id": true}})"), R"({"id":1})");
  const uint64_t misses = cache_.misses();
  const uint64_t hits = cache_.hits();
  EXPECT_EQ(Run(five_, "delete", R"({"where": {"id": 4}, "select": {"id": true}})"), R"({"id":4})");
  EXPECT_EQ(Run(five_, "delete", R"({"where": {"id": 2}, "select": {"id": true}})"), "null");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(cache_.hits(), hits + 4);  // targets, read back, DELETE; targets
  EXPECT_EQ(Rows(), "2,b,draft,0,6;3,c,published,0,6");
}

TEST_F(WritePlanTest, CreateManyRowsShareOneStatement) {
  EXPECT_EQ(Run(service_, "createMany",
                R"({"data": [{"id": 1, "title": "a", "accountId": 5},
                             {"id": 2, "title": " b", "accountId": 6},
                             {"id": 3, "title": "c", "accountId": 5}]})"),
            R"({"count":3})");
  EXPECT_EQ(cache_.misses(), 1u);
  EXPECT_EQ(cache_.hits(), 2u);
  EXPECT_EQ(Run(service_, "createMany",
                R"({"data": [{"id": 4, "title": "d", "accountId": 5},
                             {"id": 5, "title": "", "accountId": 6}]})"),
            "422 data.1.title: 'title' must be between 1 and 20 characters long (@length), got 0");
  EXPECT_EQ(Run(six_, "createMany",
                R"({"data": [{"id": 4, "title": "d", "accountId": 6},
                             {"id": 5, "title": "e", "accountId": 5}]})"),
            "403 you may only post to your own account");
  EXPECT_EQ(Run(six_, "createMany", R"({"data": [{"id": 4, "title": "d", "accountId": 6}]})"),
            R"({"count":1})");
  // One statement for service callers and one for users.
  EXPECT_EQ(cache_.misses(), 2u);
  EXPECT_EQ(Rows(), "1,a,draft,0,5;2,b,draft,0,6;3,c,draft,0,5;4,d,draft,0,6");
}

TEST_F(WritePlanTest, UpdateManyAndDeleteManyHitWithNewWheres) {
  Seed();
  EXPECT_EQ(Run(five_, "updateMany", R"({"where": {"title": "a"}, "data": {"status": "x"}})"),
            R"({"count":1})");
  const uint64_t misses = cache_.misses();
  const uint64_t hits = cache_.hits();
  // Five may update only its own posts: "b" is six's.
  EXPECT_EQ(Run(five_, "updateMany",
                R"({"where": {"title": {"in": ["b", "d"]}}, "data": {"status": "y"}})"),
            R"({"count":1})");
  EXPECT_GT(cache_.misses(), misses);  // `in` is another where shape
  EXPECT_EQ(Run(six_, "updateMany",
                R"({"where": {"title": {"in": ["a", "b"]}}, "data": {"status": "z"}})"),
            R"({"count":1})");
  EXPECT_EQ(Run(six_, "deleteMany", R"({"where": {"status": "published"}})"), R"({"count":1})");
  const uint64_t after_delete = cache_.misses();
  EXPECT_EQ(Run(six_, "deleteMany", R"({"where": {"status": "x"}})"), R"({"count":0})");
  EXPECT_EQ(cache_.misses(), after_delete);
  EXPECT_EQ(cache_.hits(), hits + 2);  // six's updateMany; the second deleteMany's targets
  EXPECT_EQ(Rows(), "1,a,x,0,5;2,b,z,0,6;4,d,y,0,5");
}

TEST_F(WritePlanTest, ConnectBindsTheNewTarget) {
  const std::string select = R"(, "select": {"id": true, "accountId": true}})";
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 1, "title": "a", "account": {"connect": {"id": 5}}})" + select),
            R"({"id":1,"accountId":5})");
  const uint64_t misses = cache_.misses();
  const uint64_t hits = cache_.hits();
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 2, "title": "b", "account": {"connect": {"id": 6}}})" + select),
            R"({"id":2,"accountId":6})");
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 3, "title": "c", "account": {"connect": {"id": 7}}})" + select),
            "404 data.account.connect: no accounts row matches the connect");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(cache_.hits(), hits + 5);  // connect, referenced key, INSERT, read back; connect
  EXPECT_EQ(Rows(), "1,a,draft,0,5;2,b,draft,0,6");
}

TEST_F(WritePlanTest, GatesOfTheReadBackAreCheckedForEachCaller) {
  const Identity reader =
      Identity::User(json::parse(R"({"accountId": 5, "level": 1})").as_object());
  const Identity locked_out =
      Identity::User(json::parse(R"({"accountId": 5, "level": 0})").as_object());
  const std::string shape = R"(, "select": {"id": true, "account": true}})";
  EXPECT_EQ(Run(reader, "create", R"({"data": {"id": 1, "title": "a", "accountId": 5})" + shape),
            R"({"id":1,"account":{"id":5,"name":"five"}})");
  const uint64_t misses = cache_.misses();
  const uint64_t hits = cache_.hits();
  EXPECT_EQ(
      Run(locked_out, "create", R"({"data": {"id": 2, "title": "b", "accountId": 5})" + shape),
      "403 model 'accounts' refuses read: @@gate needs level 1, the caller has 0");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(cache_.hits(), hits + 2);  // the read back's plan was found, and its gate refused
  EXPECT_EQ(Rows(), "1,a,draft,0,5");
}

// A hit checked every gate before the page size and the values, where compiling checks the
// page size first and an include's gate when it meets the include: a caller the include's gate
// refuses got 403 for a page of 0 rows, where compiling answers 400. A hit whose checks fail is
// compiled again for its error now.
TEST_F(WritePlanTest, RefusalsAndBadValuesFailAsCompilingWould) {
  Seed();
  const Identity reader =
      Identity::User(json::parse(R"({"accountId": 5, "level": 1})").as_object());
  const Identity locked_out =
      Identity::User(json::parse(R"({"accountId": 5, "level": 0})").as_object());
  const std::string page = R"({"include": {"account": true}, "orderBy": {"id": "asc"}, "limit": )";
  EXPECT_TRUE(Run(reader, "findManyCursor", page + "10}").starts_with(R"({"items":[{"id":1,)"));
  EXPECT_EQ(Run(locked_out, "findManyCursor", page + "0}"),
            "400 limit: a page holds at least one row");
  EXPECT_EQ(Run(locked_out, "findManyCursor", page + "10}"),
            "403 model 'accounts' refuses read: @@gate needs level 1, the caller has 0");
  EXPECT_EQ(cache_.hits(), 2u);
  EXPECT_EQ(cache_.misses(), 1u);
}

// `_count: {select: {posts: {where}}}` compiled its where under the path _count.posts.where,
// where the values are at _count.select.posts.where: a hit found nothing there and bound NULL,
// so the same request counted 0 the second time, an `in` list or a `contains` there crashed the
// server (a JSON null read as an array or a string), and errors named a path the request lacks.
TEST_F(WritePlanTest, CountsOfRelationsBindTheirWhereOnAHit) {
  Seed();
  const std::string args =
      R"({"where": {"id": 6}, "select": {"id": true,)"
      R"( "_count": {"select": {"posts": {"where": {"status": "published"}}}}}})";
  EXPECT_EQ(Run(service_, "findMany", args, "accounts"), R"([{"id":6,"_count":{"posts":1}}])");
  EXPECT_EQ(Run(service_, "findMany", args, "accounts"), R"([{"id":6,"_count":{"posts":1}}])");
  EXPECT_EQ(cache_.hits(), 1u);
  // A list or a text operand bound from a missing value read a JSON null as an array or a
  // string: the hit crashed the server.
  const std::string lists =
      R"({"where": {"id": 6}, "select": {"id": true, "_count": {"select": {"posts":)"
      R"( {"where": {"title": {"in": ["b", "c"], "contains": "c"}}}}}}})";
  EXPECT_EQ(Run(service_, "findMany", lists, "accounts"), R"([{"id":6,"_count":{"posts":1}}])");
  EXPECT_EQ(Run(service_, "findMany", lists, "accounts"), R"([{"id":6,"_count":{"posts":1}}])");
  EXPECT_EQ(cache_.hits(), 2u);
  EXPECT_EQ(Run(service_, "findMany",
                R"({"select": {"_count": {"select": {"posts": {"where": {"views": "x"}}}}}})",
                "accounts"),
            "400 select._count.select.posts.where.views: expected an integer (a number, or a "
            "decimal string past 2^53), got \"x\"");
}

TEST_F(WritePlanTest, AnotherShapeCallerOrSchemaCompilesAgain) {
  uint64_t misses = 0;
  auto missed = [&]() {
    bool more = cache_.misses() > misses;
    misses = cache_.misses();
    return more;
  };
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 1, "title": "a", "accountId": 5}, "select": {"id": true}})"),
            R"({"id":1})");
  EXPECT_TRUE(missed());
  // Another select, another set of columns, another caller kind, another schema.
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 2, "title": "b", "accountId": 5}, "select": {"title": true}})"),
            R"({"title":"b"})");
  EXPECT_TRUE(missed());
  EXPECT_EQ(Run(service_, "create",
                R"({"data": {"id": 3, "title": "c", "accountId": 5, "status": "s"},
                    "select": {"id": true}})"),
            R"({"id":3})");
  EXPECT_TRUE(missed());
  EXPECT_EQ(Run(five_, "create",
                R"({"data": {"id": 4, "title": "d", "accountId": 5}, "select": {"id": true}})"),
            R"({"id":4})");
  EXPECT_TRUE(missed());
  generation_ = 2;
  EXPECT_EQ(Run(five_, "create",
                R"({"data": {"id": 5, "title": "e", "accountId": 5}, "select": {"id": true}})"),
            R"({"id":5})");
  EXPECT_TRUE(missed());
  EXPECT_EQ(Run(five_, "create",
                R"({"data": {"id": 6, "title": "f", "accountId": 5}, "select": {"id": true}})"),
            R"({"id":6})");
  EXPECT_FALSE(missed());
  EXPECT_EQ(Rows(),
            "1,a,draft,0,5;2,b,draft,0,5;3,c,s,0,5;4,d,draft,0,5;5,e,draft,0,5;"
            "6,f,draft,0,5");
}

}  // namespace
}  // namespace quarry::query
