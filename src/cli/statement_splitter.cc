#include "cli/statement_splitter.h"

#include "common/sql_statement.h"

namespace quarry::cli {
namespace {

std::string TrimLeft(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n\f");
  return start == std::string_view::npos ? std::string() : std::string(text.substr(start));
}

}  // namespace

void StatementSplitter::Append(std::string_view text) {
  buffer_.append(text);
  if (text.find(';') != std::string_view::npos) {
    may_have_end_ = true;
  }
}

std::vector<std::string> StatementSplitter::TakeComplete() {
  std::vector<std::string> out;
  if (!may_have_end_) {
    return out;
  }
  may_have_end_ = false;
  sql::SplitSql split = sql::SplitCompleteStatements(buffer_);
  for (std::string_view statement : split.statements) {
    if (!sql::IsBlankSql(statement)) {
      out.push_back(TrimLeft(statement));
    }
  }
  buffer_.erase(0, buffer_.size() - split.rest.size());
  return out;
}

bool StatementSplitter::HasPending() const { return !sql::IsBlankSql(buffer_); }

std::string StatementSplitter::TakeRest() {
  std::string rest = TrimLeft(buffer_);
  buffer_.clear();
  may_have_end_ = false;
  return rest;
}

}  // namespace quarry::cli
