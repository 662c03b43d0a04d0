#pragma once

// StatementSplitter: cuts SQL text into complete statements as it arrives, line by line.
// A statement is complete at a ';' that SQLite's own sqlite3_complete() accepts, so
// semicolons inside strings, quoted identifiers, comments and CREATE TRIGGER bodies do not
// end it (the cutting is sql::SplitCompleteStatements, common/sql_statement.h, shared with the
// migrator). Not thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace quarry::cli {

class StatementSplitter {
 public:
  // Adds text (typically one line including its '\n').
  void Append(std::string_view text);
  // Removes and returns the complete statements buffered so far, each ending in ';' and
  // without leading whitespace; blank statements (only ';', spaces, comments) are dropped.
  std::vector<std::string> TakeComplete();
  // True when the buffer holds something besides whitespace, ';' and comments.
  bool HasPending() const;
  // Removes and returns the incomplete rest (for end of input).
  std::string TakeRest();

 private:
  std::string buffer_;
  // False while no ';' arrived since the last TakeComplete: then nothing new can be complete,
  // and a long statement arriving line by line is not cut again at every line.
  bool may_have_end_ = false;
};

}  // namespace quarry::cli
