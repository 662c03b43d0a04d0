#pragma once

// Aligned plain-text tables, as the shell and `db list` print them:
//
//    id | name
//   ----+-------
//     1 | Alice
//
// Widths count UTF-8 code points, so accented text lines up; East Asian wide characters are
// counted as one column (a known limitation).

#include <string>
#include <string_view>
#include <vector>

namespace quarry::cli {

struct TableColumn {
  std::string header;
  bool right_align = false;
};

// The table, one line per row plus the two header lines, each ending in '\n'. Rows shorter
// than the header are padded with empty cells. Newlines and tabs inside cells print as
// "\n" and "\t" so a row stays on one line.
std::string FormatTable(const std::vector<TableColumn>& columns,
                        const std::vector<std::vector<std::string>>& rows);

// Number of code points in UTF-8 `text` (bytes that are not continuation bytes).
size_t DisplayWidth(std::string_view text);

}  // namespace quarry::cli
