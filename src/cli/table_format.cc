#include "cli/table_format.h"

#include <algorithm>

namespace quarry::cli {

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) {
      ++width;
    }
  }
  return width;
}

namespace {

std::string Escape(std::string_view cell) {
  std::string out;
  out.reserve(cell.size());
  for (char c : cell) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out;
}

void Pad(std::string& out, std::string_view cell, size_t width, bool right) {
  size_t fill = width - std::min(width, DisplayWidth(cell));
  if (right) {
    out.append(fill, ' ');
    out += cell;
  } else {
    out += cell;
    out.append(fill, ' ');
  }
}

}  // namespace

std::string FormatTable(const std::vector<TableColumn>& columns,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size());
  std::vector<size_t> widths(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    widths[c] = DisplayWidth(columns[c].header);
  }
  for (const auto& row : rows) {
    std::vector<std::string> escaped(columns.size());
    for (size_t c = 0; c < columns.size() && c < row.size(); ++c) {
      escaped[c] = Escape(row[c]);
      widths[c] = std::max(widths[c], DisplayWidth(escaped[c]));
    }
    cells.push_back(std::move(escaped));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& values, bool header) {
    for (size_t c = 0; c < columns.size(); ++c) {
      out += c == 0 ? " " : " | ";
      Pad(out, values[c], widths[c], !header && columns[c].right_align);
    }
    while (!out.empty() && out.back() == ' ') {
      out.pop_back();
    }
    out += '\n';
  };
  std::vector<std::string> headers;
  for (const auto& col : columns) {
    headers.push_back(col.header);
  }
  line(headers, true);
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c > 0) {
      out += '+';
    }
    out.append(widths[c] + 2, '-');
  }
  out += '\n';
  for (const auto& row : cells) {
    line(row, false);
  }
  return out;
}

}  // namespace quarry::cli
