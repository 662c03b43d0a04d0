// A differential test of `where` filters and row policies: random schemas with random read
// policies, random rows, random `where` objects and random claims run through the data API
// (query::RunOperation on a SQLite file opened as the server opens one) and through a plain
// evaluator in this file, written from the semantics documented in policy_sql.h and where.h.
// Both must pick the same rows, and the related rows a `select`/`include` returns must be the
// ones the related model's policy lets the caller read.
//
// Deterministic: iteration i uses seed i. QUARRY_DIFFERENTIAL_SEED=<n> runs seed n alone and
// QUARRY_DIFFERENTIAL_ITERATIONS=<n> runs seeds 1..n, to reproduce or to search longer.
// WhereRegression holds fixed cases of what it found; WriteRegression and ReadRegression those of
// what the data API fuzz target (fuzz/fuzz_data_api.cc) found.
// PlanCacheDifferential runs random reads and writes through the plan cache and compiled fresh,
// on two copies of a database, and compares answers and tables (see its section below).

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/base64.h"
#include "query/connection_runner.h"
#include "query/data_api.h"
#include "query/plan_cache.h"
#include "query/sql_runner.h"
#include "schema/binder.h"
#include "schema/ddl.h"
#include "storage/connection.h"
#include "storage/execute.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

// ---- Requests on a database file

std::string ShowParam(const storage::Value& v) {
  switch (v.type) {
    case storage::Value::Type::kNull:
      return "NULL";
    case storage::Value::Type::kInteger:
      return std::to_string(v.integer);
    case storage::Value::Type::kFloat: {
      std::ostringstream out;
      out << v.real;
      return out.str();
    }
    default:
      return json::serialize(json::value(json::string_view(v.bytes)));
  }
}

// Runs statements as the server does (query::ConnectionRunner) and keeps their text.
class RecordingRunner : public SqlRunner {
 public:
  explicit RecordingRunner(storage::Connection& conn) : inner_(conn, 32 << 20) {}

  Result<std::vector<query::Row>> Run(const std::string& sql,
                                      const std::vector<storage::Value>& params) override {
    std::string entry = sql + "\n  params:";
    for (const storage::Value& p : params) {
      entry += " " + ShowParam(p);
    }
    log_.push_back(std::move(entry));
    return inner_.Run(sql, params);
  }
  int64_t Changes() override { return inner_.Changes(); }

  std::string TakeLog() {
    std::string out;
    for (const std::string& e : log_) {
      out += e + "\n";
    }
    log_.clear();
    return out;
  }

 private:
  query::ConnectionRunner inner_;
  std::vector<std::string> log_;
};

// A fresh database file with the tables of a schema, opened as the server opens a namespace's
// database, in memory when the machine has a memory file system (the differential test opens
// hundreds, and syncs to a disk would be most of its run time). Removed when destroyed.
class TestDatabase {
 public:
  static std::filesystem::path Dir() {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec)
                                     ? std::filesystem::path("/dev/shm")
                                     : std::filesystem::temp_directory_path();
    return base / ("quarry-query-test-" + std::to_string(::getpid()));
  }

  // Binds `schema_text` and creates its tables in a file named `name`; ok() tells whether all
  // of it worked, error() what did not.
  TestDatabase(const std::string& schema_text, const std::string& name) {
    auto bound = schema::LoadAndBindSchema(
        "main.schema", [&](const std::string&) { return Result<std::string>(schema_text); });
    if (!bound.ok()) {
      error_ = "the schema does not bind: " + bound.status().message() + "\n" + schema_text;
      return;
    }
    schema_ = std::move(*bound);
    std::error_code ec;
    std::filesystem::create_directories(Dir(), ec);
    path_ = Dir() / name;
    Remove();
    auto conn = storage::Connection::Open(path_, storage::ConnectionOptions{}, true);
    if (!conn.ok()) {
      error_ = conn.status().message();
      return;
    }
    conn_ = std::move(*conn);
    std::string ddl = "BEGIN;";
    for (const std::string& statement : schema::GenerateDdl(schema_)) {
      ddl += statement + ";";
    }
    Status st = conn_->Exec(ddl + "COMMIT;");
    if (!st.ok()) {
      error_ = ddl + ": " + st.message();
      conn_.reset();
    }
  }
  ~TestDatabase() {
    conn_.reset();
    Remove();
    std::error_code ec;
    std::filesystem::remove(Dir(), ec);  // once empty
  }

  bool ok() const { return conn_ != nullptr; }
  const std::string& error() const { return error_; }
  const schema::Schema& schema() const { return schema_; }
  storage::Connection& conn() { return *conn_; }

 private:
  void Remove() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path_.string() + suffix, ec);
    }
  }

  schema::Schema schema_;
  std::filesystem::path path_;
  std::unique_ptr<storage::Connection> conn_;
  std::string error_;
};

// ---- Regression cases

constexpr char kNullableSchema[] = R"(model rows {
  id Integer @id
  b  Integer?
  t  Text?
}
)";

// The ids of the rows of kNullableSchema, seeded by `seed_sql`, that `where` (JSON) selects for
// a user, as "1,3"; or the error.
std::string SelectedIds(const std::string& seed_sql, const std::string& where) {
  TestDatabase db(kNullableSchema, "regression.db");
  if (!db.ok()) {
    return db.error();
  }
  Status seeded = db.conn().Exec(seed_sql);
  if (!seeded.ok()) {
    return seeded.message();
  }
  Identity identity = Identity::User({});
  CompileContext ctx{db.schema(), identity, "2024-01-01T00:00:00.000Z", nullptr};
  RecordingRunner runner(db.conn());
  json::object body{
      {"where", json::parse(where)}, {"select", {{"id", true}}}, {"orderBy", {{"id", "asc"}}}};
  Result<std::string> result = RunOperation(ctx, "rows", "findMany", body, runner);
  if (!result.ok()) {
    return result.status().message();
  }
  std::string ids;
  json::value rows = json::parse(*result);
  for (const json::value& row : rows.as_array()) {
    ids += (ids.empty() ? "" : ",") + json::serialize(row.at("id"));
  }
  return ids;
}

TEST(WhereRegression, EndsWithEmptyTextMatchesEveryText) {
  std::string seed = "INSERT INTO rows VALUES (1, NULL, ''), (2, NULL, 'abc'), (3, NULL, NULL)";
  EXPECT_EQ(SelectedIds(seed, R"({"t": {"endsWith": ""}})"), "1,2");
  EXPECT_EQ(SelectedIds(seed, R"({"t": {"endsWith": "", "mode": "insensitive"}})"), "1,2");
  EXPECT_EQ(SelectedIds(seed, R"({"t": {"endsWith": "bc"}})"), "2");
  EXPECT_EQ(SelectedIds(seed, R"({"t": {"endsWith": "abcd"}})"), "");
}

TEST(WhereRegression, NullItemOfInAndNotInMatchesNullRows) {
  std::string seed = "INSERT INTO rows VALUES (1, 1, NULL), (2, 2, NULL), (3, NULL, NULL)";
  EXPECT_EQ(SelectedIds(seed, R"({"b": {"in": [1]}})"), "1");
  EXPECT_EQ(SelectedIds(seed, R"({"b": {"in": [1, null]}})"), "1,3");
  EXPECT_EQ(SelectedIds(seed, R"({"b": {"in": [null]}})"), "3");
  EXPECT_EQ(SelectedIds(seed, R"({"b": {"notIn": [1]}})"), "2,3");
  EXPECT_EQ(SelectedIds(seed, R"({"b": {"notIn": [1, null]}})"), "2");
  EXPECT_EQ(SelectedIds(seed, R"({"b": {"notIn": [null]}})"), "1,2");
  EXPECT_EQ(SelectedIds(seed, R"({"NOT": {"b": {"in": [1, null]}}})"), "2");
}

constexpr char kValidatedSchema[] = R"(model checked {
  id    Integer @id
  email Text?   @email
  site  Text?   @url
  code  Text?   @regex("^(a|b)*$")
}
)";

// Creates a `checked` row holding `value` in `field` as a service caller, in a transaction
// rolled back after: "ok", or the error's message.
std::string CreateChecked(TestDatabase& db, const std::string& field, const std::string& value) {
  Identity identity = Identity::Service(true);
  CompileContext ctx{db.schema(), identity, "2024-01-01T00:00:00.000Z", nullptr};
  RecordingRunner runner(db.conn());
  EXPECT_TRUE(db.conn().Exec("BEGIN IMMEDIATE").ok());
  json::object body{{"data", {{"id", 1}, {field, value}}}, {"select", {{"id", true}}}};
  Result<std::string> result = RunOperation(ctx, "checked", "create", body, runner);
  EXPECT_TRUE(db.conn().RollbackIfOpen().ok());
  return result.ok() ? "ok" : result.status().message();
}

// @email and @url were std::regex matches, which recurse once per character: a 100 kB value
// overflowed the stack and crashed the server. They are checked by hand now, and @regex only on
// values up to 2048 bytes.
TEST(WriteRegression, LongValuesAreValidatedWithoutOverflowingTheStack) {
  TestDatabase db(kValidatedSchema, "validated.db");
  ASSERT_TRUE(db.ok()) << db.error();
  const std::string long_text(1 << 20, 'a');
  EXPECT_EQ(CreateChecked(db, "email", long_text + "@example.com"), "ok");
  EXPECT_NE(CreateChecked(db, "email", long_text + "@example"), "ok");
  EXPECT_EQ(CreateChecked(db, "site", "https://" + long_text + "/path"), "ok");
  EXPECT_NE(CreateChecked(db, "site", "https://" + long_text + " /path"), "ok");
  EXPECT_EQ(CreateChecked(db, "code", std::string(2048, 'b')), "ok");
  EXPECT_EQ(CreateChecked(db, "code", std::string(2049, 'b')),
            "data.code: 'code' is longer than the 2048 bytes a @regex is checked on");
  EXPECT_NE(CreateChecked(db, "code", long_text), "ok");
}

// The hand-written @email and @url checks accept exactly what their patterns describe.
TEST(WriteRegression, EmailAndUrlChecksAgreeWithTheirPatterns) {
  TestDatabase db(kValidatedSchema, "validated.db");
  ASSERT_TRUE(db.ok()) << db.error();
  const std::regex email(R"(^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$)");
  const std::regex url(R"(^https?://[^\s/?#]+([/?#][^\s]*)?$)", std::regex::icase);
  const char* const kPieces[] = {"a", "b", ".",       "@",        " ",       "\t",  "/",  "?", "#",
                                 ":", "é", "http://", "HTTPS://", "https:/", "x.y", "@@", ".."};
  std::mt19937 rng(7);
  int accepted = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string value;
    for (int n = static_cast<int>(rng() % 7); n >= 0; --n) {
      value += kPieces[rng() % (sizeof(kPieces) / sizeof(kPieces[0]))];
    }
    bool is_email = std::regex_match(value, email);
    bool is_url = std::regex_match(value, url);
    accepted += is_email + is_url;
    EXPECT_EQ(CreateChecked(db, "email", value) == "ok", is_email) << "email " << value;
    EXPECT_EQ(CreateChecked(db, "site", value) == "ok", is_url) << "url " << value;
  }
  EXPECT_GT(accepted, 50);
}

constexpr char kFieldRulesSchema[] = R"(model notes {
  id       Integer @id
  status   Text
  note     Text?   @allow('read', status == 'published')
  internal Text?   @guarded
  key      Text?   @secret
  data     Blob?
}
)";

constexpr char kFieldRulesRows[] = R"(INSERT INTO notes VALUES
  (1, 'published', 'n1', 'g1', 'k1', X'01'),
  (2, 'draft', 'hidden', 'g2', 'k2', NULL),
  (3, 'published', 'n3', 'g3', 'k3', NULL))";

// The answer to `op` on `notes` with `body` (JSON), or "<HTTP status>: <message>".
std::string Answer(TestDatabase& db, const Identity& identity, const std::string& op,
                   const std::string& body) {
  CompileContext ctx{db.schema(), identity, "2024-01-01T00:00:00.000Z",
                     [](std::string_view payload) { return std::string(payload.substr(0, 4)); }};
  RecordingRunner runner(db.conn());
  Result<std::string> result = RunOperation(ctx, "notes", op, json::parse(body), runner);
  if (!result.ok()) {
    return std::to_string(result.status().HttpStatus()) + ": " + result.status().message();
  }
  return *result;
}

// A findManyCursor's next cursor held the last row's raw sort keys, readable by base64-decoding
// it: ordering by a @secret field (service) or a @guarded one (user) handed its values out, and a
// field readable only on some rows leaked on the others. Ordering by a Blob failed in SQLite.
TEST(ReadRegression, CursorsCarryOnlySortKeysTheCallerMayRead) {
  TestDatabase db(kFieldRulesSchema, "field_rules.db");
  ASSERT_TRUE(db.ok()) << db.error();
  ASSERT_TRUE(db.conn().Exec(kFieldRulesRows).ok());
  Identity service = Identity::Service(true);
  Identity user = Identity::User({});
  EXPECT_EQ(Answer(db, service, "findManyCursor", R"({"orderBy": {"key": "asc"}})"),
            "403: orderBy.key: findManyCursor cannot order by field 'key': its values would be "
            "in the cursor, and this caller may not read them");
  EXPECT_EQ(Answer(db, user, "findManyCursor", R"({"orderBy": {"internal": "asc"}})").substr(0, 4),
            "403:");
  EXPECT_EQ(Answer(db, service, "findManyCursor", R"({"orderBy": {"data": "asc"}})"),
            "400: orderBy.data: findManyCursor cannot order by Blob field 'data'");
  EXPECT_EQ(
      Answer(db, service, "findManyCursor", R"({"orderBy": {"internal": "desc"}, "limit": 5})"),
      R"({"items":[{"id":3,"status":"published","note":"n3","internal":"g3","data":null},)"
      R"({"id":2,"status":"draft","note":"hidden","internal":"g2","data":null},)"
      R"({"id":1,"status":"published","note":"n1","internal":"g1","data":{"$base64":"AQ=="}}],)"
      R"("nextCursor":null,"hasMore":false})");

  // A user pages by `note`, NULL (first, ascending) where it is hidden: row 2, then 1 and 3.
  std::string ids;
  std::string cursor = "null";
  for (int page = 0; page < 4 && (page == 0 || cursor != "null"); ++page) {
    std::string answer =
        Answer(db, user, "findManyCursor",
               R"({"orderBy": {"note": "asc"}, "limit": 1, "select": {"id": true}, "cursor": )" +
                   cursor + "}");
    json::value parsed = json::parse(answer);
    for (const json::value& item : parsed.at("items").as_array()) {
      ids += json::serialize(item.at("id"));
    }
    cursor = json::serialize(parsed.at("nextCursor"));
    if (cursor != "null") {
      std::string text(parsed.at("nextCursor").as_string());
      auto payload = Base64UrlDecode(std::string_view(text).substr(0, text.find('.')));
      ASSERT_TRUE(payload.has_value()) << text;
      EXPECT_EQ(payload->find("hidden"), std::string::npos) << *payload;
    }
  }
  EXPECT_EQ(ids, "213");
}

// Window functions returned the values of the fields they name: a @secret field's to service
// callers and a @guarded field's to users.
TEST(ReadRegression, WindowFunctionsReturnOnlyFieldsTheCallerMayRead) {
  TestDatabase db(kFieldRulesSchema, "field_rules.db");
  ASSERT_TRUE(db.ok()) << db.error();
  ASSERT_TRUE(db.conn().Exec(kFieldRulesRows).ok());
  Identity service = Identity::Service(true);
  Identity user = Identity::User({});
  EXPECT_EQ(Answer(db, service, "findMany", R"({"window": {"x": {"max": "key"}}})"),
            "403: window.x.max: field 'key' cannot be read by this caller");
  EXPECT_EQ(Answer(db, user, "findMany", R"({"window": {"x": {"lastValue": "internal"}}})"),
            "403: window.x.lastValue: field 'internal' cannot be read by this caller");
  EXPECT_EQ(Answer(db, service, "findMany",
                   R"({"window": {"x": {"min": "internal"}}, "select": {"id": true}})"),
            R"([{"id":1,"x":"g1"},{"id":2,"x":"g1"},{"id":3,"x":"g1"}])");
  // Users may not order or partition by a @guarded field either: the order would tell it.
  EXPECT_EQ(Answer(db, user, "findMany",
                   R"({"window": {"x": {"rowNumber": true, "orderBy": {"internal": "desc"}}},)"
                   R"( "select": {"id": true}, "orderBy": {"id": "asc"}})"),
            "403: window.x.orderBy.internal: field 'internal' cannot be read by this caller");
  EXPECT_EQ(Answer(db, service, "findMany",
                   R"({"window": {"x": {"rowNumber": true, "orderBy": {"internal": "desc"}}},)"
                   R"( "select": {"id": true}, "orderBy": {"id": "asc"}})"),
            R"([{"id":1,"x":3},{"id":2,"x":2},{"id":3,"x":1}])");
  // A field readable on some rows is NULL on the others, inside windows too.
  EXPECT_EQ(Answer(db, user, "findMany",
                   R"({"window": {"x": {"lag": "note", "orderBy": {"id": "asc"}}},)"
                   R"( "select": {"id": true}, "orderBy": {"id": "asc"}})"),
            R"([{"id":1,"x":null},{"id":2,"x":"n1"},{"id":3,"x":null}])");
}

// A frame bound of -2^63 was negated to write "n PRECEDING": undefined behaviour (UBSan aborts),
// and SQL SQLite refused. It is an argument error now; 2^63 - 1 either way still works.
TEST(ReadRegression, WindowFrameBoundOfMinimumIntegerIsAnArgumentError) {
  TestDatabase db(kFieldRulesSchema, "field_rules.db");
  ASSERT_TRUE(db.ok()) << db.error();
  ASSERT_TRUE(db.conn().Exec(kFieldRulesRows).ok());
  Identity service = Identity::Service(true);
  EXPECT_EQ(Answer(db, service, "findMany",
                   R"({"window": {"x": {"count": true, "rows": [-9223372036854775808, 0]}}})"),
            "400: window.x.rows: a frame bound is null or an integer of at most 2^63 - 1 either "
            "way");
  EXPECT_EQ(Answer(db, service, "findMany",
                   R"({"window": {"x": {"count": true, "orderBy": {"id": "asc"},)"
                   R"( "rows": [-9223372036854775807, 9223372036854775807]}},)"
                   R"( "select": {"id": true}, "orderBy": {"id": "asc"}})"),
            R"([{"id":1,"x":3},{"id":2,"x":3},{"id":3,"x":3}])");
}

// findManyCursor asks for one row more than a page: a limit of 2^63 - 1, or one past it, which
// reads as that, overflowed the addition (undefined behaviour; UBSan aborts).
TEST(ReadRegression, CursorPageOfTheLargestLimitReadsEveryRow) {
  TestDatabase db(kFieldRulesSchema, "field_rules.db");
  ASSERT_TRUE(db.ok()) << db.error();
  ASSERT_TRUE(db.conn().Exec(kFieldRulesRows).ok());
  Identity user = Identity::User({});
  for (const char* limit : {"9223372036854775807", "18446744073709551615"}) {
    EXPECT_EQ(Answer(db, user, "findManyCursor",
                     std::string(R"({"select": {"id": true}, "limit": )") + limit + "}"),
              R"({"items":[{"id":1},{"id":2},{"id":3}],"nextCursor":null,"hasMore":false})");
  }
}

// Window frames SQLite refuses came back as SQLite errors about SQL the caller never wrote:
// a frame starting after it ends, rows and range together, a range with offsets but not
// exactly one orderBy term. They are argument errors naming the frame now.
TEST(ReadRegression, WindowFramesSqliteRefusesAreArgumentErrors) {
  TestDatabase db(kFieldRulesSchema, "field_rules.db");
  ASSERT_TRUE(db.ok()) << db.error();
  ASSERT_TRUE(db.conn().Exec(kFieldRulesRows).ok());
  Identity user = Identity::User({});
  auto window = [&](const std::string& spec) {
    return Answer(
        db, user, "findMany",
        R"({"select": {"id": true}, "orderBy": {"id": "asc"}, "window": {"x": )" + spec + "}}");
  };
  EXPECT_EQ(window(R"({"count": true, "rows": [2807, 0]})"),
            "400: window.x.rows: a frame cannot start after it ends");
  EXPECT_EQ(window(R"({"count": true, "rows": [0, -1]})"),
            "400: window.x.rows: a frame cannot start after it ends");
  EXPECT_EQ(window(R"({"count": true, "rows": [null, 0], "range": [null, 0]})"),
            "400: window.x: a window's frame is rows or range, not both");
  EXPECT_EQ(window(R"({"count": true, "range": [-1, 0]})"),
            "400: window.x.range: a range frame with offsets needs exactly one orderBy term");
  EXPECT_EQ(
      window(R"({"count": true, "range": [-1, 0], "orderBy": [{"id": "asc"}, {"status": "asc"}]})"),
      "400: window.x.range: a range frame with offsets needs exactly one orderBy term");
  // What SQLite takes still works: empty frames, and a range over one value.
  EXPECT_EQ(window(R"({"count": true, "rows": [2, 1], "orderBy": {"id": "asc"}})"),
            R"([{"id":1,"x":0},{"id":2,"x":0},{"id":3,"x":0}])");
  EXPECT_EQ(window(R"({"count": true, "range": [-1, 0], "orderBy": {"id": "asc"}})"),
            R"([{"id":1,"x":1},{"id":2,"x":2},{"id":3,"x":2}])");
  EXPECT_EQ(window(R"({"count": true, "range": [null, 0]})"),
            R"([{"id":1,"x":3},{"id":2,"x":3},{"id":3,"x":3}])");
}

// A window's name went into the statement's SQL text between quotes, unescaped, so a user
// could end the literal and run SQL of their own: a name of 'x'||(SELECT ... FROM any table)||''
// read rows and fields past every policy and field rule.
TEST(ReadRegression, WindowNameIsQuotedNotRunAsSql) {
  TestDatabase db(kFieldRulesSchema, "field_rules.db");
  ASSERT_TRUE(db.ok()) << db.error();
  ASSERT_TRUE(db.conn().Exec(kFieldRulesRows).ok());
  Identity user = Identity::User({});
  std::string name = R"(x'||(SELECT group_concat(key) FROM notes)||'\"q)";
  json::object body{{"select", {{"id", true}}},
                    {"orderBy", {{"id", "asc"}}},
                    {"window", {{name, {{"count", true}}}}}};
  std::string member = json::serialize(json::value(name));
  EXPECT_EQ(
      Answer(db, user, "findMany", json::serialize(body)),
      "[{\"id\":1," + member + ":3},{\"id\":2," + member + ":3},{\"id\":3," + member + ":3}]");
}

// ---- The differential test

constexpr int kIterations = 300;
constexpr int kRowsPerModel = 30;
constexpr int kQueriesPerModel = 4;
constexpr int kMaxReportedMismatches = 3;

// ---- Values and SQL's three-valued logic

enum class Tv { kFalse, kTrue, kUnknown };

Tv FromBool(bool b) { return b ? Tv::kTrue : Tv::kFalse; }
bool Holds(Tv v) { return v == Tv::kTrue; }
Tv Not(Tv v) { return v == Tv::kUnknown ? v : FromBool(v == Tv::kFalse); }
Tv And(Tv a, Tv b) {
  if (a == Tv::kFalse || b == Tv::kFalse) {
    return Tv::kFalse;
  }
  return a == Tv::kUnknown || b == Tv::kUnknown ? Tv::kUnknown : Tv::kTrue;
}
Tv Or(Tv a, Tv b) {
  if (a == Tv::kTrue || b == Tv::kTrue) {
    return Tv::kTrue;
  }
  return a == Tv::kUnknown || b == Tv::kUnknown ? Tv::kUnknown : Tv::kFalse;
}

// One stored value. Booleans are integers 0/1, as SQLite stores them.
struct Val {
  enum class Kind { kNull, kInt, kReal, kText };
  Kind kind = Kind::kNull;
  int64_t i = 0;
  double d = 0;
  std::string s;

  bool null() const { return kind == Kind::kNull; }
  bool numeric() const { return kind == Kind::kInt || kind == Kind::kReal; }
  double number() const { return kind == Kind::kInt ? static_cast<double>(i) : d; }
};

Val NullV() { return {}; }
Val IntV(int64_t i) { return {Val::Kind::kInt, i, 0, {}}; }
Val RealV(double d) { return {Val::Kind::kReal, 0, d, {}}; }
Val TextV(std::string s) { return {Val::Kind::kText, 0, 0, std::move(s)}; }

std::string Show(const Val& v) {
  switch (v.kind) {
    case Val::Kind::kNull:
      return "NULL";
    case Val::Kind::kInt:
      return std::to_string(v.i);
    case Val::Kind::kReal: {
      std::ostringstream out;
      out << v.d;
      return out.str();
    }
    case Val::Kind::kText:
      return json::serialize(json::value(json::string_view(v.s)));
  }
  return "?";
}

// SQLite's order of two non-NULL values that need no affinity conversion (the test only
// compares values of compatible types): numbers by value, an Integer with a Real too; text by
// its bytes (BINARY collation); a number before any text.
int Order(const Val& a, const Val& b) {
  if (a.numeric() && b.numeric()) {
    if (a.kind == Val::Kind::kInt && b.kind == Val::Kind::kInt) {
      return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
    }
    return a.number() < b.number() ? -1 : a.number() > b.number() ? 1 : 0;
  }
  if (a.numeric() != b.numeric()) {
    return a.numeric() ? -1 : 1;
  }
  int c = a.s.compare(b.s);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe };

Tv Compare(const Val& a, Cmp op, const Val& b) {
  if (a.null() || b.null()) {
    return Tv::kUnknown;
  }
  int c = Order(a, b);
  switch (op) {
    case Cmp::kEq:
      return FromBool(c == 0);
    case Cmp::kNe:
      return FromBool(c != 0);
    case Cmp::kLt:
      return FromBool(c < 0);
    case Cmp::kLe:
      return FromBool(c <= 0);
    case Cmp::kGt:
      return FromBool(c > 0);
    case Cmp::kGe:
      return FromBool(c >= 0);
  }
  return Tv::kUnknown;
}

// SQL's `a IS b`.
bool Same(const Val& a, const Val& b) {
  if (a.null() || b.null()) {
    return a.null() && b.null();
  }
  return Order(a, b) == 0;
}

// A value used as a condition (a bare Boolean field or claim): NULL is unknown, else non-zero.
Tv Truthy(const Val& v) {
  if (v.null()) {
    return Tv::kUnknown;
  }
  return FromBool(v.number() != 0);
}

const char* CmpText(Cmp op) {
  static const char* const kText[] = {"==", "!=", "<", "<=", ">", ">="};
  return kText[static_cast<int>(op)];
}

// ---- The schema: two related models with the same scalar fields and random policies

enum class Type { kInt, kReal, kText, kBool, kEnum };

struct FieldSpec {
  std::string name;
  Type type;
  bool optional;
};

constexpr int kOwners = 0;
constexpr int kItems = 1;
const char* const kEnumValues[] = {"admin", "member", "guest"};

struct ModelSpec {
  std::string name;
  std::vector<FieldSpec> fields;  // stored fields; fields[0] is the Integer @id
  std::string relation;           // the relation field
  int target;                     // the model it points to
  bool to_many;
};

const std::vector<ModelSpec>& Models() {
  static const std::vector<ModelSpec> models = [] {
    std::vector<FieldSpec> scalars = {
        {"id", Type::kInt, false}, {"a", Type::kInt, false},  {"b", Type::kInt, true},
        {"s", Type::kText, false}, {"t", Type::kText, true},  {"f", Type::kBool, false},
        {"r", Type::kReal, true},  {"e", Type::kEnum, false},
    };
    std::vector<FieldSpec> item_fields = scalars;
    item_fields.push_back({"ownerId", Type::kInt, true});
    return std::vector<ModelSpec>{{"owners", scalars, "items", kItems, true},
                                  {"items", item_fields, "owner", kOwners, false}};
  }();
  return models;
}

size_t FieldIndex(int model, const std::string& name) {
  const auto& fields = Models()[static_cast<size_t>(model)].fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) {
      return i;
    }
  }
  ADD_FAILURE() << "no field " << name;
  return 0;
}

const FieldSpec* FindField(int model, const std::string& name) {
  for (const FieldSpec& f : Models()[static_cast<size_t>(model)].fields) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

// A policy condition as this test writes it: printed into the schema and evaluated here, never
// read back from the bound schema.
struct PNode {
  enum class Kind {
    kField,
    kLiteral,
    kClaim,
    kAuth,
    kNot,
    kAnd,
    kOr,
    kCompare,
    kIsNull,
    kIsNotNull,
    kCheck
  };
  Kind kind = Kind::kLiteral;
  std::string name;  // kField, kClaim: the field or claim; kCheck: the relation field
  Val value;         // kLiteral
  std::string text;  // kLiteral: as written
  Cmp op = Cmp::kEq;
  bool null_first = false;  // kIsNull, kIsNotNull: written `null == x`
  std::vector<PNode> kids;
};

std::string PText(const PNode& n) {
  switch (n.kind) {
    case PNode::Kind::kField:
      return n.name;
    case PNode::Kind::kLiteral:
      return n.text;
    case PNode::Kind::kClaim:
      return "auth()." + n.name;
    case PNode::Kind::kAuth:
      return "auth()";
    case PNode::Kind::kNot:
      return "!(" + PText(n.kids[0]) + ")";
    case PNode::Kind::kAnd:
    case PNode::Kind::kOr:
      return "(" + PText(n.kids[0]) + (n.kind == PNode::Kind::kAnd ? " && " : " || ") +
             PText(n.kids[1]) + ")";
    case PNode::Kind::kCompare:
      return "(" + PText(n.kids[0]) + " " + CmpText(n.op) + " " + PText(n.kids[1]) + ")";
    case PNode::Kind::kIsNull:
    case PNode::Kind::kIsNotNull: {
      std::string op = n.kind == PNode::Kind::kIsNull ? " == " : " != ";
      return n.null_first ? "(null" + op + PText(n.kids[0]) + ")"
                          : "(" + PText(n.kids[0]) + op + "null)";
    }
    case PNode::Kind::kCheck:
      return "check(" + n.name + ", " + PText(n.kids[0]) + ")";
  }
  return "?";
}

struct PolicySpec {
  bool allow = true;
  std::string operation;  // read, all, create, update, delete
  PNode condition;
  bool AppliesToRead() const { return operation == "read" || operation == "all"; }
};

using Row = std::vector<Val>;

struct World {
  std::vector<PolicySpec> policies[2];
  std::vector<Row> rows[2];
};

const char* TypeText(Type t) {
  switch (t) {
    case Type::kInt:
      return "Integer";
    case Type::kReal:
      return "Real";
    case Type::kText:
      return "Text";
    case Type::kBool:
      return "Boolean";
    case Type::kEnum:
      return "Role";
  }
  return "?";
}

std::string SchemaText(const World& world) {
  std::string out = "enum Role { admin member guest }\n";
  for (int m = 0; m < 2; ++m) {
    const ModelSpec& model = Models()[static_cast<size_t>(m)];
    out += "\nmodel " + model.name + " {\n";
    for (const FieldSpec& f : model.fields) {
      out += "  " + f.name + " " + TypeText(f.type) + (f.optional ? "?" : "") +
             (f.name == "id" ? " @id" : "") + "\n";
    }
    out += m == kOwners ? "  items items[]\n"
                        : "  owner owners? @relation(fields: [ownerId], references: [id])\n";
    for (const PolicySpec& p : world.policies[m]) {
      out += std::string("  @@") + (p.allow ? "allow" : "deny") + "('" + p.operation + "', " +
             PText(p.condition) + ")\n";
    }
    out += "}\n";
  }
  return out;
}

// ---- The plain evaluator

class Evaluator {
 public:
  // `claims`: a user's; null for a service caller, which bypasses every policy.
  Evaluator(const World& world, const json::object* claims) : world_(world), claims_(claims) {
    for (int m = 0; m < 2; ++m) {
      readable_[m].assign(world.rows[m].size(), -1);
    }
  }

  // The read policy: no applicable @@allow is open, else some allow holds; and no deny holds.
  bool Readable(int model, size_t row) {
    int8_t& cached = readable_[model][row];
    if (claims_ == nullptr) {
      return true;
    }
    if (cached < 0) {
      bool any_allow = false;
      bool allowed = false;
      bool denied = false;
      for (const PolicySpec& p : world_.policies[model]) {
        if (!p.AppliesToRead()) {
          continue;
        }
        bool holds = Holds(Condition(p.condition, model, row));
        if (p.allow) {
          any_allow = true;
          allowed = allowed || holds;
        } else {
          denied = denied || holds;
        }
      }
      cached = (!any_allow || allowed) && !denied ? 1 : 0;
    }
    return cached == 1;
  }

  // The rows of the relation's target that `row` is related to, readable or not.
  std::vector<size_t> Related(int model, size_t row) const {
    std::vector<size_t> out;
    size_t owner_id = FieldIndex(kItems, "ownerId");
    if (model == kOwners) {
      int64_t id = world_.rows[kOwners][row][0].i;
      for (size_t j = 0; j < world_.rows[kItems].size(); ++j) {
        const Val& fk = world_.rows[kItems][j][owner_id];
        if (!fk.null() && fk.i == id) {
          out.push_back(j);
        }
      }
    } else {
      const Val& fk = world_.rows[kItems][row][owner_id];
      for (size_t j = 0; !fk.null() && j < world_.rows[kOwners].size(); ++j) {
        if (world_.rows[kOwners][j][0].i == fk.i) {
          out.push_back(j);
        }
      }
    }
    return out;
  }

  std::vector<size_t> ReadableRelated(int model, size_t row) {
    std::vector<size_t> out;
    int target = Models()[static_cast<size_t>(model)].target;
    for (size_t j : Related(model, row)) {
      if (Readable(target, j)) {
        out.push_back(j);
      }
    }
    return out;
  }

  Tv Where(int model, size_t row, const json::value& where) {
    if (where.is_null()) {
      return Tv::kTrue;
    }
    Tv out = Tv::kTrue;
    for (const auto& [key_view, value] : where.get_object()) {
      std::string key(key_view);
      Tv part;
      if (key == "AND" || key == "OR" || key == "NOT") {
        part = Logical(model, row, key, value);
      } else if (key == Models()[static_cast<size_t>(model)].relation) {
        part = RelationFilter(model, row, value);
      } else {
        part = FieldFilter(model, row, key, value);
      }
      out = And(out, part);
    }
    return out;
  }

 private:
  Val Claim(const std::string& name) const {
    auto it = claims_->find(name);
    if (it == claims_->end()) {
      return NullV();
    }
    const json::value& v = it->value();
    switch (v.kind()) {
      case json::kind::bool_:
        return IntV(v.get_bool() ? 1 : 0);
      case json::kind::int64:
        return IntV(v.get_int64());
      case json::kind::uint64:
        return IntV(static_cast<int64_t>(v.get_uint64()));
      case json::kind::double_:
        return RealV(v.get_double());
      case json::kind::string:
        return TextV(std::string(v.get_string()));
      default:
        return NullV();
    }
  }

  Val Value(const PNode& n, int model, size_t row) const {
    switch (n.kind) {
      case PNode::Kind::kField:
        return world_.rows[model][row][FieldIndex(model, n.name)];
      case PNode::Kind::kLiteral:
        return n.value;
      case PNode::Kind::kClaim:
        return Claim(n.name);
      case PNode::Kind::kAuth:
        return IntV(1);  // a user's auth() is never null
      default:
        ADD_FAILURE() << "not a value: " << PText(n);
        return NullV();
    }
  }

  Tv Condition(const PNode& n, int model, size_t row) {
    switch (n.kind) {
      case PNode::Kind::kField:
      case PNode::Kind::kLiteral:
      case PNode::Kind::kClaim:
      case PNode::Kind::kAuth:
        return Truthy(Value(n, model, row));
      case PNode::Kind::kNot:
        return Not(Condition(n.kids[0], model, row));
      case PNode::Kind::kAnd:
        return And(Condition(n.kids[0], model, row), Condition(n.kids[1], model, row));
      case PNode::Kind::kOr:
        return Or(Condition(n.kids[0], model, row), Condition(n.kids[1], model, row));
      case PNode::Kind::kCompare:
        return Compare(Value(n.kids[0], model, row), n.op, Value(n.kids[1], model, row));
      case PNode::Kind::kIsNull:
        return FromBool(Value(n.kids[0], model, row).null());
      case PNode::Kind::kIsNotNull:
        return FromBool(!Value(n.kids[0], model, row).null());
      case PNode::Kind::kCheck: {
        // Over the related rows as they are: the related model's policies do not apply.
        int target = Models()[static_cast<size_t>(model)].target;
        for (size_t j : Related(model, row)) {
          if (Holds(Condition(n.kids[0], target, j))) {
            return Tv::kTrue;
          }
        }
        return Tv::kFalse;
      }
    }
    return Tv::kUnknown;
  }

  Tv Logical(int model, size_t row, const std::string& key, const json::value& value) {
    std::vector<const json::value*> items;
    if (value.is_array()) {
      for (const json::value& item : value.get_array()) {
        items.push_back(&item);
      }
    } else {
      items.push_back(&value);
    }
    if (items.empty()) {
      return key == "OR" ? Tv::kFalse : Tv::kTrue;
    }
    Tv acc = key == "OR" ? Tv::kFalse : Tv::kTrue;
    for (const json::value* item : items) {
      Tv t = Where(model, row, *item);
      acc = key == "OR" ? Or(acc, t) : And(acc, t);
    }
    // NOT negates the conjunction of its items, with SQL's NOT: unknown stays unknown.
    return key == "NOT" ? Not(acc) : acc;
  }

  Tv RelationFilter(int model, size_t row, const json::value& value) {
    const ModelSpec& spec = Models()[static_cast<size_t>(model)];
    std::vector<size_t> related = ReadableRelated(model, row);
    // Whether a readable related row matches `where` (or, with `unmatched`, fails to).
    auto exists = [&](const json::value* where, bool unmatched) {
      for (size_t j : related) {
        bool holds = where == nullptr || Holds(Where(spec.target, j, *where));
        if (holds != unmatched) {
          return true;
        }
      }
      return false;
    };
    if (spec.to_many) {
      Tv out = Tv::kTrue;
      for (const auto& [key, sub] : value.get_object()) {
        bool part = key == "some"   ? exists(&sub, false)
                    : key == "none" ? !exists(&sub, false)
                                    : !exists(&sub, true);  // every
        out = And(out, FromBool(part));
      }
      return out;
    }
    if (value.is_null()) {
      return FromBool(!exists(nullptr, false));
    }
    const json::object& object = value.get_object();
    if (!object.contains("is") && !object.contains("isNot")) {
      return FromBool(exists(&value, false));
    }
    Tv out = Tv::kTrue;
    for (const auto& [key, sub] : object) {
      bool is = key == "is";
      bool part = sub.is_null() ? exists(nullptr, false) != is : exists(&sub, false) == is;
      out = And(out, FromBool(part));
    }
    return out;
  }

  static bool IsOperatorObject(const json::value& v) {
    static const std::vector<std::string> kOperators = {
        "equals", "not",      "in",         "notIn",    "lt",   "lte", "gt",
        "gte",    "contains", "startsWith", "endsWith", "mode", "path"};
    if (!v.is_object() || v.get_object().empty()) {
      return false;
    }
    for (const auto& kv : v.get_object()) {
      if (std::find(kOperators.begin(), kOperators.end(), std::string(kv.key())) ==
          kOperators.end()) {
        return false;
      }
    }
    return true;
  }

  // A JSON argument as the value stored in a column of type `type`.
  static Val Convert(Type type, const json::value& v) {
    if (v.is_null()) {
      return NullV();
    }
    switch (type) {
      case Type::kInt:
        return IntV(v.is_double() ? static_cast<int64_t>(v.get_double()) : v.to_number<int64_t>());
      case Type::kReal:
        return RealV(v.to_number<double>());
      case Type::kText:
      case Type::kEnum:
        return TextV(std::string(v.get_string()));
      case Type::kBool:
        return IntV(v.get_bool() ? 1 : 0);
    }
    return NullV();
  }

  Tv FieldFilter(int model, size_t row, const std::string& name, const json::value& value) {
    const FieldSpec* field = FindField(model, name);
    const Val& x = world_.rows[model][row][FieldIndex(model, name)];
    if (IsOperatorObject(value)) {
      return Operators(field->type, x, value.get_object());
    }
    return Equals(field->type, x, value);
  }

  static Tv Equals(Type type, const Val& x, const json::value& v) {
    if (v.is_null()) {
      return FromBool(x.null());
    }
    return Compare(x, Cmp::kEq, Convert(type, v));
  }

  static std::string FoldAscii(std::string s) {
    for (char& c : s) {
      if (c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c - 'A' + 'a');
      }
    }
    return s;
  }

  static Tv Operators(Type type, const Val& x, const json::object& ops) {
    const json::value* mode = ops.if_contains("mode");
    bool insensitive = mode != nullptr && *mode == "insensitive";
    Tv out = Tv::kTrue;
    for (const auto& [key_view, v] : ops) {
      std::string key(key_view);
      Tv part = Tv::kTrue;
      if (key == "mode") {
        continue;
      } else if (key == "equals") {
        part = Equals(type, x, v);
      } else if (key == "not") {
        // Null-inclusive: a NULL row is "not" any value, and "not" an unknown condition.
        if (IsOperatorObject(v)) {
          part = FromBool(!Holds(Operators(type, x, v.get_object())));
        } else {
          part = FromBool(!Same(x, Convert(type, v)));
        }
      } else if (key == "in" || key == "notIn") {
        // `in` is the OR of equalities with its items, a null item matching NULL rows; `notIn`
        // matches every other row (so NULL rows unless null is an item).
        bool has_null = false;
        Tv any = Tv::kFalse;
        for (const json::value& item : v.get_array()) {
          if (item.is_null()) {
            has_null = true;
          } else {
            any = Or(any, Compare(x, Cmp::kEq, Convert(type, item)));
          }
        }
        if (key == "in") {
          part = has_null ? Or(any, FromBool(x.null())) : any;
        } else {
          part = has_null ? FromBool(!x.null() && !Holds(any)) : FromBool(x.null() || !Holds(any));
        }
      } else if (key == "lt" || key == "lte" || key == "gt" || key == "gte") {
        Cmp op = key == "lt"    ? Cmp::kLt
                 : key == "lte" ? Cmp::kLe
                 : key == "gt"  ? Cmp::kGt
                                : Cmp::kGe;
        part = Compare(x, op, Convert(type, v));
      } else if (key == "contains" || key == "startsWith" || key == "endsWith") {
        if (x.null()) {
          part = Tv::kUnknown;
        } else {
          std::string hay = insensitive ? FoldAscii(x.s) : x.s;
          std::string needle =
              insensitive ? FoldAscii(std::string(v.get_string())) : std::string(v.get_string());
          part = FromBool(key == "contains"     ? hay.find(needle) != std::string::npos
                          : key == "startsWith" ? hay.starts_with(needle)
                                                : hay.ends_with(needle));
        }
      } else {
        ADD_FAILURE() << "the generator made an operator the evaluator does not know: " << key;
      }
      out = And(out, part);
    }
    return out;
  }

  const World& world_;
  const json::object* claims_;
  std::vector<int8_t> readable_[2];
};

// ---- Random schemas, rows, claims and filters

const char* const kTextPool[] = {"",   "a",  "A",    "ab", "aB",  "Ab",  "abc", "b",
                                 "ba", "é",  "aé",   "É",  "a_b", "a%b", "axb", "%",
                                 "_",  "\\", "a\\b", " ",  "zz",  "'q'"};
// Text literals the schema can hold without escaping.
const char* const kPolicyTextPool[] = {"", "a", "ab", "b", "A", "é", "a_b", "zz", "abc"};
const int64_t kIntPool[] = {-100, -3, -1, 0, 1, 2, 3, 5, 7, 1000};
const double kRealPool[] = {-7.25, -1.5, -0.0, 0.0, 0.5, 2.0, 2.5, 3.0, 1e10};
// Number literals of policies: as written, and their value.
const std::pair<const char*, double> kNumberLiterals[] = {
    {"-3", -3}, {"-1", -1},   {"0", 0},       {"1", 1},     {"2", 2},     {"3", 3},
    {"5", 5},   {"100", 100}, {"-1.5", -1.5}, {"0.5", 0.5}, {"2.5", 2.5}, {"2.0", 2.0}};

struct Claim {
  const char* name;
  Type type;
};
const Claim kClaims[] = {{"uid", Type::kInt},
                         {"score", Type::kReal},
                         {"name", Type::kText},
                         {"role", Type::kEnum},
                         {"admin", Type::kBool}};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  // Filters then often name values that rows of `world` hold.
  void SampleFrom(const World* world) { world_ = world; }

  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  bool Chance(int percent) { return Pick(100) < percent; }
  template <typename T, size_t N>
  const T& From(const T (&items)[N]) {
    return items[Pick(static_cast<int>(N))];
  }

  World MakeWorld() {
    World world;
    for (int m = 0; m < 2; ++m) {
      int n = Pick(4);
      for (int i = 0; i < n; ++i) {
        PolicySpec p;
        p.allow = Chance(60);
        int op = Pick(100);
        p.operation = op < 55   ? "read"
                      : op < 80 ? "all"
                      : op < 87 ? "create"
                      : op < 94 ? "update"
                                : "delete";
        p.condition = Condition(m, 2);
        world.policies[m].push_back(std::move(p));
      }
      const ModelSpec& model = Models()[static_cast<size_t>(m)];
      for (int id = 1; id <= kRowsPerModel; ++id) {
        Row row;
        for (const FieldSpec& f : model.fields) {
          if (f.name == "id") {
            row.push_back(IntV(id));
          } else if (f.name == "ownerId") {
            // Few owners have items, and those have several.
            row.push_back(Chance(25) ? NullV() : IntV(1 + Pick(10)));
          } else if (f.optional && Chance(30)) {
            row.push_back(NullV());
          } else {
            row.push_back(StoredValue(f.type));
          }
        }
        world.rows[m].push_back(std::move(row));
      }
    }
    return world;
  }

  json::object Claims() {
    json::object claims;
    for (const Claim& c : kClaims) {
      int roll = Pick(100);
      if (roll < 20) {
        continue;  // missing
      }
      if (roll < 32) {
        claims[c.name] = nullptr;
        continue;
      }
      switch (c.type) {
        case Type::kInt:
          claims[c.name] = Chance(15) ? json::value(From(kRealPool)) : json::value(From(kIntPool));
          break;
        case Type::kReal:
          claims[c.name] = Chance(30) ? json::value(From(kIntPool)) : json::value(From(kRealPool));
          break;
        case Type::kText:
          claims[c.name] = From(kTextPool);
          break;
        case Type::kEnum:
          claims[c.name] = Chance(80) ? From(kEnumValues) : (Chance(50) ? "" : "other");
          break;
        case Type::kBool:
          claims[c.name] = Chance(50);
          break;
      }
    }
    return claims;
  }

  // A value for field `f` of `model`, as filters use them: often one a row holds.
  json::value Value(int model, const FieldSpec& f) { return ArgValue(model, f); }

  json::object Where(int model, int depth) {
    json::object where;
    int roll = Pick(100);
    int keys = roll < 5 ? 0 : roll < 70 ? 1 : roll < 95 ? 2 : 3;
    const ModelSpec& spec = Models()[static_cast<size_t>(model)];
    for (int k = 0; k < keys; ++k) {
      int kind = depth > 0 ? Pick(10) : 9;
      if (kind < 2) {
        const char* logical = kind == 0 ? (Chance(50) ? "AND" : "OR") : "NOT";
        if (where.contains(logical)) {
          continue;
        }
        if (Chance(50)) {
          json::array items;
          for (int i = Pick(4); i > 0; --i) {
            items.push_back(Where(model, depth - 1));
          }
          where[logical] = std::move(items);
        } else {
          where[logical] = Where(model, depth - 1);
        }
      } else if (kind < 4) {
        if (where.contains(spec.relation)) {
          continue;
        }
        where[spec.relation] = RelationFilter(model, depth - 1);
      } else {
        const FieldSpec& f =
            spec.fields[static_cast<size_t>(Pick(static_cast<int>(spec.fields.size())))];
        if (where.contains(f.name)) {
          continue;
        }
        where[f.name] = FieldFilter(model, f, depth);
      }
    }
    return where;
  }

 private:
  Val StoredValue(Type type) {
    switch (type) {
      case Type::kInt:
        return IntV(From(kIntPool));
      case Type::kReal:
        return RealV(From(kRealPool));
      case Type::kText:
        return TextV(From(kTextPool));
      case Type::kBool:
        return IntV(Pick(2));
      case Type::kEnum:
        return TextV(From(kEnumValues));
    }
    return NullV();
  }

  // ---- policies

  static bool Numeric(Type t) { return t == Type::kInt || t == Type::kReal; }

  PNode Field(const FieldSpec& f) {
    PNode n;
    n.kind = PNode::Kind::kField;
    n.name = f.name;
    return n;
  }

  PNode Literal(Type type) {
    PNode n;
    n.kind = PNode::Kind::kLiteral;
    switch (type) {
      case Type::kInt:
      case Type::kReal: {
        auto [text, value] = From(kNumberLiterals);
        n.text = text;
        bool integer = std::string(text).find('.') == std::string::npos;
        n.value = integer ? IntV(static_cast<int64_t>(value)) : RealV(value);
        break;
      }
      case Type::kText: {
        std::string text = From(kPolicyTextPool);
        n.text = "'" + text + "'";
        n.value = TextV(text);
        break;
      }
      case Type::kEnum: {
        std::string text = From(kEnumValues);
        n.text = "'" + text + "'";
        n.value = TextV(text);
        break;
      }
      case Type::kBool: {
        bool b = Chance(50);
        n.text = b ? "true" : "false";
        n.value = IntV(b ? 1 : 0);
        break;
      }
    }
    return n;
  }

  PNode ClaimFor(Type type) {
    PNode n;
    n.kind = PNode::Kind::kClaim;
    switch (type) {
      case Type::kInt:
      case Type::kReal:
        n.name = Chance(50) ? "uid" : "score";
        break;
      case Type::kText:
        n.name = Chance(50) ? "name" : "role";
        break;
      case Type::kEnum:
        n.name = "role";
        break;
      case Type::kBool:
        n.name = "admin";
        break;
    }
    return n;
  }

  PNode Compare(PNode left, PNode right) {
    PNode n;
    n.kind = PNode::Kind::kCompare;
    n.op = static_cast<Cmp>(Pick(6));
    if (Chance(50)) {
      std::swap(left, right);
    }
    n.kids.push_back(std::move(left));
    n.kids.push_back(std::move(right));
    return n;
  }

  const FieldSpec& AnyField(int model) {
    const auto& fields = Models()[static_cast<size_t>(model)].fields;
    return fields[static_cast<size_t>(Pick(static_cast<int>(fields.size())))];
  }

  PNode Leaf(int model) {
    const FieldSpec& f = AnyField(model);
    int kind = Pick(12);
    if (kind < 4 || kind == 11) {
      return Compare(Field(f), Literal(f.type));
    }
    if (kind < 6) {
      return Compare(Field(f), ClaimFor(f.type));
    }
    if (kind == 6) {
      // Two fields of comparable types (an enum compares with text).
      for (;;) {
        const FieldSpec& g = AnyField(model);
        bool text_like = (f.type == Type::kText || f.type == Type::kEnum) &&
                         (g.type == Type::kText || g.type == Type::kEnum);
        if ((Numeric(f.type) && Numeric(g.type)) || f.type == g.type || text_like) {
          return Compare(Field(f), Field(g));
        }
      }
    }
    if (kind == 7) {
      const Claim& c = From(kClaims);
      PNode claim;
      claim.kind = PNode::Kind::kClaim;
      claim.name = c.name;
      return Compare(claim, Literal(c.type));
    }
    if (kind < 10) {
      PNode n;
      n.kind = Chance(50) ? PNode::Kind::kIsNull : PNode::Kind::kIsNotNull;
      n.null_first = Chance(30);
      int what = Pick(20);
      if (what < 13) {
        n.kids.push_back(Field(f));
      } else if (what < 19) {
        n.kids.push_back(ClaimFor(From(kClaims).type));
      } else {
        PNode auth;
        auth.kind = PNode::Kind::kAuth;
        n.kids.push_back(std::move(auth));
      }
      return n;
    }
    // A bare Boolean: the field, the admin claim, or a literal.
    int what = Pick(4);
    if (what < 2) {
      return Field(*FindField(model, "f"));
    }
    return what == 2 ? ClaimFor(Type::kBool) : Literal(Type::kBool);
  }

  PNode Condition(int model, int depth) {
    int kind = depth > 0 ? Pick(10) : 9;
    if (kind < 2) {
      PNode n;
      n.kind = kind == 0 ? PNode::Kind::kAnd : PNode::Kind::kOr;
      n.kids.push_back(Condition(model, depth - 1));
      n.kids.push_back(Condition(model, depth - 1));
      return n;
    }
    if (kind == 2) {
      PNode n;
      n.kind = PNode::Kind::kNot;
      n.kids.push_back(Condition(model, depth - 1));
      return n;
    }
    if (kind == 3) {
      const ModelSpec& spec = Models()[static_cast<size_t>(model)];
      PNode n;
      n.kind = PNode::Kind::kCheck;
      n.name = spec.relation;
      n.kids.push_back(Condition(spec.target, depth - 1));
      return n;
    }
    return Leaf(model);
  }

  // ---- filters

  // A value for a filter on field `f` of `model`: often one a row holds, else from the pools.
  json::value ArgValue(int model, const FieldSpec& f) {
    if (world_ != nullptr && Chance(40)) {
      const std::vector<Row>& rows = world_->rows[model];
      const Val& v =
          rows[static_cast<size_t>(Pick(static_cast<int>(rows.size())))][FieldIndex(model, f.name)];
      switch (v.kind) {
        case Val::Kind::kNull:
          break;
        case Val::Kind::kInt:
          return f.type == Type::kBool ? json::value(v.i != 0) : json::value(v.i);
        case Val::Kind::kReal:
          return json::value(v.d);
        case Val::Kind::kText:
          return json::value(v.s);
      }
    }
    switch (f.type) {
      case Type::kInt: {
        int64_t v = Chance(85) ? From(kIntPool) : Pick(7) - 3;
        return Chance(10) ? json::value(static_cast<double>(v)) : json::value(v);
      }
      case Type::kReal:
        return Chance(30) ? json::value(From(kIntPool)) : json::value(From(kRealPool));
      case Type::kText:
        return json::value(From(kTextPool));
      case Type::kBool:
        return json::value(Chance(50));
      case Type::kEnum:
        return json::value(From(kEnumValues));
    }
    return nullptr;
  }

  json::value Pattern(Type type) {
    if (type == Type::kEnum) {
      static const char* const kParts[] = {"", "ad", "min", "m", "mem", "er", "guest", "AD", "x"};
      return json::value(From(kParts));
    }
    std::string text = From(kTextPool);
    if (!text.empty() && Chance(30)) {
      // A suffix that starts on a character: request bodies are valid UTF-8.
      size_t at = static_cast<size_t>(Pick(static_cast<int>(text.size())));
      while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) {
        ++at;
      }
      text = text.substr(at);
    }
    return json::value(text);
  }

  json::object Operators(int model, const FieldSpec& f, int depth) {
    std::vector<std::string> ops = {"equals", "not", "in", "notIn", "lt", "lte", "gt", "gte"};
    bool text_like = f.type == Type::kText || f.type == Type::kEnum;
    if (text_like) {
      for (const char* op :
           {"contains", "startsWith", "endsWith", "contains", "startsWith", "endsWith", "mode"}) {
        ops.push_back(op);
      }
    }
    json::object out;
    int roll = Pick(100);
    for (int n = roll < 70 ? 1 : roll < 95 ? 2 : 3; n > 0; --n) {
      const std::string& op = ops[static_cast<size_t>(Pick(static_cast<int>(ops.size())))];
      if (out.contains(op)) {
        continue;
      }
      if (op == "equals") {
        out[op] = Chance(25) ? json::value(nullptr) : ArgValue(model, f);
      } else if (op == "not") {
        int roll = Pick(100);
        if (roll < 35 && depth > 0) {
          out[op] = Operators(model, f, depth - 1);
        } else {
          out[op] = roll < 50 ? json::value(nullptr) : ArgValue(model, f);
        }
      } else if (op == "in" || op == "notIn") {
        json::array items;
        for (int i = Chance(8) ? 0 : 1 + Pick(4); i > 0; --i) {
          items.push_back(Chance(15) ? json::value(nullptr) : ArgValue(model, f));
        }
        out[op] = std::move(items);
      } else if (op == "mode") {
        out[op] = Chance(75) ? "insensitive" : "default";
      } else if (op == "contains" || op == "startsWith" || op == "endsWith") {
        out[op] = Pattern(f.type);
        if (Chance(35)) {
          out["mode"] = "insensitive";
        }
      } else {
        out[op] = ArgValue(model, f);
      }
    }
    return out;
  }

  json::value FieldFilter(int model, const FieldSpec& f, int depth) {
    if (Chance(30)) {
      return Chance(f.optional ? 25 : 3) ? json::value(nullptr) : ArgValue(model, f);
    }
    return Operators(model, f, depth);
  }

  json::value RelationFilter(int model, int depth) {
    const ModelSpec& spec = Models()[static_cast<size_t>(model)];
    if (spec.to_many) {
      static const char* const kKinds[] = {"some", "every", "none"};
      json::object out;
      for (int n = Pick(3); n >= 0; --n) {
        out[From(kKinds)] = Where(spec.target, depth);
      }
      if (Chance(5)) {
        out.clear();
      }
      return out;
    }
    int roll = Pick(100);
    if (roll < 15) {
      return nullptr;
    }
    if (roll < 40) {
      return Where(spec.target, depth);  // a to-one filter without is/isNot is `is`
    }
    json::object out;
    for (int n = Pick(2); n >= 0; --n) {
      out[Chance(50) ? "is" : "isNot"] =
          Chance(25) ? json::value(nullptr) : json::value(Where(spec.target, depth));
    }
    return out;
  }

  std::mt19937 rng_;
  const World* world_ = nullptr;
};

storage::Value ToParam(const Val& v) {
  storage::Value p;
  switch (v.kind) {
    case Val::Kind::kNull:
      break;
    case Val::Kind::kInt:
      p.type = storage::Value::Type::kInteger;
      p.integer = v.i;
      break;
    case Val::Kind::kReal:
      p.type = storage::Value::Type::kFloat;
      p.real = v.d;
      break;
    case Val::Kind::kText:
      p.type = storage::Value::Type::kText;
      p.bytes = v.s;
      break;
  }
  return p;
}

std::string ShowRows(const World& world) {
  std::string out;
  for (int m = 0; m < 2; ++m) {
    const ModelSpec& spec = Models()[static_cast<size_t>(m)];
    out += spec.name + " (";
    for (const FieldSpec& f : spec.fields) {
      out += (f.name == "id" ? "" : ", ") + f.name;
    }
    out += "):\n";
    for (const Row& row : world.rows[m]) {
      out += " ";
      for (const Val& v : row) {
        out += " " + Show(v);
      }
      out += "\n";
    }
  }
  return out;
}

// Inserts the world's rows, in one transaction.
void InsertRows(storage::Connection& conn, const World& world) {
  EXPECT_TRUE(conn.Exec("BEGIN").ok());
  for (int m = 0; m < 2; ++m) {
    const ModelSpec& spec = Models()[static_cast<size_t>(m)];
    std::string sql = "INSERT INTO \"" + spec.name + "\" (";
    std::string marks;
    for (const FieldSpec& f : spec.fields) {
      sql += (marks.empty() ? "\"" : ", \"") + f.name + "\"";
      marks += marks.empty() ? "?" : ", ?";
    }
    sql += ") VALUES (" + marks + ")";
    for (const Row& row : world.rows[m]) {
      std::vector<storage::Value> params;
      for (const Val& v : row) {
        params.push_back(ToParam(v));
      }
      auto done = storage::ExecuteStmt(conn, sql, params, {}, nullptr);
      EXPECT_TRUE(done.ok()) << sql << ": " << done.status().message();
    }
  }
  EXPECT_TRUE(conn.Exec("COMMIT").ok());
}

// "1:[2,5] 3:[]" (to-many) or "1:4 2:null" (to-one): the ids of the rows and of their related
// rows, in order.
std::string Expected(Evaluator& eval, const World& world, int model, const json::value& where,
                     const json::value* include_where, int64_t* count) {
  std::string out;
  *count = 0;
  int target = Models()[static_cast<size_t>(model)].target;
  for (size_t i = 0; i < world.rows[model].size(); ++i) {
    if (!eval.Readable(model, i) || !Holds(eval.Where(model, i, where))) {
      continue;
    }
    ++*count;
    out += (out.empty() ? "" : " ") + std::to_string(world.rows[model][i][0].i) + ":";
    std::vector<size_t> related = eval.ReadableRelated(model, i);
    if (Models()[static_cast<size_t>(model)].to_many) {
      std::string list;
      for (size_t j : related) {
        if (include_where == nullptr || Holds(eval.Where(target, j, *include_where))) {
          list += (list.empty() ? "" : ",") + std::to_string(world.rows[target][j][0].i);
        }
      }
      out += "[" + list + "]";
    } else {
      out += related.empty() ? "null" : std::to_string(world.rows[target][related[0]][0].i);
    }
  }
  return out;
}

// The same shape from the data API's result, or a description of what is wrong with it.
std::string Actual(const std::string& result, const std::string& relation) {
  json::error_code ec;
  json::value parsed = json::parse(result, ec);
  if (ec || !parsed.is_array()) {
    return "not a JSON array: " + result;
  }
  std::string out;
  for (const json::value& row : parsed.get_array()) {
    const json::value* id = row.is_object() ? row.get_object().if_contains("id") : nullptr;
    const json::value* rel = row.is_object() ? row.get_object().if_contains(relation) : nullptr;
    if (id == nullptr || !id->is_int64() || rel == nullptr) {
      return "unexpected row shape: " + json::serialize(row);
    }
    out += (out.empty() ? "" : " ") + std::to_string(id->get_int64()) + ":";
    if (rel->is_array()) {
      std::string list;
      for (const json::value& r : rel->get_array()) {
        list += (list.empty() ? "" : ",") + json::serialize(r.at("id"));
      }
      out += "[" + list + "]";
    } else {
      out += rel->is_null() ? "null" : json::serialize(rel->at("id"));
    }
  }
  return out;
}

std::vector<int> Seeds() {
  if (const char* one = std::getenv("QUARRY_DIFFERENTIAL_SEED")) {
    return {std::atoi(one)};
  }
  int n = kIterations;
  if (const char* count = std::getenv("QUARRY_DIFFERENTIAL_ITERATIONS")) {
    n = std::atoi(count);
  }
  std::vector<int> seeds;
  for (int i = 1; i <= n; ++i) {
    seeds.push_back(i);
  }
  return seeds;
}

TEST(WhereAndPolicyDifferential, DataApiMatchesPlainEvaluator) {
  int mismatches = 0;
  int queries = 0;
  // How selective the filters were: no row, every readable row, or some of them.
  int none = 0;
  int all = 0;
  int some = 0;
  for (int seed : Seeds()) {
    Generator gen(static_cast<uint32_t>(seed));
    World world = gen.MakeWorld();
    gen.SampleFrom(&world);
    std::string text = SchemaText(world);
    TestDatabase db(text, "seed" + std::to_string(seed) + ".db");
    ASSERT_TRUE(db.ok()) << "seed " << seed << ": " << db.error();
    InsertRows(db.conn(), world);
    RecordingRunner runner(db.conn());
    for (int q = 0; q < 2 * kQueriesPerModel; ++q) {
      int model = q % 2;
      const ModelSpec& spec = Models()[static_cast<size_t>(model)];
      json::object claims = gen.Claims();
      bool service = gen.Chance(5);
      json::value where = gen.Where(model, 3);
      std::optional<json::value> include_where;
      if (spec.to_many && gen.Chance(40)) {
        include_where = gen.Where(spec.target, 2);
      }
      json::object related{{"select", {{"id", true}}}};
      if (spec.to_many) {
        related["orderBy"] = {{"id", "asc"}};
        if (include_where) {
          related["where"] = *include_where;
        }
      }
      json::object body{{"where", where}, {"orderBy", {{"id", "asc"}}}};
      if (gen.Chance(50)) {
        body["select"] = {{"id", true}, {spec.relation, related}};
      } else {
        body["include"] = {{spec.relation, related}};
      }

      Evaluator eval(world, service ? nullptr : &claims);
      int64_t expected_count = 0;
      std::string expected = Expected(eval, world, model, where,
                                      include_where ? &*include_where : nullptr, &expected_count);

      Identity identity = service ? Identity::Service(false) : Identity::User(claims);
      CompileContext ctx{db.schema(), identity, "2024-01-01T00:00:00.000Z",
                         [](std::string_view) { return std::string("signature"); }};
      Result<std::string> result = RunOperation(ctx, spec.name, "findMany", body, runner);
      std::string actual =
          result.ok() ? Actual(*result, spec.relation) : "error: " + result.status().message();
      Result<std::string> count =
          RunOperation(ctx, spec.name, "count", json::object{{"where", where}}, runner);
      std::string actual_count = count.ok() ? *count : "error: " + count.status().message();
      std::string log = runner.TakeLog();
      ++queries;
      int64_t readable = 0;
      for (size_t i = 0; i < world.rows[model].size(); ++i) {
        readable += eval.Readable(model, i) ? 1 : 0;
      }
      ++(expected_count == 0 ? none : expected_count == readable ? all : some);
      if (actual == expected && actual_count == std::to_string(expected_count)) {
        continue;
      }
      ++mismatches;
      if (mismatches > kMaxReportedMismatches) {
        continue;
      }
      ADD_FAILURE() << "seed " << seed << ", query " << q << " on " << spec.name
                    << " differs from the plain evaluator\n"
                    << "schema:\n"
                    << text
                    << "claims: " << (service ? "(a service caller)" : json::serialize(claims))
                    << "\n"
                    << "request: " << json::serialize(body) << "\n"
                    << "expected: " << expected << "\n"
                    << "actual:   " << actual << "\n"
                    << "expected count: " << expected_count << ", actual: " << actual_count << "\n"
                    << "sql:\n"
                    << log << "rows:\n"
                    << ShowRows(world);
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << queries << " queries";
  std::cout << queries << " queries: " << none << " matched no row, " << all
            << " every readable row, " << some << " some of them\n";
}

// ---- The plan cache differential test
//
// Random reads and writes under random callers, each run on two copies of one database: through
// one PlanCache that every request of the test shares (so shapes repeat with new values and new
// callers, and schemas of other seeds sit beside them) and compiled fresh (ctx.plans null). The
// answers (JSON text, or HTTP status, path and message) and both databases afterwards must be
// the same. The schema adds to the one above what changes how a request compiles: @@gate levels
// (callers carry a random `level` claim), field rules, a unique field, a Json field and, on some
// seeds, soft delete with cascade. Half the requests are earlier ones with new values
// (Revalued), under another caller, so that most statements are served from the cache.
//
// QUARRY_PLAN_CACHE_SEED=<n> runs seed n alone, QUARRY_PLAN_CACHE_ITERATIONS=<n> seeds 1..n.

constexpr int kCacheIterations = 40;
constexpr int kRequestsPerIteration = 150;

std::vector<int> CacheSeeds() {
  if (const char* one = std::getenv("QUARRY_PLAN_CACHE_SEED")) {
    return {std::atoi(one)};
  }
  int n = kCacheIterations;
  if (const char* count = std::getenv("QUARRY_PLAN_CACHE_ITERATIONS")) {
    n = std::atoi(count);
  }
  std::vector<int> seeds;
  for (int i = 1; i <= n; ++i) {
    seeds.push_back(i);
  }
  return seeds;
}

struct CacheRequest {
  std::string model;
  std::string op;
  json::object args;
  bool service = false;
  json::object claims;
  std::string now;
};

std::string Show(const CacheRequest& r) {
  return r.model + " " + r.op + " " + json::serialize(r.args) + " as " +
         (r.service ? std::string("a service caller") : "a user " + json::serialize(r.claims)) +
         " at " + r.now;
}

class RequestGenerator {
 public:
  RequestGenerator(Generator& gen, bool soft) : gen_(gen), soft_(soft) {}

  std::string SchemaText(const World& world) {
    std::string out = "enum Role { admin member guest }\n";
    static const char* const kLevels[] = {"0", "0", "2", "3", "4", "5"};
    for (int m = 0; m < 2; ++m) {
      const ModelSpec& model = Models()[static_cast<size_t>(m)];
      out += "\nmodel " + model.name + " {\n";
      for (const FieldSpec& f : model.fields) {
        out += "  " + f.name + " " + TypeText(f.type) + (f.optional ? "?" : "") +
               (f.name == "id" ? " @id" : "");
        if (f.name == "t" && gen_.Chance(50)) {
          out += " @allow('read', auth().admin == true)";
        } else if (f.name == "s" && gen_.Chance(40)) {
          out += " @allow('write', auth().uid > 0)";
        } else if (f.name == "r" && gen_.Chance(25)) {
          out += " @guarded";
        }
        out += "\n";
      }
      out += "  code Text? @unique\n";
      out += m == kOwners ? "  items items[]\n"
                          : "  meta Json?\n"
                            "  owner owners? @relation(fields: [ownerId], references: [id])\n";
      if (soft_) {
        out += "  deletedAt DateTime?\n";
        out += m == kOwners ? "  @@softDelete(cascade)\n" : "  @@softDelete\n";
      }
      for (const PolicySpec& p : world.policies[m]) {
        out += std::string("  @@") + (p.allow ? "allow" : "deny") + "('" + p.operation + "', " +
               PText(p.condition) + ")\n";
      }
      if (gen_.Chance(50)) {
        out += "  @@gate(\"";
        for (int op = 0; op < 4; ++op) {
          out += std::string(op ? "." : "") + (gen_.Chance(3) ? "9" : gen_.From(kLevels));
        }
        out += "\")\n";
      }
      out += "}\n";
    }
    return out;
  }

  void Caller(CacheRequest& r) {
    r.service = gen_.Chance(10);
    r.claims = r.service ? json::object() : gen_.Claims();
    if (!r.service && gen_.Chance(75)) {
      r.claims["level"] = gen_.Chance(20) ? gen_.Pick(8) : 3 + gen_.Pick(5);
    }
  }

  CacheRequest Request() {
    CacheRequest r;
    int model = gen_.Pick(2);
    r.model = Models()[static_cast<size_t>(model)].name;
    static const char* const kReads[] = {
        "findMany",         "findMany",       "findFirst",      "findUnique",        "count",
        "findManyAndCount", "findManyCursor", "findManyCursor", "findUniqueOrThrow", "exists"};
    static const char* const kWrites[] = {
        "create",     "create", "createMany", "update", "update",     "updateMany", "upsert",
        "upsertMany", "delete", "deleteMany", "remove", "removeMany", "restore"};
    bool read = gen_.Chance(50);
    r.op = read ? gen_.From(kReads) : gen_.From(kWrites);
    if (!soft_ && (r.op == "restore" || r.op == "remove" || r.op == "removeMany")) {
      r.op = r.op == "removeMany" ? "deleteMany" : r.op == "remove" ? "delete" : "update";
    }
    json::object& a = r.args;
    if (r.op == "findUnique" || r.op == "findUniqueOrThrow") {
      a["where"] = UniqueWhere();
      Shape(model, a);
    } else if (r.op == "count" || r.op == "exists") {
      a["where"] = gen_.Where(model, 2);
    } else if (r.op == "findManyCursor") {
      a["where"] = gen_.Where(model, 1);
      a["orderBy"] = OrderBy(model);
      a["limit"] = 1 + gen_.Pick(5);
      Shape(model, a);
    } else if (read) {
      a["where"] = gen_.Chance(25) ? json::object() : gen_.Where(model, 2);
      if (gen_.Chance(70)) {
        a["orderBy"] = OrderBy(model);
      }
      if (r.op != "findFirst" && gen_.Chance(20)) {
        a["window"] = Window(model);
      }
      if (r.op != "findFirst" && gen_.Chance(10)) {
        a["distinct"] = true;
      }
      if (r.op != "findFirst" && gen_.Chance(40)) {
        a["limit"] = gen_.Pick(6);
      }
      if (gen_.Chance(20)) {
        a["offset"] = gen_.Pick(4);
      }
      Shape(model, a);
    } else if (r.op == "create") {
      a["data"] = Data(model, true, true);
      Shape(model, a);
    } else if (r.op == "createMany" || r.op == "upsertMany") {
      json::array rows;
      for (int n = 1 + gen_.Pick(3); n > 0; --n) {
        rows.push_back(Data(model, true, false));
      }
      a["data"] = std::move(rows);
      if (r.op == "createMany" && gen_.Chance(40)) {
        a["skipDuplicates"] = gen_.Chance(70);
      }
      if (r.op == "upsertMany" && gen_.Chance(40)) {
        a["conflictTarget"] = gen_.Chance(50) ? json::value("code") : json::value({"id"});
      }
      if (r.op == "upsertMany" && gen_.Chance(40)) {
        a["update"] = gen_.Chance(30) ? json::value(gen_.Chance(50)) : json::value({"a", "s", "b"});
      }
    } else if (r.op == "update" || r.op == "upsert") {
      a["where"] = UniqueWhere();
      if (r.op == "update") {
        a["data"] = Data(model, false, true);
      } else {
        a["create"] = Data(model, true, true);
        a["update"] = Data(model, false, true);
      }
      Shape(model, a);
    } else if (r.op == "updateMany") {
      a["where"] = gen_.Where(model, 2);
      a["data"] = Data(model, false, false);
    } else if (r.op == "deleteMany" || r.op == "removeMany") {
      a["where"] = gen_.Where(model, 2);
    } else {  // delete, remove, restore
      a["where"] = UniqueWhere();
      Shape(model, a);
    }
    if (model == kItems && a.contains("where") && a["where"].is_object() && gen_.Chance(25)) {
      a["where"].get_object()["meta"] = JsonFilter();
    }
    if (soft_ && read && r.op != "findUnique" && gen_.Chance(15)) {
      a[gen_.Chance(50) ? "withDeleted" : "onlyDeleted"] = true;
    }
    Caller(r);
    return r;
  }

  // `r` with new values in place of some of its strings and numbers, and often another caller:
  // mostly the same shape, as repeated requests are.
  CacheRequest Revalued(const CacheRequest& earlier) {
    CacheRequest r = earlier;
    for (auto& [key, value] : r.args) {
      if (key != "cursor") {
        Revalue(value);
      }
    }
    if (gen_.Chance(70)) {
      Caller(r);
    }
    return r;
  }

 private:
  void Revalue(json::value& v) {
    if (v.is_object()) {
      for (auto& [key, item] : v.get_object()) {
        Revalue(item);
      }
    } else if (v.is_array()) {
      for (json::value& item : v.get_array()) {
        Revalue(item);
      }
    } else if (v.is_int64() && gen_.Chance(50)) {
      v = gen_.Chance(80) ? gen_.From(kIntPool) : gen_.Pick(40);
    } else if (v.is_double() && gen_.Chance(50)) {
      v = gen_.Chance(90) ? gen_.From(kRealPool) : 2.5 * gen_.Pick(3);
    } else if (v.is_string()) {
      // Words the SQL text depends on mostly stay (a new one is another shape), else become
      // another such word or, rarely, one the request does not take; the rest new text.
      static const char* const kWords[] = {"asc",  "desc",        "first",
                                           "last", "insensitive", "default"};
      static const char* const kStrings[] = {"a", "b", "", "abc", "admin", "member", "x", "y"};
      bool word = std::any_of(std::begin(kWords), std::end(kWords),
                              [&](const char* w) { return v.get_string() == w; });
      if (word ? gen_.Chance(15) : gen_.Chance(40)) {
        v = word && gen_.Chance(90) ? gen_.From(kWords) : gen_.From(kStrings);
      }
    }
  }

  // A window column, named with a '.' at times (a plan finds values by dotted paths).
  json::object Window(int model) {
    const ModelSpec& spec = Models()[static_cast<size_t>(model)];
    json::object w;
    switch (gen_.Pick(5)) {
      case 0:
        w = {{"rowNumber", true}, {"orderBy", {{"a", gen_.Chance(50) ? "asc" : "desc"}}}};
        break;
      case 1:
        w = {{"count", true},
             {"filter", gen_.Chance(50) ? json::value(gen_.Where(model, 0))
                                        : json::value({{"a", {{"gte", gen_.Pick(4)}}}})}};
        break;
      case 2:
        w = {{"sum", "a"}, {"partitionBy", "e"}};
        break;
      case 3:
        w = {{"lag", "a"},
             {"offset", 1 + gen_.Pick(2)},
             {"default", gen_.Value(model, spec.fields[1])},
             {"orderBy", {{"id", "asc"}}}};
        break;
      default:
        w = {{"ntile", 1 + gen_.Pick(3)}, {"orderBy", {{"id", "desc"}}}};
        break;
    }
    return {{gen_.Chance(30) ? "w.x" : "w", std::move(w)}};
  }

  // A filter on a value inside items' Json field.
  json::object JsonFilter() {
    if (gen_.Chance(50)) {
      return {{"path", {"k"}}, {gen_.Chance(50) ? "equals" : "gt", gen_.Pick(3)}};
    }
    return {{"path", "$.tag"}, {"equals", gen_.Chance(50) ? "a" : "b"}};
  }

  json::object UniqueWhere() {
    if (gen_.Chance(80)) {
      return {{"id", 1 + gen_.Pick(40)}};
    }
    static const char* const kCodes[] = {"x", "y", "z"};
    return {{"code", gen_.From(kCodes)}};
  }

  json::value OrderBy(int model) {
    const ModelSpec& spec = Models()[static_cast<size_t>(model)];
    json::array terms;
    for (int n = gen_.Pick(3); n > 0; --n) {
      const FieldSpec& f =
          spec.fields[static_cast<size_t>(gen_.Pick(static_cast<int>(spec.fields.size())))];
      json::value dir = gen_.Chance(50) ? "asc" : "desc";
      if (gen_.Chance(20)) {
        dir = {{"dir", dir}, {"nulls", gen_.Chance(50) ? "first" : "last"}};
      }
      terms.push_back(json::object{{f.name, dir}});
    }
    terms.push_back(json::object{{"id", gen_.Chance(50) ? "asc" : "desc"}});
    return terms;
  }

  // select, include or neither, with relations.
  void Shape(int model, json::object& args) {
    const ModelSpec& spec = Models()[static_cast<size_t>(model)];
    int roll = gen_.Pick(100);
    if (roll < 35) {
      if (roll < 5) {
        args["select"] = false;
      }
      return;
    }
    json::object related;
    if (spec.to_many && gen_.Chance(60)) {
      related["where"] = gen_.Where(spec.target, 1);
      related["orderBy"] = {{"id", gen_.Chance(50) ? "asc" : "desc"}};
      if (gen_.Chance(40)) {
        related["limit"] = gen_.Pick(3);
      }
    }
    if (gen_.Chance(30)) {
      related["select"] = {{"id", true}, {"t", true}, {"s", gen_.Chance(50)}};
    }
    json::value relation =
        related.empty() && gen_.Chance(50) ? json::value(true) : json::value(std::move(related));
    if (roll < 65) {
      json::object select;
      for (const FieldSpec& f : spec.fields) {
        if (gen_.Chance(50)) {
          select[f.name] = gen_.Chance(85);
        }
      }
      select["id"] = true;
      if (gen_.Chance(60)) {
        select[spec.relation] = std::move(relation);
      }
      args["select"] = std::move(select);
    } else {
      args["include"] = {{spec.relation, std::move(relation)}};
      if (spec.to_many && gen_.Chance(30)) {
        args["include"].get_object()["_count"] =
            gen_.Chance(50)
                ? json::value(true)
                : json::value(
                      {{"select", {{spec.relation, {{"where", gen_.Where(spec.target, 0)}}}}}});
      }
    }
  }

  // A row's data for a create (`create`) or an update, with nested relation writes when
  // `nested`.
  json::object Data(int model, bool create, bool nested) {
    const ModelSpec& spec = Models()[static_cast<size_t>(model)];
    json::object data;
    for (const FieldSpec& f : spec.fields) {
      if (f.name == "id") {
        if (create && gen_.Chance(60)) {
          data["id"] = 1 + gen_.Pick(45);
        }
        continue;
      }
      bool required = create && !f.optional;
      if (!gen_.Chance(required ? 98 : 35)) {
        continue;
      }
      bool numeric = f.type == Type::kInt || f.type == Type::kReal;
      if (!create && numeric && f.name != "ownerId" && gen_.Chance(35)) {
        static const char* const kAtomic[] = {"increment", "decrement", "multiply", "set"};
        data[f.name] = {{gen_.From(kAtomic), gen_.From(kIntPool)}};
        continue;
      }
      if (f.name == "ownerId") {
        data[f.name] = gen_.Chance(20) ? json::value(nullptr) : json::value(1 + gen_.Pick(34));
        continue;
      }
      data[f.name] = f.optional && gen_.Chance(15) ? json::value(nullptr) : gen_.Value(model, f);
    }
    if (gen_.Chance(25)) {
      static const char* const kCodes[] = {"x", "y", "z"};
      data["code"] = gen_.From(kCodes);
    }
    if (model == kItems && gen_.Chance(25)) {
      data["meta"] = {{"k", gen_.Pick(3)}, {"tag", gen_.Chance(50) ? "a" : "b"}};
    }
    if (!nested || !gen_.Chance(30)) {
      return data;
    }
    if (model == kOwners) {
      if (gen_.Chance(60)) {
        json::array children;
        for (int n = 1 + gen_.Pick(2); n > 0; --n) {
          json::object child = Data(kItems, true, false);
          child.erase("ownerId");
          children.push_back(std::move(child));
        }
        data["items"] = {{"create", std::move(children)}};
      } else {
        data["items"] = {{"connect", {{"id", 1 + gen_.Pick(34)}}}};
      }
    } else {
      data.erase("ownerId");
      int roll = gen_.Pick(100);
      if (roll < 50) {
        data["owner"] = {{"connect", {{"id", 1 + gen_.Pick(34)}}}};
      } else if (roll < 80 || create) {
        data["owner"] = {{"create", Data(kOwners, true, false)}};
      } else {
        data["owner"] = {{"disconnect", true}};
      }
    }
    return data;
  }

  Generator& gen_;
  bool soft_;
};

// Runs `r` on `db` as the server does (in a transaction, rolled back on an error): the answer's
// JSON text, or the error's HTTP status, path and message.
std::string RunCached(TestDatabase& db, PlanCache* plans, uint64_t generation,
                      const CacheRequest& r, SqlRunner& runner) {
  Identity identity = r.service ? Identity::Service(true) : Identity::User(r.claims);
  CompileContext ctx{db.schema(), identity, r.now,
                     [](std::string_view payload) { return "mac:" + std::string(payload); }};
  ctx.plans = plans;
  ctx.schema_generation = generation;
  auto op = ParseOperation(r.op);
  bool write = op && IsWrite(*op);
  EXPECT_TRUE(db.conn().Exec(write ? "BEGIN IMMEDIATE" : "BEGIN").ok());
  Result<std::string> result = RunOperation(ctx, r.model, r.op, json::value(r.args), runner);
  if (result.ok()) {
    EXPECT_TRUE(db.conn().Exec("COMMIT").ok());
    return *result;
  }
  EXPECT_TRUE(db.conn().RollbackIfOpen().ok());
  return "error " + std::to_string(result.status().HttpStatus()) + " at '" +
         result.status().path() + "': " + result.status().message();
}

// Every row of both tables, as text.
std::string Contents(TestDatabase& db) {
  ConnectionRunner runner(db.conn(), 32 << 20);
  std::string out;
  for (const ModelSpec& spec : Models()) {
    auto rows = runner.Run("SELECT * FROM \"" + spec.name + "\" ORDER BY id", {});
    if (!rows.ok()) {
      return rows.status().message();
    }
    out += spec.name + ":\n";
    for (const auto& row : *rows) {
      for (const storage::Value& v : row) {
        out += " " + ShowParam(v);
      }
      out += "\n";
    }
  }
  return out;
}

TEST(PlanCacheDifferential, CachedPlansAnswerAsCompilingAgainWould) {
  PlanCache cache(512);  // shared by every seed: small enough that shapes are also evicted
  int mismatches = 0;
  int requests = 0;
  int errors = 0;
  for (int seed : CacheSeeds()) {
    Generator gen(static_cast<uint32_t>(seed) * 2654435761u);
    World world = gen.MakeWorld();
    gen.SampleFrom(&world);
    RequestGenerator requests_gen(gen, gen.Chance(50));
    std::string text = requests_gen.SchemaText(world);
    TestDatabase cached(text, "cached" + std::to_string(seed) + ".db");
    TestDatabase fresh(text, "fresh" + std::to_string(seed) + ".db");
    ASSERT_TRUE(cached.ok()) << "seed " << seed << ": " << cached.error();
    ASSERT_TRUE(fresh.ok()) << "seed " << seed << ": " << fresh.error();
    InsertRows(cached.conn(), world);
    InsertRows(fresh.conn(), world);
    RecordingRunner cached_runner(cached.conn());
    RecordingRunner fresh_runner(fresh.conn());
    std::vector<CacheRequest> history;
    std::optional<CacheRequest> next_page;
    for (int i = 0; i < kRequestsPerIteration; ++i) {
      CacheRequest r;
      if (next_page && gen.Chance(70)) {
        r = *next_page;  // the next page, often for another caller
        if (gen.Chance(50)) {
          requests_gen.Caller(r);
        }
      } else if (!history.empty() && gen.Chance(50)) {
        // One of the last 40.
        r = requests_gen.Revalued(history[history.size() - 1 -
                                          static_cast<size_t>(gen.Pick(static_cast<int>(
                                              std::min<size_t>(history.size(), 40))))]);
      } else {
        r = requests_gen.Request();
      }
      next_page.reset();
      char now[40];
      std::snprintf(now, sizeof(now), "2024-01-01T00:%02d:%02d.000Z", i / 60, i % 60);
      r.now = now;
      std::string a = RunCached(cached, &cache, static_cast<uint64_t>(seed), r, cached_runner);
      std::string b = RunCached(fresh, nullptr, static_cast<uint64_t>(seed), r, fresh_runner);
      ++requests;
      errors += b.starts_with("error ") ? 1 : 0;
      std::string contents_a = Contents(cached);
      std::string contents_b = Contents(fresh);
      std::string log_a = cached_runner.TakeLog();
      std::string log_b = fresh_runner.TakeLog();
      if (a != b || contents_a != contents_b) {
        ++mismatches;
        if (mismatches <= kMaxReportedMismatches) {
          ADD_FAILURE() << "seed " << seed << ", request " << i
                        << ": the cached plan answers differently than compiling again\n"
                        << "schema:\n"
                        << text << "request: " << Show(r) << "\ncached: " << a << "\nfresh:  " << b
                        << "\n"
                        << (contents_a != contents_b ? "tables (cached):\n" + contents_a +
                                                           "tables (fresh):\n" + contents_b
                                                     : std::string())
                        << "sql (cached):\n"
                        << log_a << "sql (fresh):\n"
                        << log_b;
        }
        break;  // the databases may differ from here on
      }
      history.push_back(r);
      if (r.op == "findManyCursor" && !a.starts_with("error ")) {
        json::value page = json::parse(a);
        if (const json::value* cursor = page.as_object().if_contains("nextCursor");
            cursor != nullptr && cursor->is_string()) {
          next_page = r;
          next_page->args["cursor"] = *cursor;
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << requests << " requests";
  std::cout << requests << " requests (" << errors << " errors): " << cache.hits()
            << " statements from the cache, " << cache.misses() << " compiled\n";
}
}  // namespace
}  // namespace quarry::query
