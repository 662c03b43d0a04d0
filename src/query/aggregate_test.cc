// aggregate, groupBy, search and recursive findMany against a real SQLite database opened as
// the server opens them, as a service caller and as users whose policies must hold inside the
// statement.

#include "query/aggregate.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "common/random.h"
#include "query/connection_runner.h"
#include "query/data_api.h"
#include "schema/binder.h"
#include "schema/ddl.h"
#include "storage/connection.h"
#include "storage/execute.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

constexpr char kSchema[] = R"(
enum Status { paid pending refund }

model accounts {
  id     Integer @id
  name   Text
  orders orders[]
}

model orders {
  id        Integer  @id
  amount    Real
  qty       Integer
  status    Status
  note      Text?
  cost      Real?    @allow('read', auth().role == 'admin')
  token     Text?    @guarded
  pin       Text?    @secret
  createdAt DateTime
  deletedAt DateTime?
  account   accounts @relation(fields: [accountId], references: [id])
  accountId Integer

  @@softDelete
  @@allow('read', accountId == auth().accountId || auth().role == 'admin')
}

model posts {
  id     Integer @id
  title  Text
  body   Text
  review Text?   @guarded
  draft  Boolean @default(false)

  @@fts([title, body, review])
  @@allow('read', draft == false)
}

model categories {
  id       Integer      @id
  name     Text
  hidden   Boolean      @default(false)
  parent   categories?  @relation(fields: [parentId], references: [id])
  parentId Integer?
  children categories[]

  @@allow('read', hidden == false)
}

model people {
  id        Integer @id
  manager   people? @relation(fields: [managerId], references: [id])
  managerId Integer?
  mentor    people? @relation(fields: [mentorId], references: [id])
  mentorId  Integer?
}
)";

constexpr char kSeed[] = R"(
INSERT INTO accounts VALUES (1, 'Ada'), (2, 'Bob');
INSERT INTO orders (id, amount, qty, status, note, cost, token, pin, createdAt, deletedAt,
                    accountId) VALUES
  (1, 10.5, 1, 'paid', 'a', 1.0, 'tk1', '1111', '2024-01-05T13:10:00.000Z', NULL, 1),
  (2, 20, 2, 'pending', NULL, 2.0, NULL, NULL, '2024-01-20T08:00:00.000Z', NULL, 1),
  (3, 30.25, 3, 'paid', 'c', 3.0, NULL, NULL, '2024-03-02T00:00:00.000Z', NULL, 2),
  (4, 5, 9007199254740993, 'refund', 'd', NULL, NULL, NULL, '2024-03-31T23:59:59.000Z', NULL, 2),
  (5, 100, 5, 'paid', 'gone', 5.0, NULL, NULL, '2024-02-10T00:00:00.000Z',
   '2024-02-11T00:00:00.000Z', 1);
INSERT INTO posts (id, title, body, review, draft) VALUES
  (1, 'Hello world', 'the body text here', NULL, 0),
  (2, 'Other', 'hello again friend', NULL, 0),
  (3, 'Hello draft', 'not published yet', NULL, 1),
  (4, 'SQLite tips', 'full-text search with FTS5', 'secret hello from the editor', 0);
INSERT INTO categories (id, name, hidden, parentId) VALUES
  (1, 'root', 0, NULL), (2, 'a', 0, 1), (3, 'b', 1, 1), (4, 'a1', 0, 2), (5, 'a2', 0, 2),
  (6, 'a1x', 0, 4), (7, 'b1', 0, 3), (8, 'other root', 0, NULL);
)";

class AggregateTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("quarry-aggregate-test-" + RandomToken().substr(0, 12));
    std::filesystem::create_directories(dir_);
    auto bound = schema::LoadAndBindSchema(
        "main.schema", [](const std::string&) { return Result<std::string>(kSchema); });
    ASSERT_TRUE(bound.ok()) << bound.status().message();
    schema_ = std::move(*bound);
    auto conn = storage::Connection::Open(dir_ / "data.db", storage::ConnectionOptions{}, true);
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    conn_ = std::move(*conn);
    for (const std::string& statement : schema::GenerateDdl(schema_)) {
      ASSERT_TRUE(conn_->Exec(statement).ok()) << statement;
    }
    Status seeded = conn_->Exec(kSeed);
    ASSERT_TRUE(seeded.ok()) << seeded.message();
    runner_ = std::make_unique<ConnectionRunner>(*conn_, 32 << 20);
  }

  void TearDown() override {
    runner_.reset();
    conn_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Runs `op` on `model` with `args` (JSON text) as `identity`; the result's JSON text.
  Result<std::string> Run(const Identity& identity, std::string_view model, std::string_view op,
                          std::string_view args) {
    CompileContext ctx{schema_, identity, "2024-06-01T00:00:00.000Z",
                       [](std::string_view payload) { return std::string(payload); }};
    return RunOperation(ctx, model, op, json::parse(args), *runner_);
  }
  std::string Ok(const Identity& identity, std::string_view model, std::string_view op,
                 std::string_view args) {
    auto result = Run(identity, model, op, args);
    EXPECT_TRUE(result.ok()) << result.status().message();
    return result.ok() ? *result : "";
  }
  std::string Service(std::string_view model, std::string_view op, std::string_view args) {
    return Ok(Identity::Service(true), model, op, args);
  }
  static Identity User(std::string_view claims) {
    return Identity::User(json::parse(claims).as_object());
  }

  std::filesystem::path dir_;
  schema::Schema schema_;
  std::unique_ptr<storage::Connection> conn_;
  std::unique_ptr<ConnectionRunner> runner_;
};

TEST_F(AggregateTest, AggregateIsOneStatementOverLiveRows) {
  EXPECT_EQ(Service("orders", "aggregate",
                    R"({"_count": true, "_sum": {"amount": true, "qty": true},
                        "_avg": {"amount": true}, "_min": {"createdAt": true, "status": true},
                        "_max": {"amount": true}})"),
            R"({"_count":4,"_sum":{"amount":65.75,"qty":"9007199254740999"},)"
            R"("_avg":{"amount":16.4375},"_min":{"createdAt":"2024-01-05T13:10:00.000Z",)"
            R"("status":"paid"},"_max":{"amount":30.25}})");
  EXPECT_EQ(runner_->statements(), 1);
  EXPECT_EQ(Service("orders", "aggregate", R"({"_count": true, "withDeleted": true})"),
            R"({"_count":5})");
  EXPECT_EQ(Service("orders", "aggregate", R"({"_count": true, "onlyDeleted": true})"),
            R"({"_count":1})");
  EXPECT_EQ(Service("orders", "aggregate", R"({"_sum": {"amount": true}, "where": {"id": 99}})"),
            R"({"_sum":{"amount":null}})");
}

TEST_F(AggregateTest, CountsDistinctStringAggAndNamedAggregates) {
  EXPECT_EQ(Service("orders", "aggregate",
                    R"({"_count": {"_all": true, "note": true}, "_countAccounts": {"count": true},
                        "_countPaid": {"count": true, "filter": {"status": "paid"}},
                        "_sumPaid": {"sum": "amount", "filter": {"status": "paid"}},
                        "_maxRefund": {"max": "createdAt", "filter": {"status": "refund"}},
                        "_none": {"avg": "amount", "filter": {"id": {"gt": 100}}}})"),
            R"({"_count":{"_all":4,"note":3},"_countAccounts":4,"_countPaid":2,)"
            R"("_sumPaid":40.75,"_maxRefund":"2024-03-31T23:59:59.000Z","_none":null})");
  EXPECT_EQ(Service("orders", "aggregate", R"({"_count": {"distinct": "accountId"}})"),
            R"({"_count":2})");
  EXPECT_EQ(Service("orders", "aggregate",
                    R"({"_stringAgg": {"field": "status", "separator": ", ",
                                       "orderBy": "status"}})"),
            R"({"_stringAgg":{"status":"paid, paid, pending, refund"}})");
  EXPECT_EQ(Service("orders", "aggregate",
                    R"({"_stringAgg": {"field": "note", "orderBy": {"id": "desc"}}})"),
            R"({"_stringAgg":{"note":"d,c,a"}})");
}

TEST_F(AggregateTest, MalformedAggregatesNameTheArgument) {
  auto expect_error = [&](std::string_view args, const std::string& path) {
    auto result = Run(Identity::Service(true), "orders", "aggregate", args);
    ASSERT_FALSE(result.ok()) << args;
    EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument) << args;
    EXPECT_EQ(result.status().path(), path) << result.status().message();
  };
  expect_error(R"({"_sum": {"note": true}})", "_sum.note");
  expect_error(R"({"_avg": {"status": true}})", "_avg.status");
  expect_error(R"({"_sumX": {"sum": "note"}})", "_sumX.sum");
  expect_error(R"({"_min": {"nope": true}})", "_min.nope");
  expect_error(R"({"_x": {"median": "amount"}})", "_x.median");
  expect_error(R"({"_x": {"count": true, "filter": {"nope": 1}}})", "_x.filter.nope");
  expect_error(R"({"by": ["status"]})", "by");
}

TEST_F(AggregateTest, PoliciesHoldInsideAggregates) {
  // Ada (account 1) reads her own orders only; cost only for admins; token is @guarded, pin
  // @secret: their keys leave the result.
  Identity ada = User(R"({"accountId": 1, "role": "member"})");
  EXPECT_EQ(Ok(ada, "orders", "aggregate",
               R"({"_count": {"_all": true, "token": true}, "_sum": {"amount": true,
                   "cost": true}, "_max": {"token": true, "pin": true},
                   "_tokens": {"count": "token"}})"),
            R"({"_count":{"_all":2},"_sum":{"amount":30.5,"cost":null},"_max":{}})");
  Identity admin = User(R"({"accountId": 9, "role": "admin"})");
  EXPECT_EQ(Ok(admin, "orders", "aggregate", R"({"_count": true, "_sum": {"cost": true}})"),
            R"({"_count":4,"_sum":{"cost":6.0}})");
  // A service token bypasses policies but never reads a @secret value; it may count one.
  EXPECT_EQ(Service("orders", "aggregate",
                    R"({"_count": {"pin": true}, "_max": {"pin": true, "token": true}})"),
            R"({"_count":{"pin":1},"_max":{"token":"tk1"}})");
  EXPECT_EQ(
      Service("orders", "aggregate", R"({"_pin": {"min": "pin"}, "_pins": {"count": "pin"}})"),
      R"({"_pins":1})");
  // A filter on a field the user may not read is refused, as in where.
  auto refused =
      Run(ada, "orders", "aggregate", R"({"_x": {"count": true, "filter": {"token": "tk1"}}})");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kForbidden);
  EXPECT_EQ(refused.status().path(), "_x.filter.token");
}

TEST_F(AggregateTest, GroupByWithHavingAndOrderBy) {
  EXPECT_EQ(Service("orders", "groupBy",
                    R"({"by": ["status"], "_count": true, "_sum": {"amount": true}})"),
            R"([{"status":"paid","_count":2,"_sum":{"amount":40.75}},)"
            R"({"status":"pending","_count":1,"_sum":{"amount":20.0}},)"
            R"({"status":"refund","_count":1,"_sum":{"amount":5.0}}])");
  EXPECT_EQ(Service("orders", "groupBy",
                    R"({"by": ["status"], "_count": true, "having": {"_count": {"gt": 1}}})"),
            R"([{"status":"paid","_count":2}])");
  EXPECT_EQ(
      Service("orders", "groupBy",
              R"({"by": ["accountId"], "_avg": {"amount": true},
                        "having": {"_sum": {"amount": {"gte": 30}}},
                        "orderBy": {"_sum": {"amount": "desc"}}})"),
      R"([{"accountId":2,"_avg":{"amount":17.625}},{"accountId":1,"_avg":{"amount":15.25}}])");
  EXPECT_EQ(Service("orders", "groupBy",
                    R"({"by": ["accountId"], "_stringAgg": {"field": "status",
                        "orderBy": {"status": "desc"}}, "orderBy": {"accountId": "asc"},
                        "limit": 1, "offset": 1})"),
            R"([{"accountId":2,"_stringAgg":{"status":"refund,paid"}}])");
  auto bad = Run(Identity::Service(true), "orders", "groupBy",
                 R"({"by": ["status"], "orderBy": {"amount": "asc"}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().path(), "orderBy.amount");
}

TEST_F(AggregateTest, GroupByPoliciesHoldPerGroup) {
  Identity bob = User(R"({"accountId": 2, "role": "member"})");
  EXPECT_EQ(Ok(bob, "orders", "groupBy", R"({"by": ["status"], "_count": true})"),
            R"([{"status":"paid","_count":1},{"status":"refund","_count":1}])");
  // cost is readable by admins only: for Bob every row groups under null.
  EXPECT_EQ(Ok(bob, "orders", "groupBy", R"({"by": ["cost"], "_count": true})"),
            R"([{"cost":null,"_count":2}])");
  auto guarded = Run(bob, "orders", "groupBy", R"({"by": ["token"], "_count": true})");
  ASSERT_FALSE(guarded.ok());
  EXPECT_EQ(guarded.status().code(), ErrorCode::kForbidden);
  EXPECT_EQ(guarded.status().path(), "by.0");
}

TEST_F(AggregateTest, GroupByIntervalFillsGaps) {
  EXPECT_EQ(Service("orders", "groupBy",
                    R"({"by": ["createdAt"], "interval": {"createdAt": "month"},
                        "where": {"createdAt": {"gte": "2023-12-01", "lt": "2024-05-01"}},
                        "_count": true, "_sum": {"amount": true}})"),
            R"([{"createdAt":"2023-12","_count":0,"_sum":{"amount":null}},)"
            R"({"createdAt":"2024-01","_count":2,"_sum":{"amount":30.5}},)"
            R"({"createdAt":"2024-02","_count":0,"_sum":{"amount":null}},)"
            R"({"createdAt":"2024-03","_count":2,"_sum":{"amount":35.25}},)"
            R"({"createdAt":"2024-04","_count":0,"_sum":{"amount":null}}])");
  EXPECT_EQ(runner_->statements(), 1);
  EXPECT_EQ(Service("orders", "groupBy",
                    R"({"by": ["createdAt"], "interval": {"createdAt": "quarter"},
                        "_count": true})"),
            R"([{"createdAt":"2024-Q1","_count":4}])");
  EXPECT_EQ(Service("orders", "groupBy",
                    R"({"by": ["createdAt"], "interval": {"createdAt": "week"},
                        "fillGaps": false, "_count": true})"),
            R"([{"createdAt":"2024-W01","_count":1},{"createdAt":"2024-W03","_count":1},)"
            R"({"createdAt":"2024-W09","_count":1},{"createdAt":"2024-W13","_count":1}])");
  EXPECT_EQ(Service("orders", "groupBy",
                    R"({"by": ["createdAt"], "interval": {"createdAt": "hour"},
                        "where": {"id": 1}, "_count": true})"),
            R"([{"createdAt":"2024-01-05T13","_count":1}])");
  auto too_many = Run(Identity::Service(true), "orders", "groupBy",
                      R"({"by": ["createdAt"], "interval": {"createdAt": "hour"},
                          "where": {"createdAt": {"gte": "1990-01-01"}}, "_count": true})");
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().path(), "fillGaps");
}

TEST_F(AggregateTest, IsoWeeksBelongToTheirThursdaysYear) {
  // 2025-12-29T01:00+02:00 is Sunday 2025-12-28 in UTC: the last week of 2025, not 2026-W01.
  ASSERT_TRUE(conn_
                  ->Exec("INSERT INTO orders (id, amount, qty, status, createdAt, accountId) "
                         "VALUES (10, 1, 1, 'paid', '2024-12-30T10:00:00Z', 1), "
                         "(11, 1, 1, 'paid', '2021-01-03', 1), "
                         "(12, 1, 1, 'paid', '2025-12-29T01:00:00+02:00', 1)")
                  .ok());
  EXPECT_EQ(Service("orders", "groupBy",
                    R"({"by": ["createdAt"], "interval": {"createdAt": "week"},
                        "where": {"id": {"gte": 10}}, "fillGaps": false, "_count": true})"),
            R"([{"createdAt":"2020-W53","_count":1},{"createdAt":"2025-W01","_count":1},)"
            R"({"createdAt":"2025-W52","_count":1}])");
}

TEST_F(AggregateTest, SearchRanksMatchesInsidePolicies) {
  EXPECT_EQ(Service("posts", "search", R"({"query": "hello", "select": {"id": true}})"),
            R"([{"id":2},{"id":3},{"id":1},{"id":4}])");
  // A user sees no drafts (row policy) and cannot match the @guarded review field.
  Identity reader = User(R"({"id": 7})");
  EXPECT_EQ(Ok(reader, "posts", "search",
               R"({"query": "hello", "select": {"id": true},
                   "highlight": {"field": "title"},
                   "snippet": {"field": "body", "open": "[", "close": "]", "tokens": 3}})"),
            R"([{"id":2,"_highlight":"Other","_snippet":"[hello] again friend"},)"
            R"({"id":1,"_highlight":"<b>Hello</b> world","_snippet":"the body text..."}])");
  EXPECT_EQ(Ok(reader, "posts", "search", R"({"query": "review : secret"})"), "[]");
  EXPECT_EQ(Ok(reader, "posts", "search",
               R"({"query": "hello", "highlight": {"field": "review"}, "select": {"id": true},
                   "where": {"id": 2}})"),
            R"([{"id":2}])");
  auto escape = Run(reader, "posts", "search", R"({"query": "x) OR (review : secret"})");
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.status().path(), "query");
}

TEST_F(AggregateTest, SearchErrorsAreTheCallers) {
  auto syntax = Run(Identity::Service(true), "posts", "search", R"({"query": "hello AND"})");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(syntax.status().path(), "query");
  auto no_fts = Run(Identity::Service(true), "orders", "search", R"({"query": "x"})");
  ASSERT_FALSE(no_fts.ok());
  EXPECT_EQ(no_fts.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(no_fts.status().message(), "model orders has no @@fts");
  auto not_indexed = Run(Identity::Service(true), "posts", "search",
                         R"({"query": "x", "highlight": {"field": "draft"}})");
  ASSERT_FALSE(not_indexed.ok());
  EXPECT_EQ(not_indexed.status().path(), "highlight.field");
}

TEST_F(AggregateTest, RecursiveDescendantsAncestorsAndTrees) {
  EXPECT_EQ(Service("categories", "findMany",
                    R"({"where": {"id": 2}, "recursive": true, "select": {"id": true}})"),
            R"([{"id":2,"_depth":0},{"id":4,"_depth":1},{"id":5,"_depth":1},)"
            R"({"id":6,"_depth":2}])");
  EXPECT_EQ(runner_->statements(), 1);
  EXPECT_EQ(Service("categories", "findMany",
                    R"({"where": {"id": 6}, "recursive": {"direction": "ancestors"},
                        "select": {"name": true}})"),
            R"([{"name":"root","_depth":3},{"name":"a","_depth":2},{"name":"a1","_depth":1},)"
            R"({"name":"a1x","_depth":0}])");
  EXPECT_EQ(Service("categories", "findMany",
                    R"({"where": {"id": 1}, "recursive": {"maxDepth": 1},
                        "select": {"id": true}})"),
            R"([{"id":1,"_depth":0},{"id":2,"_depth":1},{"id":3,"_depth":1}])");
  EXPECT_EQ(Service("categories", "findMany",
                    R"({"where": {"parentId": null}, "select": {"id": true},
                        "recursive": {"nested": true, "maxDepth": 2}})"),
            R"([{"id":1,"children":[{"id":2,"children":[{"id":4},{"id":5}]},)"
            R"({"id":3,"children":[{"id":7}]}]},{"id":8,"children":[]}])");
  EXPECT_EQ(Service("categories", "findMany",
                    R"({"where": {"id": 4}, "recursive": true,
                        "select": {"id": true, "parent": {"select": {"name": true}}}})"),
            R"([{"id":4,"parent":{"name":"a"},"_depth":0},)"
            R"({"id":6,"parent":{"name":"a1"},"_depth":1}])");
  auto twice = Run(Identity::Service(true), "categories", "findMany",
                   R"({"recursive": {"nested": true}, "include": {"children": true}})");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().path(), "include.children");
  EXPECT_EQ(Service("categories", "findMany",
                    R"({"where": {"id": 6}, "select": {"id": true},
                        "recursive": {"direction": "ancestors", "nested": true}})"),
            R"([{"id":6,"parent":{"id":4,"parent":{"id":2,"parent":{"id":1,"parent":null}}}}])");
}

TEST_F(AggregateTest, RecursivePoliciesHoldAtEveryLevel) {
  // Category 3 is hidden from users: it is not returned, and neither is 7 below it; from 7 up,
  // the walk stops at 3.
  Identity user = User(R"({"id": 1})");
  EXPECT_EQ(Ok(user, "categories", "findMany",
               R"({"where": {"id": 1}, "recursive": true, "select": {"id": true}})"),
            R"([{"id":1,"_depth":0},{"id":2,"_depth":1},{"id":4,"_depth":2},)"
            R"({"id":5,"_depth":2},{"id":6,"_depth":3}])");
  EXPECT_EQ(Ok(user, "categories", "findMany",
               R"({"where": {"id": 7}, "recursive": {"direction": "ancestors"},
                   "select": {"id": true}})"),
            R"([{"id":7,"_depth":0}])");
  EXPECT_EQ(Ok(user, "categories", "findMany",
               R"({"where": {"id": 1}, "select": {"id": true},
                   "recursive": {"nested": true}})"),
            R"([{"id":1,"children":[{"id":2,"children":[{"id":4,"children":[{"id":6,)"
            R"("children":[]}]},{"id":5,"children":[]}]}]}])");
}

TEST_F(AggregateTest, RecursiveNeedsOneSelfRelation) {
  auto none = Run(Identity::Service(true), "accounts", "findMany", R"({"recursive": true})");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().path(), "recursive");
  auto ambiguous = Run(Identity::Service(true), "people", "findMany", R"({"recursive": true})");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ambiguous.status().path(), "recursive.via");
  ASSERT_TRUE(conn_
                  ->Exec("INSERT INTO people VALUES (1, NULL, NULL), (2, 1, NULL), (3, 2, 1), "
                         "(4, NULL, 3)")
                  .ok());
  EXPECT_EQ(Service("people", "findMany",
                    R"({"where": {"id": 1}, "recursive": {"via": "mentor"},
                        "select": {"id": true}})"),
            R"([{"id":1,"_depth":0},{"id":3,"_depth":1},{"id":4,"_depth":2}])");
  EXPECT_EQ(Service("people", "findMany",
                    R"({"where": {"id": 1}, "recursive": {"via": "manager"},
                        "select": {"id": true}})"),
            R"([{"id":1,"_depth":0},{"id":2,"_depth":1},{"id":3,"_depth":2}])");
}

TEST_F(AggregateTest, RecursiveStopsAtCycles) {
  ASSERT_TRUE(
      conn_->Exec("INSERT INTO people VALUES (1, 3, NULL), (2, 1, NULL), (3, 2, NULL)").ok());
  EXPECT_EQ(Service("people", "findMany",
                    R"({"where": {"id": 1}, "recursive": {"via": "manager"},
                        "select": {"id": true}})"),
            R"([{"id":1,"_depth":0},{"id":2,"_depth":1},{"id":3,"_depth":2}])");
}

}  // namespace
}  // namespace quarry::query
