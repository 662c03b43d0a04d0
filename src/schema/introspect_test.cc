// Introspection round trip: every valid case (`schema` and `model`) of tests/schema/*.test
// (schema text -> DDL run on an empty database -> introspect) must give back a model with the
// same DDL, an empty diff, and schema text that formats, binds and again gives the same DDL.

#include "schema/introspect.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "schema/binder.h"
#include "schema/ddl.h"
#include "schema/diff.h"
#include "schema/formatter.h"
#include "storage/connection.h"
#include "test_file.h"

namespace quarry::schema {
namespace {

// An empty in-memory database opened as the server opens one; handle() is what introspection
// reads.
class Db {
 public:
  Db() {
    auto conn = storage::Connection::Open(":memory:", storage::ConnectionOptions{}, true);
    EXPECT_TRUE(conn.ok()) << conn.status().message();
    if (conn.ok()) conn_ = std::move(*conn);
  }
  sqlite3* get() const { return conn_->handle(); }

 private:
  std::unique_ptr<storage::Connection> conn_;
};

Db OpenMemory() { return Db(); }

Result<Schema> BindText(const std::string& text) {
  return LoadAndBindSchema("main.schema", [text](const std::string& path) -> Result<std::string> {
    if (path == "main.schema") return text;
    return Status(ErrorCode::kNotFound, "no such file");
  });
}

std::string Join(const std::vector<std::string>& statements) {
  std::string out;
  for (const auto& s : statements) out += s + ";\n";
  return out;
}

// The single-file `schema` and `model` cases of a schema .test file.
std::vector<std::pair<std::string, std::string>> SchemaCases(const std::filesystem::path& path) {
  // As in schema_test_runner.cc: "file <path>" and the kind are sections up to the kind.
  auto is_section = [](std::string_view line, const test_file::TestCase& so_far) {
    bool kind_seen = false;
    for (const auto& section : so_far.sections) kind_seen |= !section.first.starts_with("file ");
    return !kind_seen && (line.starts_with("file ") || line == "schema" || line == "model" ||
                          line == "error" || line == "format");
  };
  std::vector<std::pair<std::string, std::string>> cases;
  for (const test_file::TestCase& c : test_file::ReadTestFile(path, is_section)) {
    if (c.sections.size() == 1 && c.has_expected &&
        (c.sections[0].first == "schema" || c.sections[0].first == "model")) {
      cases.emplace_back(path.filename().string() + ": " + c.title, c.sections[0].second);
    }
  }
  return cases;
}

TEST(IntrospectTest, RoundTripOfSchemaTestCases) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(QUARRY_SCHEMA_TEST_DIR)) {
    if (entry.path().extension() != ".test") continue;
    for (const auto& [name, text] : SchemaCases(entry.path())) {
      SCOPED_TRACE(name);
      // Known limitation: soft delete is recognised only by a column named "deletedAt".
      if (name.find("mapped deletedAt") != std::string::npos) continue;
      Result<Schema> original = BindText(text);
      if (!original.ok()) continue;  // needs imports or other files
      std::vector<std::string> ddl = GenerateDdl(*original);
      Db db = OpenMemory();
      ASSERT_EQ(sqlite3_exec(db.get(), Join(ddl).c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
      Result<IntrospectedSchema> live = IntrospectSchema(db.get());
      ASSERT_TRUE(live.ok()) << live.status().message();
      EXPECT_EQ(Join(GenerateDdl(live->schema)), Join(ddl));
      Result<MigrationPlan> plan = DiffSchemas(live->schema, *original);
      ASSERT_TRUE(plan.ok()) << plan.status().message();
      EXPECT_TRUE(plan->empty()) << Join(plan->statements);
      std::string written = SchemaText(live->schema);
      Result<std::string> formatted = FormatSchemaText(written, "introspected.schema");
      ASSERT_TRUE(formatted.ok()) << formatted.status().message() << "\n" << written;
      Result<Schema> rebound = BindText(*formatted);
      ASSERT_TRUE(rebound.ok()) << rebound.status().message() << "\n" << *formatted;
      EXPECT_EQ(Join(GenerateDdl(*rebound)), Join(ddl)) << *formatted;
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

// `migrate push` to a server sends SchemaText of the target schema: the defaults that the data
// API fills in must survive it, not turn into errors or literals.
TEST(IntrospectTest, SchemaTextKeepsTheDefaultsTheDataApiFillsIn) {
  Result<Schema> original = BindText(
      "model posts { id Text @id @default(nanoid())  by Integer? @default(auth().userId)"
      "  title Text  slug Text @default(title) }");
  ASSERT_TRUE(original.ok()) << original.status().message();
  std::string written = SchemaText(*original);
  Result<Schema> rebound = BindText(written);
  ASSERT_TRUE(rebound.ok()) << rebound.status().message() << "\n" << written;
  const Model& posts = rebound->models.at(0);
  EXPECT_EQ(posts.FindField("id")->default_value->kind, DefaultValue::Kind::kNanoid);
  EXPECT_EQ(posts.FindField("by")->default_value->kind, DefaultValue::Kind::kAuthClaim);
  EXPECT_EQ(posts.FindField("by")->default_value->claim, "userId");
  EXPECT_EQ(posts.FindField("slug")->default_value->kind, DefaultValue::Kind::kField);
  EXPECT_EQ(posts.FindField("slug")->default_value->field, "title");
  EXPECT_FALSE(posts.FindField("slug")->default_value->in_ddl());
}

TEST(IntrospectTest, SkipsInternalAndShadowTablesAndReportsWhatItLeavesOut) {
  Db db = OpenMemory();
  ASSERT_EQ(sqlite3_exec(db.get(),
                         "CREATE TABLE _quarry_migrations (id TEXT PRIMARY KEY);"
                         "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0));"
                         "CREATE VIRTUAL TABLE t_fts USING fts5(x, content='t', "
                         "content_rowid='id');"
                         "CREATE TABLE pair (a INTEGER, b INTEGER, PRIMARY KEY (a, b));",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  Result<IntrospectedSchema> live = IntrospectSchema(db.get());
  ASSERT_TRUE(live.ok()) << live.status().message();
  ASSERT_EQ(live->schema.models.size(), 2u);
  EXPECT_EQ(live->schema.models[0].table, "t");
  EXPECT_EQ(live->schema.models[0].fts_fields, std::vector<std::string>{"x"});
  EXPECT_FALSE(live->schema.models[0].strict);
  EXPECT_EQ(live->schema.models[1].table, "pair");
  std::string warnings;
  for (const auto& w : live->warnings) warnings += w + "\n";
  EXPECT_EQ(warnings, "t.n: CHECK (n > 0) left out\npair: composite primary key left out\n");
}

// Regression: the CREATE TABLE text was read without knowing comments, so a comma in a
// comment split a column in two and a keyword in one (CHECK, UNIQUE) was taken for the clause.
TEST(IntrospectTest, CommentsInTableTextAreNotColumnsOrClauses) {
  Db db = OpenMemory();
  ASSERT_EQ(sqlite3_exec(db.get(),
                         "CREATE TABLE notes (\n"
                         "  id INTEGER PRIMARY KEY, -- the key, see CHECK below\n"
                         "  body TEXT /* not UNIQUE, (yet */ NOT NULL,\n"
                         "  \"n\" INTEGER CHECK (\"n\" IN (0, 1)) -- a flag, UNIQUE (never)\n"
                         ")",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  Result<IntrospectedSchema> live = IntrospectSchema(db.get());
  ASSERT_TRUE(live.ok()) << live.status().message();
  ASSERT_EQ(live->schema.models.size(), 1u);
  const Model& notes = live->schema.models[0];
  ASSERT_EQ(notes.fields.size(), 3u);
  EXPECT_FALSE(notes.fields[0].unique);
  EXPECT_FALSE(notes.fields[1].unique);
  EXPECT_FALSE(notes.fields[2].unique);
  EXPECT_EQ(notes.fields[2].type.scalar, ScalarType::kBoolean) << SchemaText(live->schema);
  std::string warnings;
  for (const auto& w : live->warnings) warnings += w + "\n";
  EXPECT_EQ(warnings, "");
}

}  // namespace
}  // namespace quarry::schema
