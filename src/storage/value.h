#pragma once

// Value: one SQL value, in SQLite's five storage classes, as bound to a statement parameter.
// Transport encodings (Hrana JSON, the legacy API's plain JSON) live in protocol/.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace quarry::storage {

struct Value {
  enum class Type { kNull, kInteger, kFloat, kText, kBlob };
  Type type = Type::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string bytes;  // text (UTF-8) or blob
};

// Binds `value` to parameter `index` (1-based) of `stmt`; returns SQLite's result code.
int BindValue(sqlite3_stmt* stmt, int index, const Value& value);

// A copy of `value` (a function argument, a pre-update hook's row value).
Value FromSqliteValue(sqlite3_value* value);

}  // namespace quarry::storage
