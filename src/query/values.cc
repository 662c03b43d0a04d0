#include "query/values.h"

#include <boost/json/serialize.hpp>
#include <cctype>
#include <cmath>
#include <limits>

#include "common/base64.h"

namespace quarry::query {
namespace {

constexpr int64_t kMaxSafeInteger = 9007199254740991;  // 2^53 - 1

Status TypeError(const std::string& path, const std::string& expected,
                 const boost::json::value& got) {
  std::string shown = boost::json::serialize(got);
  if (shown.size() > 60) {
    shown = shown.substr(0, 57) + "...";
  }
  return Status(ErrorCode::kInvalidArgument, path + ": expected " + expected + ", got " + shown)
      .WithPath(path);
}

bool Digits(std::string_view text, size_t pos, size_t count) {
  if (pos + count > text.size()) {
    return false;
  }
  for (size_t i = pos; i < pos + count; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<int64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 20) {
    return std::nullopt;
  }
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    i = 1;
  }
  if (i == text.size()) {
    return std::nullopt;
  }
  uint64_t magnitude = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return std::nullopt;
    }
    magnitude = magnitude * 10 + digit;
  }
  uint64_t limit = negative ? uint64_t(1) << 63 : (uint64_t(1) << 63) - 1;
  if (magnitude > limit) {
    return std::nullopt;
  }
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

}  // namespace

size_t Utf8Length(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) {
    n += (c & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

bool IsIsoDateTime(std::string_view t) {
  if (!Digits(t, 0, 4) || t.size() < 10 || t[4] != '-' || !Digits(t, 5, 2) || t[7] != '-' ||
      !Digits(t, 8, 2)) {
    return false;
  }
  if (t.size() == 10) {
    return true;
  }
  if ((t[10] != 'T' && t[10] != ' ') || !Digits(t, 11, 2) || t.size() < 16 || t[13] != ':' ||
      !Digits(t, 14, 2)) {
    return false;
  }
  size_t i = 16;
  if (i < t.size() && t[i] == ':') {
    if (!Digits(t, i + 1, 2)) {
      return false;
    }
    i += 3;
    if (i < t.size() && t[i] == '.') {
      size_t start = ++i;
      while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
        ++i;
      }
      if (i == start) {
        return false;
      }
    }
  }
  if (i == t.size()) {
    return true;
  }
  if (t[i] == 'Z') {
    return i + 1 == t.size();
  }
  if (t[i] == '+' || t[i] == '-') {
    return t.size() == i + 6 && Digits(t, i + 1, 2) && t[i + 3] == ':' && Digits(t, i + 4, 2);
  }
  return false;
}

std::string ExpectedValue(const schema::Schema& schema, const schema::Field& field) {
  using schema::ScalarType;
  if (field.type.kind == schema::FieldType::Kind::kEnum) {
    std::string values;
    if (const schema::Enum* e = schema.FindEnum(field.type.name)) {
      for (const std::string& v : e->values) {
        values += (values.empty() ? "" : ", ") + v;
      }
    }
    return "one of " + field.type.name + " (" + values + ")";
  }
  switch (field.type.scalar) {
    case ScalarType::kInteger:
      return "an integer (a number, or a decimal string past 2^53)";
    case ScalarType::kReal:
      return "a number";
    case ScalarType::kText:
      return "a string";
    case ScalarType::kBoolean:
      return "true or false";
    case ScalarType::kDateTime:
      return "an ISO-8601 date-time string";
    case ScalarType::kJson:
      return "any JSON value";
    case ScalarType::kBlob:
      return "{\"$base64\": \"...\"}";
  }
  return "a value";
}

storage::Value JsonScalarValue(const boost::json::value& json) {
  switch (json.kind()) {
    case boost::json::kind::null:
      return NullValue();
    case boost::json::kind::bool_:
      return IntValue(json.get_bool() ? 1 : 0);
    case boost::json::kind::int64:
      return IntValue(json.get_int64());
    case boost::json::kind::uint64:
      return json.get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? IntValue(static_cast<int64_t>(json.get_uint64()))
                 : RealValue(static_cast<double>(json.get_uint64()));
    case boost::json::kind::double_:
      return RealValue(json.get_double());
    case boost::json::kind::string:
      return TextValue(std::string(json.get_string()));
    default:
      return TextValue(boost::json::serialize(json));
  }
}

Result<storage::Value> ScalarValue(const schema::Schema& schema, const schema::Field& field,
                                   const boost::json::value& json, const std::string& path) {
  using schema::ScalarType;
  if (json.is_null()) {
    return NullValue();
  }
  const std::string expected = ExpectedValue(schema, field);
  if (field.type.kind == schema::FieldType::Kind::kEnum) {
    if (!json.is_string()) {
      return TypeError(path, expected, json);
    }
    const schema::Enum* e = schema.FindEnum(field.type.name);
    if (e != nullptr) {
      for (const std::string& v : e->values) {
        if (v == json.get_string()) {
          return TextValue(v);
        }
      }
    }
    return TypeError(path, expected, json);
  }
  switch (field.type.scalar) {
    case ScalarType::kInteger:
      if (json.is_int64()) {
        return IntValue(json.get_int64());
      }
      if (json.is_uint64() &&
          json.get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return IntValue(static_cast<int64_t>(json.get_uint64()));
      }
      if (json.is_double()) {
        double d = json.get_double();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= double(kMaxSafeInteger)) {
          return IntValue(static_cast<int64_t>(d));
        }
      }
      if (json.is_string()) {
        if (auto n = ParseDecimal(json.get_string())) {
          return IntValue(*n);
        }
      }
      return TypeError(path, expected, json);
    case ScalarType::kReal:
      if (json.is_number()) {
        return RealValue(json.to_number<double>());
      }
      return TypeError(path, expected, json);
    case ScalarType::kText:
      if (json.is_string()) {
        return TextValue(std::string(json.get_string()));
      }
      return TypeError(path, expected, json);
    case ScalarType::kBoolean:
      if (json.is_bool()) {
        return IntValue(json.get_bool() ? 1 : 0);
      }
      return TypeError(path, expected, json);
    case ScalarType::kDateTime:
      if (json.is_string() && IsIsoDateTime(json.get_string())) {
        return TextValue(std::string(json.get_string()));
      }
      return TypeError(path, expected, json);
    case ScalarType::kJson:
      return TextValue(boost::json::serialize(json));
    case ScalarType::kBlob:
      if (json.is_object() && json.get_object().size() == 1 &&
          json.get_object().contains("$base64") && json.get_object().at("$base64").is_string()) {
        if (auto bytes = Base64Decode(json.get_object().at("$base64").get_string())) {
          return BlobValue(std::move(*bytes));
        }
      }
      return TypeError(path, expected, json);
  }
  return TypeError(path, expected, json);
}

Result<storage::Value> ColumnValue(const schema::Schema& schema, const schema::Field& field,
                                   const boost::json::value& json, const std::string& path) {
  if (!field.type.list || json.is_null()) {
    return ScalarValue(schema, field, json, path);
  }
  if (!json.is_array()) {
    return TypeError(path, "an array of " + ExpectedValue(schema, field), json);
  }
  boost::json::array normalized;
  const boost::json::array& items = json.get_array();
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string item_path = path + "." + std::to_string(i);
    if (items[i].is_null()) {
      return TypeError(item_path, ExpectedValue(schema, field), items[i]);
    }
    QUARRY_ASSIGN_OR_RETURN(storage::Value v, ScalarValue(schema, field, items[i], item_path));
    switch (v.type) {
      case storage::Value::Type::kInteger:
        if (field.type.kind == schema::FieldType::Kind::kScalar &&
            field.type.scalar == schema::ScalarType::kBoolean) {
          normalized.emplace_back(v.integer != 0);
        } else {
          normalized.emplace_back(v.integer);
        }
        break;
      case storage::Value::Type::kFloat:
        normalized.emplace_back(v.real);
        break;
      default:
        normalized.emplace_back(v.bytes);
        break;
    }
  }
  return TextValue(boost::json::serialize(normalized));
}

void OutputExpression(SqlBuilder& sql, const schema::Field& field, std::string_view alias) {
  using schema::ScalarType;
  auto column = [&] { sql.Column(alias, field.column); };
  bool json_text = field.type.list || (field.type.kind == schema::FieldType::Kind::kScalar &&
                                       field.type.scalar == ScalarType::kJson);
  if (json_text) {
    // Stored JSON text is valid JSON (the column's CHECK), so it goes out as it is.
    sql << "coalesce(";
    column();
    sql << ", 'null')";
    return;
  }
  if (field.type.kind == schema::FieldType::Kind::kEnum) {
    sql << "json_quote(";
    column();
    sql << ")";
    return;
  }
  switch (field.type.scalar) {
    case ScalarType::kInteger:
      sql << "json_quote(CASE WHEN ";
      column();
      sql << " BETWEEN -9007199254740991 AND 9007199254740991 THEN ";
      column();
      sql << " ELSE CAST(";
      column();
      sql << " AS TEXT) END)";
      return;
    case ScalarType::kBoolean:
      sql << "CASE WHEN ";
      column();
      sql << " IS NULL THEN 'null' WHEN ";
      column();
      sql << " THEN 'true' ELSE 'false' END";
      return;
    case ScalarType::kBlob:
      sql << "CASE WHEN ";
      column();
      sql << " IS NULL THEN 'null' ELSE '{\"$base64\":\"' || quarry_base64(";
      column();
      sql << ") || '\"}' END";
      return;
    default:
      sql << "json_quote(";
      column();
      sql << ")";
      return;
  }
}

namespace {

// A SQL value as an item of the JSON array IN (SELECT value FROM json_each(?)) reads.
std::string JsonListItem(const storage::Value& v) {
  switch (v.type) {
    case storage::Value::Type::kNull:
      return "null";
    case storage::Value::Type::kInteger:
      return std::to_string(v.integer);
    case storage::Value::Type::kFloat:
      return boost::json::serialize(boost::json::value(v.real));
    default:
      return boost::json::serialize(boost::json::value(boost::json::string_view(v.bytes)));
  }
}

}  // namespace

Result<storage::Value> ArgumentValue(const schema::Schema& schema, const ParamSource& source,
                                     const boost::json::value& json) {
  using T = ParamSource::Transform;
  const std::string& path = source.name;
  switch (source.transform) {
    case T::kColumn:
      return ColumnValue(schema, *source.field, json, path);
    case T::kJsonScalar:
      return JsonScalarValue(json);
    case T::kJsonText:
      return TextValue(boost::json::serialize(json));
    case T::kInListColumn:
    case T::kInListJsonScalar:
    case T::kInListJsonText: {
      // A null item is not in the list: the SQL tests IS NULL for it instead, so NULL never
      // reaches the IN list (where it would make every non-matching row unknown, not false).
      std::string list = "[";
      size_t listed = 0;
      const boost::json::array& items = json.get_array();
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].is_null()) {
          continue;
        }
        storage::Value item;
        if (source.transform == T::kInListColumn) {
          QUARRY_ASSIGN_OR_RETURN(
              item, ColumnValue(schema, *source.field, items[i], path + "." + std::to_string(i)));
          if (item.type == storage::Value::Type::kBlob) {
            return Status(ErrorCode::kInvalidArgument, path + ": in/notIn do not take Blob values")
                .WithPath(path);
          }
        } else if (source.transform == T::kInListJsonScalar) {
          item = JsonScalarValue(items[i]);
        } else {
          item = TextValue(boost::json::serialize(items[i]));
        }
        list += (listed++ ? "," : "") + JsonListItem(item);
      }
      return TextValue(list + "]");
    }
    case T::kLikePattern: {
      std::string pattern;
      for (char c : json.get_string()) {
        if (c == '%' || c == '_' || c == '\\') {
          pattern += '\\';
        }
        pattern += c;
      }
      return TextValue((source.like == 1 ? "" : "%") + pattern + (source.like == 2 ? "" : "%"));
    }
    case T::kText:
      return TextValue(std::string(json.get_string()));
    case T::kUtf8Length:
      return IntValue(static_cast<int64_t>(Utf8Length(json.get_string())));
    case T::kCount:
      if (json.is_int64() && json.get_int64() >= 0) {
        return IntValue(json.get_int64());
      }
      if (json.is_uint64()) {
        return IntValue(std::numeric_limits<int64_t>::max());
      }
      return Status(ErrorCode::kInvalidArgument,
                    path + ": expected a non-negative integer, got " + boost::json::serialize(json))
          .WithPath(path);
  }
  return Status(ErrorCode::kInternal, "unknown parameter transform");
}

}  // namespace quarry::query
