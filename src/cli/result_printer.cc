#include "cli/result_printer.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "cli/csv.h"
#include "cli/table_format.h"
#include "common/base64.h"

namespace quarry::cli {

namespace json = boost::json;
using client::Value;

std::string CellText(const Value& value) {
  switch (value.type) {
    case Value::Type::kNull:
      return "NULL";
    case Value::Type::kInteger:
      return std::to_string(value.integer);
    case Value::Type::kFloat: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value.real);
      std::string text(buf, ec == std::errc() ? end : buf);
      if (text.find_first_of(".eEn") == std::string::npos) {
        text += ".0";
      }
      return text;
    }
    case Value::Type::kText:
      return value.bytes;
    case Value::Type::kBlob:
      return client::DebugString(value);
  }
  return "";
}

namespace {

// Boost.JSON writes doubles in scientific form (1.5E0); a number is written here the way a
// person and JSON.parse read it: the shortest text that round-trips (1.5, 0.1, 1e+300).
// Infinities, which JSON cannot spell, become 9e999 as in SQLite's json().
void AppendJson(const Value& value, std::string& out) {
  switch (value.type) {
    case Value::Type::kNull:
      out += "null";
      return;
    case Value::Type::kInteger:
      out += std::to_string(value.integer);
      return;
    case Value::Type::kFloat:
      if (std::isinf(value.real)) {
        out += value.real > 0 ? "9e999" : "-9e999";
      } else if (std::isnan(value.real)) {
        out += "null";
      } else {
        out += CellText(value);
      }
      return;
    case Value::Type::kText:
      out += json::serialize(json::string(value.bytes));
      return;
    case Value::Type::kBlob:
      out += json::serialize(json::object{{"base64", Base64Encode(value.bytes)}});
      return;
  }
}

}  // namespace

std::string FormatResult(const client::ResultSet& result, OutputMode mode) {
  if (result.columns.empty()) {
    return "";
  }
  if (mode == OutputMode::kJson) {
    std::string out = "[";
    for (size_t r = 0; r < result.rows.size(); ++r) {
      out += r == 0 ? "{" : ",{";
      const auto& row = result.rows[r];
      for (size_t c = 0; c < result.columns.size() && c < row.size(); ++c) {
        if (c > 0) {
          out += ",";
        }
        out += json::serialize(json::string(result.columns[c]));
        out += ":";
        AppendJson(row[c], out);
      }
      out += "}";
    }
    return out + "]\n";
  }
  if (mode == OutputMode::kCsv) {
    std::string out;
    for (size_t c = 0; c < result.columns.size(); ++c) {
      out += (c ? "," : "") + CsvField(result.columns[c]);
    }
    out += "\n";
    for (const auto& row : result.rows) {
      for (size_t c = 0; c < row.size(); ++c) {
        out += (c ? "," : "") +
               (row[c].type == Value::Type::kNull ? std::string() : CsvField(CellText(row[c])));
      }
      out += "\n";
    }
    return out;
  }
  if (mode == OutputMode::kLine) {
    size_t width = 0;
    for (const auto& name : result.columns) {
      width = std::max(width, DisplayWidth(name));
    }
    std::string out;
    for (size_t r = 0; r < result.rows.size(); ++r) {
      if (r > 0) {
        out += "\n";
      }
      const auto& row = result.rows[r];
      for (size_t c = 0; c < result.columns.size() && c < row.size(); ++c) {
        out += std::string(width - DisplayWidth(result.columns[c]), ' ') + result.columns[c] +
               " = " + CellText(row[c]) + "\n";
      }
    }
    return out;
  }
  std::vector<TableColumn> columns;
  for (size_t c = 0; c < result.columns.size(); ++c) {
    bool numeric = !result.rows.empty();
    for (const auto& row : result.rows) {
      if (c < row.size() && row[c].type != Value::Type::kInteger &&
          row[c].type != Value::Type::kFloat && row[c].type != Value::Type::kNull) {
        numeric = false;
      }
    }
    columns.push_back(TableColumn{result.columns[c], numeric});
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : result.rows) {
    std::vector<std::string> line;
    for (const auto& value : row) {
      line.push_back(CellText(value));
    }
    cells.push_back(std::move(line));
  }
  size_t n = result.rows.size();
  return FormatTable(columns, cells) + "(" + std::to_string(n) + (n == 1 ? " row)\n" : " rows)\n");
}

}  // namespace quarry::cli
