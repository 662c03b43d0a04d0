// Data-driven tests of the schema language: every tests/schema/**/*.test file.
//
// A .test file is a list of cases (read by tests/common/test_file.h). Lines before the first
// case are comments. A case is:
//
//   # name: <what the case shows>
//   file <path>          optional, repeatable: another file of the schema (for imports); its
//   <text>               text runs to the next section line
//   schema | model | error | format
//   <text of the root file, which is named main.schema>
//   ----
//   <expected output, up to the next "# name:" line or the end of the file>
//
// The kinds:
//   schema  the schema is valid; the expected output is its DDL, each statement followed by
//           ";" and a line break. The DDL is also executed on an empty in-memory SQLite
//           database opened as the server opens one (storage::Connection::Open, so with its
//           pragmas and security settings), and every file is formatted, re-parsed and
//           re-bound: the DDL must not change (the round trip), and formatting twice must
//           change nothing.
//   model   the schema is valid; the expected output is what the data API reads from the bound
//           model beyond the DDL (ModelSummary, model_summary.h: gates, policies, defaults,
//           field visibility). The DDL is executed and the round trip checked as for `schema`;
//           the summary must not change in the round trip either.
//   error   loading or validating fails; the expected output is the error message (every
//           line of it, each "file:line:column: ...").
//   format  the expected output is the canonical layout of the root file; formatting it again
//           must give it back unchanged.
// Trailing blank lines of texts and expected outputs are ignored.
//
// QUARRY_SCHEMA_TEST_BLESS=1 rewrites each case's expected output with the actual one (review
// the diff before committing it).

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "model_summary.h"
#include "schema/binder.h"
#include "schema/ddl.h"
#include "schema/formatter.h"
#include "schema/loader.h"
#include "schema/parser.h"
#include "storage/connection.h"
#include "test_file.h"

namespace quarry::schema {
namespace {

struct SchemaCase {
  std::string id;        // unique test name
  std::string location;  // file:line of "# name:"
  std::string title;
  std::string kind;
  std::map<std::string, std::string> files;  // path -> text, including main.schema
  std::string expected;
  std::string problem;     // set when the case itself is malformed
  std::string path;        // of the .test file
  int expected_begin = 0;  // 0-based line range of the expected output in the file
  int expected_end = 0;
};

// Bless mode: actual outputs by (file, expected_begin), written back at exit.
struct Blessing {
  int end = 0;
  std::string actual;
};
std::map<std::string, std::map<int, Blessing>>& Blessings() {
  static std::map<std::string, std::map<int, Blessing>> blessings;
  return blessings;
}
bool BlessingEnabled() { return std::getenv("QUARRY_SCHEMA_TEST_BLESS") != nullptr; }

void Bless(const SchemaCase& c, const std::string& actual) {
  if (BlessingEnabled()) Blessings()[c.path][c.expected_begin] = Blessing{c.expected_end, actual};
}

class BlessEnvironment : public testing::Environment {
 public:
  void TearDown() override {
    for (auto& [path, cases] : Blessings()) {
      std::ifstream in(path);
      std::vector<std::string> lines;
      std::string line;
      while (std::getline(in, line)) lines.push_back(line);
      in.close();
      for (auto it = cases.rbegin(); it != cases.rend(); ++it) {
        std::vector<std::string> replacement;
        std::istringstream actual(it->second.actual);
        while (std::getline(actual, line)) replacement.push_back(line);
        if (it->second.end < static_cast<int>(lines.size())) replacement.push_back("");
        lines.erase(lines.begin() + it->first, lines.begin() + it->second.end);
        lines.insert(lines.begin() + it->first, replacement.begin(), replacement.end());
      }
      std::ofstream out(path);
      for (const auto& l : lines) out << l << "\n";
    }
  }
};
testing::Environment* const kBlessEnvironment =
    testing::AddGlobalTestEnvironment(new BlessEnvironment);

std::string Sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return out;
}

bool IsKind(std::string_view line) {
  return line == "schema" || line == "model" || line == "error" || line == "format";
}

std::vector<SchemaCase> ParseCaseFile(const std::filesystem::path& path,
                                      const std::string& relative) {
  // "file <path>" and the kind are sections only up to the kind: the schema text after it may
  // hold any line.
  auto is_section = [](std::string_view line, const test_file::TestCase& so_far) {
    for (const auto& [section, text] : so_far.sections) {
      if (IsKind(section)) return false;
    }
    return line.rfind("file ", 0) == 0 || IsKind(line);
  };
  std::vector<SchemaCase> cases;
  for (test_file::TestCase& parsed : test_file::ReadTestFile(path, is_section)) {
    SchemaCase& c = cases.emplace_back();
    c.title = parsed.title;
    c.location = relative + ":" + std::to_string(parsed.line);
    c.path = path.string();
    c.id = Sanitize(relative.substr(0, relative.size() - 5)) + "_" + std::to_string(cases.size()) +
           "_" + Sanitize(c.title);
    for (auto& [section, text] : parsed.sections) {
      if (IsKind(section)) {
        c.kind = section;
        c.files["main.schema"] = std::move(text);
      } else {
        c.files[section.substr(5)] = std::move(text);
      }
    }
    for (auto& [name, text] : c.files) {
      test_file::TrimTrailingBlankLines(text);
      text += "\n";
    }
    c.expected = std::move(parsed.expected);
    test_file::TrimTrailingBlankLines(c.expected);
    c.expected_begin = parsed.expected_begin;
    c.expected_end = parsed.expected_end;
    c.problem = parsed.problem;
    if (c.kind.empty()) {
      c.problem = "the case has no schema/model/error/format section";
    } else if (!parsed.has_expected && c.problem.empty()) {
      c.problem = "the case has no '----' line";
    }
  }
  return cases;
}

std::vector<SchemaCase> LoadCases() {
  std::vector<SchemaCase> cases;
  std::filesystem::path root(QUARRY_SCHEMA_TEST_DIR);
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".test") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::string relative = std::filesystem::relative(file, root).string();
    for (auto& c : ParseCaseFile(file, relative)) cases.push_back(std::move(c));
  }
  return cases;
}

FileReader MapReader(const std::map<std::string, std::string>& files) {
  return [files](const std::string& path) -> Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return Status(ErrorCode::kNotFound, "No such file or directory");
    return it->second;
  };
}

std::string JoinDdl(const std::vector<std::string>& statements) {
  std::string out;
  for (const auto& s : statements) out += s + ";\n";
  test_file::TrimTrailingBlankLines(out);
  return out;
}

// Runs each statement on a fresh in-memory database opened as the server opens every
// namespace's database (storage::Connection::Open: its pragmas and security settings); returns
// the first error, or "".
std::string ExecuteDdl(const std::vector<std::string>& statements) {
  Result<std::unique_ptr<storage::Connection>> conn =
      storage::Connection::Open(":memory:", storage::ConnectionOptions{}, /*create=*/true);
  if (!conn.ok()) return "cannot open sqlite: " + conn.status().message();
  for (const auto& statement : statements) {
    Status status = (*conn)->Exec(statement);
    if (!status.ok()) return status.message() + "\n  in: " + statement;
  }
  return "";
}

// Names the case in gtest's messages instead of dumping its bytes.
void PrintTo(const SchemaCase& c, std::ostream* os) { *os << c.location << " (" << c.title << ")"; }

class SchemaCaseTest : public testing::TestWithParam<SchemaCase> {};

TEST_P(SchemaCaseTest, Run) {
  const SchemaCase& c = GetParam();
  SCOPED_TRACE(c.location + ": " + c.title);
  ASSERT_TRUE(c.problem.empty()) << c.problem;
  if (c.kind == "format") {
    Result<std::string> formatted = FormatSchemaText(c.files.at("main.schema"), "main.schema");
    ASSERT_TRUE(formatted.ok()) << formatted.status().message();
    std::string actual = *formatted;
    test_file::TrimTrailingBlankLines(actual);
    Bless(c, actual);
    EXPECT_EQ(actual, c.expected);
    Result<std::string> again = FormatSchemaText(*formatted, "main.schema");
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(*again, *formatted) << "formatting is not idempotent";
    // When the input is a valid schema, formatting keeps its DDL.
    auto before = LoadAndBindSchema("main.schema", MapReader(c.files));
    std::map<std::string, std::string> after_files = c.files;
    after_files["main.schema"] = *formatted;
    auto after = LoadAndBindSchema("main.schema", MapReader(after_files));
    EXPECT_EQ(before.ok(), after.ok());
    if (before.ok() && after.ok()) {
      EXPECT_EQ(JoinDdl(GenerateDdl(*before)), JoinDdl(GenerateDdl(*after)));
    }
    return;
  }
  Result<Schema> schema = LoadAndBindSchema("main.schema", MapReader(c.files));
  if (c.kind == "error") {
    if (schema.ok()) Bless(c, "(no error)");
    ASSERT_FALSE(schema.ok()) << "expected an error, got DDL:\n" << JoinDdl(GenerateDdl(*schema));
    Bless(c, schema.status().message());
    EXPECT_EQ(schema.status().message(), c.expected);
    return;
  }
  if (!schema.ok()) Bless(c, "(error) " + schema.status().message());
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  std::vector<std::string> ddl = GenerateDdl(*schema);
  std::string actual = c.kind == "model" ? ModelSummary(*schema) : JoinDdl(ddl);
  test_file::TrimTrailingBlankLines(actual);
  Bless(c, actual);
  EXPECT_EQ(actual, c.expected);
  EXPECT_EQ(ExecuteDdl(ddl), "");

  // Round trip: format every file, parse and bind again; the DDL and the model must not change.
  std::map<std::string, std::string> formatted_files;
  for (const auto& [path, text] : c.files) {
    Result<std::string> formatted = FormatSchemaText(text, path);
    if (!formatted.ok()) {
      // A file no import reaches is not part of the schema.
      formatted_files[path] = text;
      continue;
    }
    Result<std::string> again = FormatSchemaText(*formatted, path);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(*again, *formatted) << "formatting " << path << " is not idempotent";
    formatted_files[path] = *formatted;
  }
  Result<Schema> reparsed = LoadAndBindSchema("main.schema", MapReader(formatted_files));
  ASSERT_TRUE(reparsed.ok()) << "the formatted schema does not bind: "
                             << reparsed.status().message();
  EXPECT_EQ(JoinDdl(GenerateDdl(*reparsed)), JoinDdl(ddl)) << "round trip changed the DDL";
  EXPECT_EQ(ModelSummary(*reparsed), ModelSummary(*schema)) << "round trip changed the model";
}

INSTANTIATE_TEST_SUITE_P(Cases, SchemaCaseTest, testing::ValuesIn(LoadCases()),
                         [](const testing::TestParamInfo<SchemaCase>& info) {
                           return info.param.id;
                         });

TEST(SchemaCaseFiles, AreFound) { EXPECT_GT(LoadCases().size(), 50u); }

}  // namespace
}  // namespace quarry::schema
