#include "protocol/value.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <limits>

#include "common/base64.h"

namespace quarry::protocol {
namespace json = boost::json;

namespace {

Status Invalid(std::string_view where, std::string_view what) {
  return Status(ErrorCode::kInvalidArgument, std::string(where) + ": " + std::string(what));
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  size_t len;
  uint32_t min;
  uint32_t cp;
  if (c < 0x80) {
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, min = 0x80, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, min = 0x800, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

json::string_view ColumnText(sqlite3_stmt* stmt, int col, std::string& scratch) {
  const char* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
  std::string_view view(text, static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
  for (size_t i = 0; i < view.size();) {
    size_t len = Utf8SequenceLength(view, i);
    if (len == 0) {
      scratch = SanitizeUtf8(view);
      return scratch;
    }
    i += len;
  }
  return view;
}

std::string ColumnBlob(sqlite3_stmt* stmt, int col) {
  const char* data = static_cast<const char*>(sqlite3_column_blob(stmt, col));
  return Base64Encode(std::string_view(data, static_cast<size_t>(sqlite3_column_bytes(stmt, col))));
}

}  // namespace

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t len = Utf8SequenceLength(text, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

Result<Value> ValueFromJson(const json::value& jv, std::string_view where) {
  const json::object* obj = jv.if_object();
  if (obj == nullptr) {
    return Invalid(where, "expected a value object like {\"type\":\"integer\",\"value\":\"1\"}");
  }
  const json::value* type = obj->if_contains("type");
  if (type == nullptr || !type->is_string()) {
    return Invalid(where, "missing string field \"type\"");
  }
  const json::string& t = type->get_string();
  Value value;
  const json::value* v = obj->if_contains("value");
  if (t == "null") {
    value.type = Value::Type::kNull;
  } else if (t == "integer") {
    value.type = Value::Type::kInteger;
    if (v != nullptr && v->is_string()) {
      const json::string& s = v->get_string();
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value.integer);
      if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
        return Invalid(where,
                       "integer value \"" + std::string(s) + "\" is not a 64-bit decimal integer");
      }
    } else if (v != nullptr && v->is_int64()) {
      value.integer = v->get_int64();
    } else {
      return Invalid(where, "integer value must be a decimal string");
    }
  } else if (t == "float") {
    value.type = Value::Type::kFloat;
    if (v == nullptr || !v->is_number()) {
      return Invalid(where, "float value must be a JSON number");
    }
    value.real = v->to_number<double>();
  } else if (t == "text") {
    value.type = Value::Type::kText;
    if (v == nullptr || !v->is_string()) {
      return Invalid(where, "text value must be a JSON string");
    }
    value.bytes = std::string(v->get_string());
  } else if (t == "blob") {
    value.type = Value::Type::kBlob;
    const json::value* b64 = obj->if_contains("base64");
    if (b64 == nullptr || !b64->is_string()) {
      return Invalid(where, "blob value needs a string field \"base64\"");
    }
    auto decoded = Base64Decode(b64->get_string());
    if (!decoded) {
      return Invalid(where, "blob \"base64\" is not valid base64");
    }
    value.bytes = std::move(*decoded);
  } else {
    return Invalid(where, "unknown value type \"" + std::string(t) + "\"");
  }
  return value;
}

Value ColumnValue(sqlite3_stmt* stmt, int col) {
  Value value;
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
      value.type = Value::Type::kInteger;
      value.integer = sqlite3_column_int64(stmt, col);
      break;
    case SQLITE_FLOAT:
      value.type = Value::Type::kFloat;
      value.real = sqlite3_column_double(stmt, col);
      break;
    case SQLITE_TEXT: {
      std::string scratch;
      value.type = Value::Type::kText;
      value.bytes = std::string(ColumnText(stmt, col, scratch));
      break;
    }
    case SQLITE_BLOB: {
      const char* data = static_cast<const char*>(sqlite3_column_blob(stmt, col));
      value.type = Value::Type::kBlob;
      value.bytes.assign(data, static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
      break;
    }
    default:
      break;
  }
  return value;
}

double FiniteForJson(double value) {
  if (std::isinf(value)) {
    return value > 0 ? std::numeric_limits<double>::max() : -std::numeric_limits<double>::max();
  }
  return value;
}

json::value ValueToJson(const Value& value) {
  json::object out;
  switch (value.type) {
    case Value::Type::kInteger: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value.integer);
      out.emplace("type", "integer");
      out.emplace("value", json::string_view(buf, static_cast<size_t>(end - buf)));
      break;
    }
    case Value::Type::kFloat:
      out.emplace("type", "float");
      out.emplace("value", FiniteForJson(value.real));
      break;
    case Value::Type::kText:
      out.emplace("type", "text");
      out.emplace("value", value.bytes);
      break;
    case Value::Type::kBlob:
      out.emplace("type", "blob");
      out.emplace("base64", Base64Encode(value.bytes));
      break;
    case Value::Type::kNull:
      out.emplace("type", "null");
      break;
  }
  return out;
}

json::value ColumnToJson(sqlite3_stmt* stmt, int col) {
  return ValueToJson(ColumnValue(stmt, col));
}

Result<Value> ValueFromPlainJson(const json::value& jv, std::string_view where) {
  Value value;
  if (jv.is_null()) {
    value.type = Value::Type::kNull;
  } else if (jv.is_bool()) {
    value.type = Value::Type::kInteger;
    value.integer = jv.get_bool() ? 1 : 0;
  } else if (jv.is_int64()) {
    value.type = Value::Type::kInteger;
    value.integer = jv.get_int64();
  } else if (jv.is_uint64()) {
    return Invalid(where, "integer is out of the 64-bit signed range");
  } else if (jv.is_double()) {
    value.type = Value::Type::kFloat;
    value.real = jv.get_double();
  } else if (jv.is_string()) {
    value.type = Value::Type::kText;
    value.bytes = std::string(jv.get_string());
  } else if (const json::object* obj = jv.if_object(); obj != nullptr && obj->size() == 1 &&
                                                       obj->contains("base64") &&
                                                       obj->at("base64").is_string()) {
    auto decoded = Base64Decode(obj->at("base64").get_string());
    if (!decoded) {
      return Invalid(where, "blob \"base64\" is not valid base64");
    }
    value.type = Value::Type::kBlob;
    value.bytes = std::move(*decoded);
  } else {
    return Invalid(where, "expected null, a number, a string or {\"base64\": \"...\"}");
  }
  return value;
}

json::value ColumnToPlainJson(sqlite3_stmt* stmt, int col) {
  std::string scratch;
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
      return sqlite3_column_int64(stmt, col);
    case SQLITE_FLOAT:
      return FiniteForJson(sqlite3_column_double(stmt, col));
    case SQLITE_TEXT:
      return json::string(ColumnText(stmt, col, scratch));
    case SQLITE_BLOB:
      return json::object{{"base64", ColumnBlob(stmt, col)}};
    default:
      return nullptr;
  }
}

}  // namespace quarry::protocol
