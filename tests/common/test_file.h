#pragma once

// The case files of Quarry's data-driven tests (tests/schema/**/*.test,
// tests/schema_diff/*.test): one parser for their shared shape. A file is a list of cases;
// lines before the first case are comments. A case is
//
//   # name: <title>
//   <section line>        a line the runner's IsSection accepts, e.g. "schema" or "v1"
//   <text>                the section's text, up to the next section line or "----"
//   ...
//   ----
//   <expected output, up to the next "# name:" line or the end of the file>
//
// What the sections mean, and how the expected output is compared, is each runner's. Reading
// never fails: a malformed case is returned with `problem` set, for the runner to report.

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quarry::test_file {

struct TestCase {
  std::string title;  // after "# name:", without leading spaces
  int line = 0;       // 1-based line of "# name:"
  // The sections in file order: the section line and its text (each line ending in '\n').
  std::vector<std::pair<std::string, std::string>> sections;
  std::string expected;    // every line after "----", each ending in '\n'
  int expected_begin = 0;  // 0-based line range [begin, end) of the expected output
  int expected_end = 0;
  bool has_expected = false;  // a "----" line was seen
  std::string problem;        // text outside a section, if any
};

// Whether `line` starts a section, given the case so far.
using SectionPredicate = std::function<bool(std::string_view line, const TestCase& so_far)>;

// The cases of the file at `path`.
std::vector<TestCase> ReadTestFile(const std::filesystem::path& path,
                                   const SectionPredicate& is_section);

// Bless mode of a runner: while the environment variable named at construction is set, the
// actual outputs recorded here replace the cases' expected outputs in their files when the
// object is destroyed (at exit, for a function-local static). Not thread-safe.
class Blessings {
 public:
  explicit Blessings(const char* environment_variable);
  ~Blessings();
  Blessings(const Blessings&) = delete;
  Blessings& operator=(const Blessings&) = delete;

  bool enabled() const { return enabled_; }
  // The actual output of the case whose expected output is lines [begin, end) of `path`.
  void Record(const std::string& path, int begin, int end, const std::string& actual);

 private:
  struct Entry {
    int end = 0;
    std::string actual;
  };
  bool enabled_ = false;
  std::map<std::string, std::map<int, Entry>> entries_;
};

// Removes trailing line breaks, spaces and carriage returns.
void TrimTrailingBlankLines(std::string& text);

}  // namespace quarry::test_file
