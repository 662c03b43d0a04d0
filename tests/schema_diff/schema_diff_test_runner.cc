// Data-driven tests of the schema diff: every tests/schema_diff/*.test file.
//
// A case (read by tests/common/test_file.h):
//
//   # name: <what the case shows>
//   v1                    the schema the database is created with (GenerateDdl)
//   <schema text>
//   seed                  optional: SQL run after it
//   <sql>
//   v2                    the target schema
//   <schema text>
//   allow-data-loss       optional line: DiffOptions::allow_data_loss
//   query                 optional: SQL whose rows are printed after the plan is applied
//   <sql>
//   ----
//   <expected output>
//
// The output is the plan (each statement followed by ";"), then "-- destructive: ..." lines,
// then, after applying it with ApplyPlan, "-- rows" and the query's rows (values joined by
// "|", NULL as "NULL"). A refused plan prints "error: <message>" instead. After applying, the
// database is introspected again: its diff against v2 must be empty. The database is opened
// with storage::Connection::Open, so the cases run with the server's pragmas.
// QUARRY_SCHEMA_TEST_BLESS=1 prints the actual outputs instead of failing.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "schema/binder.h"
#include "schema/ddl.h"
#include "schema/diff.h"
#include "schema/introspect.h"
#include "storage/connection.h"
#include "storage/statement.h"
#include "test_file.h"

namespace quarry::schema {
namespace {

struct DiffCase {
  std::string name;
  std::map<std::string, std::string> sections;  // v1, seed, v2, query
  bool allow_data_loss = false;
  std::string expected;
  std::string problem;  // set when the case itself is malformed
};

// Names the case in gtest's messages instead of dumping its bytes.
void PrintTo(const DiffCase& c, std::ostream* os) { *os << c.name; }

std::vector<DiffCase> ReadCases() {
  std::vector<DiffCase> cases;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(QUARRY_SCHEMA_DIFF_TEST_DIR)) {
    if (e.path().extension() == ".test") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  auto is_section = [](std::string_view line, const test_file::TestCase&) {
    return line == "v1" || line == "seed" || line == "v2" || line == "query" ||
           line == "allow-data-loss";
  };
  for (const auto& path : files) {
    for (test_file::TestCase& parsed : test_file::ReadTestFile(path, is_section)) {
      DiffCase& c = cases.emplace_back();
      c.name = path.stem().string() + ": " + parsed.title;
      for (auto& [section, text] : parsed.sections) {
        if (section == "allow-data-loss") {
          c.allow_data_loss = true;
        } else {
          c.sections[section] += text;
        }
      }
      c.expected = std::move(parsed.expected);
      while (c.expected.size() >= 2 && c.expected.ends_with("\n\n")) c.expected.pop_back();
      c.problem = parsed.problem;
    }
  }
  return cases;
}

Result<Schema> BindText(const std::string& text) {
  return LoadAndBindSchema("main.schema", [text](const std::string& path) -> Result<std::string> {
    if (path == "main.schema") return text;
    return Status(ErrorCode::kNotFound, "no such file");
  });
}

std::string Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    return message;
  }
  return "";
}

std::string QueryRows(sqlite3* db, const std::string& sql) {
  Result<storage::Statement> prepared = storage::Statement::Prepare(db, sql);
  if (!prepared.ok()) {
    return "query error: " + prepared.status().message() + "\n";
  }
  sqlite3_stmt* stmt = prepared->get();
  std::string out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const unsigned char* text = sqlite3_column_text(stmt, i);
      out += (i ? "|" : "") + std::string(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
    out += "\n";
  }
  return out;
}

class SchemaDiffTest : public testing::TestWithParam<DiffCase> {};

TEST_P(SchemaDiffTest, Case) {
  const DiffCase& c = GetParam();
  ASSERT_TRUE(c.problem.empty()) << c.problem;
  Result<Schema> v1 = BindText(c.sections.at("v1"));
  ASSERT_TRUE(v1.ok()) << v1.status().message();
  Result<Schema> v2 = BindText(c.sections.at("v2"));
  ASSERT_TRUE(v2.ok()) << v2.status().message();
  // Opened as the server opens a namespace's database: its pragmas and security settings.
  Result<std::unique_ptr<storage::Connection>> conn =
      storage::Connection::Open(":memory:", storage::ConnectionOptions{}, /*create=*/true);
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  sqlite3* raw = (*conn)->handle();
  std::string ddl;
  for (const auto& s : GenerateDdl(*v1)) ddl += s + ";\n";
  ASSERT_EQ(Exec(raw, ddl), "");
  if (c.sections.count("seed")) {
    ASSERT_EQ(Exec(raw, c.sections.at("seed")), "");
  }

  Result<IntrospectedSchema> live = IntrospectSchema(raw);
  ASSERT_TRUE(live.ok()) << live.status().message();
  Result<MigrationPlan> plan = DiffSchemas(live->schema, *v2, DiffOptions{c.allow_data_loss}, raw);
  std::string actual;
  if (!plan.ok()) {
    actual = "error: " + plan.status().message() + "\n";
  } else {
    for (const auto& s : plan->statements) actual += s + ";\n";
    for (const auto& d : plan->destructive) actual += "-- destructive: " + d + "\n";
    Status applied = ApplyPlan(raw, *plan);
    if (!applied.ok()) {
      actual += "apply error: " + applied.message() + "\n";
    } else {
      Result<IntrospectedSchema> after = IntrospectSchema(raw);
      ASSERT_TRUE(after.ok());
      Result<MigrationPlan> again = DiffSchemas(after->schema, *v2, DiffOptions{true});
      ASSERT_TRUE(again.ok()) << again.status().message();
      std::string rest;
      for (const auto& s : again->statements) rest += s + ";\n";
      EXPECT_EQ(rest, "") << "the database does not match v2 after the plan";
    }
    if (c.sections.count("query")) actual += "-- rows\n" + QueryRows(raw, c.sections.at("query"));
  }
  if (std::getenv("QUARRY_SCHEMA_TEST_BLESS") != nullptr) {
    std::cout << "=== " << c.name << "\n" << actual << "===\n";
    return;
  }
  EXPECT_EQ(actual, c.expected);
}

std::string CaseName(const testing::TestParamInfo<DiffCase>& info) {
  std::string out;
  for (char ch : info.param.name) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out + "_" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(Files, SchemaDiffTest, testing::ValuesIn(ReadCases()), CaseName);

}  // namespace
}  // namespace quarry::schema
