#include "cli/sql_literal.h"

#include <cmath>

#include "cli/result_printer.h"

namespace quarry::cli {

using client::Value;

std::string SqlLiteral(const Value& value) {
  switch (value.type) {
    case Value::Type::kNull:
      return "NULL";
    case Value::Type::kInteger:
      return std::to_string(value.integer);
    case Value::Type::kFloat:
      if (std::isinf(value.real)) {
        return value.real > 0 ? "1e999" : "-1e999";
      }
      if (std::isnan(value.real)) {
        return "NULL";
      }
      return CellText(value);
    case Value::Type::kText: {
      std::string out = "'";
      for (char c : value.bytes) {
        out += c;
        if (c == '\'') {
          out += '\'';
        }
      }
      return out + "'";
    }
    case Value::Type::kBlob: {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string out = "X'";
      for (unsigned char c : value.bytes) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
      return out + "'";
    }
  }
  return "NULL";
}

}  // namespace quarry::cli
