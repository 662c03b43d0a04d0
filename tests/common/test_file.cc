#include "test_file.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

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

Blessings::Blessings(const char* environment_variable)
    : enabled_(std::getenv(environment_variable) != nullptr) {}

void Blessings::Record(const std::string& path, int begin, int end, const std::string& actual) {
  if (enabled_) {
    entries_[path][begin] = Entry{end, actual};
  }
}

Blessings::~Blessings() {
  for (auto& [path, cases] : entries_) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
      lines.push_back(line);
    }
    in.close();
    for (auto it = cases.rbegin(); it != cases.rend(); ++it) {
      std::vector<std::string> replacement;
      std::istringstream actual(it->second.actual);
      while (std::getline(actual, line)) {
        replacement.push_back(line);
      }
      if (it->second.end < static_cast<int>(lines.size())) {
        replacement.push_back("");
      }
      lines.erase(lines.begin() + it->first, lines.begin() + it->second.end);
      lines.insert(lines.begin() + it->first, replacement.begin(), replacement.end());
    }
    std::ofstream out(path);
    for (const auto& l : lines) {
      out << l << "\n";
    }
  }
}

}  // namespace quarry::test_file
