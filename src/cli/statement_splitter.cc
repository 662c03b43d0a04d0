#include "cli/statement_splitter.h"

#include <sqlite3.h>

namespace quarry::cli {

bool IsBlankSql(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ';') {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (sql.substr(i, 2) == "/*") {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      return false;
    }
  }
  return true;
}

namespace {

std::string TrimLeft(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n\f");
  return start == std::string_view::npos ? std::string() : std::string(text.substr(start));
}

}  // namespace

void StatementSplitter::Append(std::string_view text) { buffer_.append(text); }

std::vector<std::string> StatementSplitter::TakeComplete() {
  std::vector<std::string> out;
  size_t start = 0;
  size_t pos = scanned_;
  while (true) {
    size_t semi = buffer_.find(';', pos);
    if (semi == std::string::npos) {
      break;
    }
    std::string candidate = buffer_.substr(start, semi + 1 - start);
    if (sqlite3_complete(candidate.c_str()) != 0) {
      if (!IsBlankSql(candidate)) {
        out.push_back(TrimLeft(candidate));
      }
      start = semi + 1;
    }
    pos = semi + 1;
  }
  buffer_.erase(0, start);
  scanned_ = pos - start;
  if (scanned_ > buffer_.size()) {
    scanned_ = buffer_.size();
  }
  return out;
}

bool StatementSplitter::HasPending() const { return !IsBlankSql(buffer_); }

std::string StatementSplitter::TakeRest() {
  std::string rest = TrimLeft(buffer_);
  buffer_.clear();
  scanned_ = 0;
  return rest;
}

}  // namespace quarry::cli
