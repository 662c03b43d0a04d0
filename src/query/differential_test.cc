// Where filters and row policies through the data API (query::RunOperation on a SQLite file
// opened as the server opens one). WhereRegression holds small fixed cases.

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "query/data_api.h"
#include "query/sql_runner.h"
#include "schema/binder.h"
#include "schema/ddl.h"
#include "storage/connection.h"
#include "storage/execute.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

// ---- Requests on a database file

// Collects every row of a statement as values (as the server's runner does).
class CollectRows : public storage::RowSink {
 public:
  explicit CollectRows(std::vector<query::Row>& rows) : rows_(rows) {}
  void Begin(sqlite3_stmt* stmt) override { columns_ = sqlite3_column_count(stmt); }
  void Row(sqlite3_stmt* stmt) override {
    query::Row row(static_cast<size_t>(columns_));
    for (int i = 0; i < columns_; ++i) {
      storage::Value& v = row[static_cast<size_t>(i)];
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER:
          v.type = storage::Value::Type::kInteger;
          v.integer = sqlite3_column_int64(stmt, i);
          break;
        case SQLITE_FLOAT:
          v.type = storage::Value::Type::kFloat;
          v.real = sqlite3_column_double(stmt, i);
          break;
        case SQLITE_TEXT:
        case SQLITE_BLOB:
          v.type = sqlite3_column_type(stmt, i) == SQLITE_TEXT ? storage::Value::Type::kText
                                                               : storage::Value::Type::kBlob;
          v.bytes.assign(static_cast<const char*>(sqlite3_column_blob(stmt, i)),
                         static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
          break;
        default:
          break;
      }
    }
    rows_.push_back(std::move(row));
  }

 private:
  std::vector<query::Row>& rows_;
  int columns_ = 0;
};

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

// Runs statements on a connection through storage::ExecuteStmt and keeps their text.
class RecordingRunner : public SqlRunner {
 public:
  explicit RecordingRunner(storage::Connection& conn) : conn_(conn) {}

  Result<std::vector<query::Row>> Run(const std::string& sql,
                                      const std::vector<storage::Value>& params) override {
    std::string entry = sql + "\n  params:";
    for (const storage::Value& p : params) {
      entry += " " + ShowParam(p);
    }
    log_.push_back(std::move(entry));
    std::vector<query::Row> rows;
    CollectRows sink(rows);
    QUARRY_ASSIGN_OR_RETURN(storage::StmtOutcome outcome,
                            storage::ExecuteStmt(conn_, sql, params, {}, &sink));
    changes_ = outcome.affected_row_count;
    return rows;
  }
  int64_t Changes() override { return changes_; }

  std::string TakeLog() {
    std::string out;
    for (const std::string& e : log_) {
      out += e + "\n";
    }
    log_.clear();
    return out;
  }

 private:
  storage::Connection& conn_;
  int64_t changes_ = 0;
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

}  // namespace
}  // namespace quarry::query
