#include "test_file.h"

#include <fstream>

namespace quarry::test_file {

std::vector<TestCase> ReadTestFile(const std::filesystem::path& path,
                                   const SectionPredicate& is_section) {
  std::ifstream in(path);
  std::vector<TestCase> cases;
  std::string line;
  int line_number = 0;
  TestCase* current = nullptr;
  std::string* target = nullptr;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.rfind("# name:", 0) == 0) {
      if (current != nullptr) current->expected_end = line_number - 1;
      cases.emplace_back();
      current = &cases.back();
      current->title = line.substr(7);
      current->title.erase(0, current->title.find_first_not_of(' '));
      current->line = line_number;
      target = nullptr;
      continue;
    }
    if (current == nullptr) continue;
    if (current->has_expected) {
      current->expected += line + "\n";
      continue;
    }
    if (line == "----") {
      current->has_expected = true;
      current->expected_begin = line_number;
      continue;
    }
    if (is_section(line, *current)) {
      current->sections.emplace_back(line, "");
      target = &current->sections.back().second;
      continue;
    }
    if (target == nullptr) {
      if (!line.empty() && current->problem.empty()) {
        current->problem = "text outside a section at line " + std::to_string(line_number);
      }
      continue;
    }
    *target += line + "\n";
  }
  if (current != nullptr) current->expected_end = line_number;
  return cases;
}

void TrimTrailingBlankLines(std::string& text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.pop_back();
  }
}

}  // namespace quarry::test_file
