#include "storage/value.h"

namespace quarry::storage {

int BindValue(sqlite3_stmt* stmt, int index, const Value& value) {
  switch (value.type) {
    case Value::Type::kNull:
      return sqlite3_bind_null(stmt, index);
    case Value::Type::kInteger:
      return sqlite3_bind_int64(stmt, index, value.integer);
    case Value::Type::kFloat:
      return sqlite3_bind_double(stmt, index, value.real);
    case Value::Type::kText:
      return sqlite3_bind_text64(stmt, index, value.bytes.data(), value.bytes.size(),
                                 SQLITE_TRANSIENT, SQLITE_UTF8);
    case Value::Type::kBlob:
      return sqlite3_bind_blob64(stmt, index, value.bytes.data(), value.bytes.size(),
                                 SQLITE_TRANSIENT);
  }
  return SQLITE_MISUSE;
}

}  // namespace quarry::storage
