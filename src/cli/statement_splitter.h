#pragma once

// StatementSplitter: cuts SQL text into complete statements as it arrives, line by line.
// A statement is complete at a ';' that SQLite's own sqlite3_complete() accepts, so
// semicolons inside strings, quoted identifiers, comments and CREATE TRIGGER bodies do not
// end it. Not thread-safe.

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
  // True when the buffer holds something besides whitespace and comments.
  bool HasPending() const;
  // Removes and returns the incomplete rest (for end of input).
  std::string TakeRest();

 private:
  std::string buffer_;
  size_t scanned_ = 0;  // bytes of buffer_ already known to hold no statement end
};

// True when `sql` holds only whitespace, ';' and comments.
bool IsBlankSql(std::string_view sql);

}  // namespace quarry::cli
