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

Value FromSqliteValue(sqlite3_value* value) {
  Value out;
  if (value == nullptr) {
    return out;
  }
  switch (sqlite3_value_type(value)) {
    case SQLITE_INTEGER:
      out.type = Value::Type::kInteger;
      out.integer = sqlite3_value_int64(value);
      break;
    case SQLITE_FLOAT:
      out.type = Value::Type::kFloat;
      out.real = sqlite3_value_double(value);
      break;
    case SQLITE_TEXT: {
      out.type = Value::Type::kText;
      const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(value));
      out.bytes.assign(text != nullptr ? text : "", sqlite3_value_bytes(value));
      break;
    }
    case SQLITE_BLOB: {
      out.type = Value::Type::kBlob;
      const auto* blob = static_cast<const char*>(sqlite3_value_blob(value));
      int size = sqlite3_value_bytes(value);
      if (blob != nullptr && size > 0) {
        out.bytes.assign(blob, size);
      }
      break;
    }
    default:
      break;
  }
  return out;
}

}  // namespace quarry::storage
