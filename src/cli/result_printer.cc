#include "cli/result_printer.h"

#include <boost/json.hpp>
#include <charconv>

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

json::value JsonOf(const Value& value) {
  switch (value.type) {
    case Value::Type::kNull:
      return nullptr;
    case Value::Type::kInteger:
      return value.integer;
    case Value::Type::kFloat:
      return value.real;
    case Value::Type::kText:
      return json::string(value.bytes);
    case Value::Type::kBlob:
      return json::object{{"base64", Base64Encode(value.bytes)}};
  }
  return nullptr;
}

}  // namespace

std::string FormatResult(const client::ResultSet& result, OutputMode mode) {
  if (result.columns.empty()) {
    return "";
  }
  if (mode == OutputMode::kJson) {
    json::array rows;
    for (const auto& row : result.rows) {
      json::object obj;
      for (size_t c = 0; c < result.columns.size() && c < row.size(); ++c) {
        obj[result.columns[c]] = JsonOf(row[c]);
      }
      rows.push_back(std::move(obj));
    }
    return json::serialize(rows) + "\n";
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
