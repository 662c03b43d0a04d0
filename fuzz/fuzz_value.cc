// Fuzz target: Hrana values from request bodies (ValueFromJson, ValueFromPlainJson) and
// SanitizeUtf8 on raw bytes.
//
// Properties: a parsed value has the type its JSON named; a blob's bytes re-encode to base64
// that decodes to the same bytes; SanitizeUtf8 returns valid UTF-8 (checked by a validator
// written here, independent of value.cc), leaves valid UTF-8 unchanged and is idempotent.

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "fuzz_check.h"
#include "protocol/json_body.h"
#include "protocol/value.h"

namespace {
using namespace quarry::protocol;
namespace json = boost::json;

// RFC 3629 well-formedness, by the table in its section 4.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto in = [&](size_t k, unsigned lo, unsigned hi) {
    return k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  while (i < s.size()) {
    unsigned c = at(i);
    if (c <= 0x7F) {
      i += 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (!in(i + 1, 0x80, 0xBF)) return false;
      i += 2;
    } else if (c == 0xE0) {
      if (!in(i + 1, 0xA0, 0xBF) || !in(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      if (!in(i + 1, 0x80, 0xBF) || !in(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if (c == 0xED) {
      if (!in(i + 1, 0x80, 0x9F) || !in(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if (c == 0xF0) {
      if (!in(i + 1, 0x90, 0xBF) || !in(i + 2, 0x80, 0xBF) || !in(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else if (c >= 0xF1 && c <= 0xF3) {
      if (!in(i + 1, 0x80, 0xBF) || !in(i + 2, 0x80, 0xBF) || !in(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else if (c == 0xF4) {
      if (!in(i + 1, 0x80, 0x8F) || !in(i + 2, 0x80, 0xBF) || !in(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

void CheckSanitize(std::string_view bytes) {
  std::string clean = SanitizeUtf8(bytes);
  FUZZ_CHECK(IsValidUtf8(clean));
  FUZZ_CHECK(SanitizeUtf8(clean) == clean);
  if (IsValidUtf8(bytes)) {
    FUZZ_CHECK(clean == bytes);
  }
}

void CheckValue(const json::value& jv) {
  auto value = ValueFromJson(jv, "fuzz");
  if (value.ok()) {
    const json::string& type = jv.as_object().at("type").as_string();
    switch (value->type) {
      case Value::Type::kNull:
        FUZZ_CHECK(type == "null");
        break;
      case Value::Type::kInteger:
        FUZZ_CHECK(type == "integer");
        break;
      case Value::Type::kFloat:
        FUZZ_CHECK(type == "float");
        break;
      case Value::Type::kText:
        FUZZ_CHECK(type == "text");
        FUZZ_CHECK(value->bytes == jv.as_object().at("value").as_string());
        break;
      case Value::Type::kBlob: {
        FUZZ_CHECK(type == "blob");
        auto again = quarry::Base64Decode(quarry::Base64Encode(value->bytes));
        FUZZ_CHECK(again.has_value() && *again == value->bytes);
        break;
      }
    }
  } else {
    FUZZ_CHECK(value.status().message().find("fuzz") == 0);
  }
  auto plain = ValueFromPlainJson(jv, "fuzz");
  if (plain.ok()) {
    if (jv.is_string()) {
      FUZZ_CHECK(plain->type == Value::Type::kText && plain->bytes == jv.get_string());
    } else if (jv.is_int64()) {
      FUZZ_CHECK(plain->type == Value::Type::kInteger && plain->integer == jv.get_int64());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CheckSanitize(bytes);
  auto parsed = ParseJsonBody(bytes);
  if (!parsed.ok()) {
    return 0;
  }
  CheckValue(*parsed);
  // Values usually arrive inside arrays and objects: try each element too.
  if (const json::array* arr = parsed->if_array()) {
    for (const json::value& item : *arr) {
      CheckValue(item);
    }
  } else if (const json::object* obj = parsed->if_object()) {
    for (const auto& member : *obj) {
      CheckValue(member.value());
    }
  }
  return 0;
}
