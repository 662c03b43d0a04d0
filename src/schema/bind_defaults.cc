// Binder: @default values, checked against their field's type: literals, enum values, lists
// and the default functions.

#include <algorithm>
#include <boost/json/parse.hpp>

#include "schema/binder_internal.h"

namespace quarry::schema::internal {

std::optional<Literal> Binder::ScalarDefault(const ast::Expr& e, const FieldType& type,
                                             const std::string& field_name, size_t file) {
  auto mismatch = [&](const std::string& expected) {
    Err(file, e.pos,
        "default of " + TypeText(type) + " field '" + field_name + "' must be " + expected +
            ", found " + DescribeExpr(e));
    return std::nullopt;
  };
  Literal lit;
  switch (type.scalar) {
    case ScalarType::kInteger:
      if (e.kind != ast::ExprKind::kNumber || e.text.find_first_of(".eE") != std::string::npos) {
        return mismatch("an integer");
      }
      return NumberLiteral(e, file);
    case ScalarType::kReal:
      if (e.kind != ast::ExprKind::kNumber) return mismatch("a number");
      return NumberLiteral(e, file);
    case ScalarType::kText:
      if (e.kind != ast::ExprKind::kString) return mismatch("a string");
      lit.kind = Literal::Kind::kString;
      lit.text = e.text;
      return lit;
    case ScalarType::kBoolean:
      if (e.kind != ast::ExprKind::kBool) return mismatch("true or false");
      lit.kind = Literal::Kind::kBool;
      lit.bool_value = e.bool_value;
      return lit;
    case ScalarType::kDateTime:
      if (e.kind != ast::ExprKind::kString) return mismatch("now() or an ISO-8601 string");
      if (!IsIsoDateTime(e.text)) {
        Err(file, e.pos,
            "default of DateTime field '" + field_name +
                "' is not an ISO-8601 date (YYYY-MM-DD...): \"" + e.text + "\"");
        return std::nullopt;
      }
      lit.kind = Literal::Kind::kString;
      lit.text = e.text;
      return lit;
    case ScalarType::kJson: {
      if (e.kind != ast::ExprKind::kString) return mismatch("JSON text in a string");
      boost::system::error_code ec;
      boost::json::parse(e.text, ec);
      if (ec) {
        Err(file, e.pos, "default of Json field '" + field_name + "' is not valid JSON");
        return std::nullopt;
      }
      lit.kind = Literal::Kind::kString;
      lit.text = e.text;
      return lit;
    }
    case ScalarType::kBlob:
      Err(file, e.pos, "Blob field '" + field_name + "' cannot have a default");
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<DefaultValue> Binder::BindDefault(const ast::Expr& e, const Field& field,
                                                size_t file) {
  const FieldType& type = field.type;
  DefaultValue out;
  if (e.kind == ast::ExprKind::kNull) {
    if (!type.optional) {
      Err(file, e.pos, "default of required field '" + field.name + "' cannot be null");
      return std::nullopt;
    }
    out.literal.kind = Literal::Kind::kNull;
    return out;
  }
  if (e.kind == ast::ExprKind::kCall) {
    static const std::map<std::string, DefaultValue::Kind> kFunctions = {
        {"now", DefaultValue::Kind::kNow},
        {"uuid", DefaultValue::Kind::kUuid},
        {"ulid", DefaultValue::Kind::kUlid},
        {"autoincrement", DefaultValue::Kind::kAutoincrement}};
    auto it = kFunctions.find(e.text);
    if (it == kFunctions.end()) {
      Err(file, e.pos,
          "unknown function " + e.text +
              "() in @default; expected now(), uuid(), ulid() or autoincrement()");
      return std::nullopt;
    }
    if (!e.args.empty()) {
      Err(file, e.pos, e.text + "() takes no arguments");
      return std::nullopt;
    }
    out.kind = it->second;
    bool fits = false;
    std::string expected;
    switch (out.kind) {
      case DefaultValue::Kind::kNow:
        fits = !type.list && IsScalar(type, ScalarType::kDateTime);
        expected = "DateTime";
        break;
      case DefaultValue::Kind::kUuid:
      case DefaultValue::Kind::kUlid:
        fits = !type.list && IsScalar(type, ScalarType::kText);
        expected = "Text";
        break;
      case DefaultValue::Kind::kAutoincrement:
        fits = !type.list && IsScalar(type, ScalarType::kInteger);
        expected = "Integer @id";
        break;
      default:
        break;
    }
    if (!fits) {
      Err(file, e.pos,
          e.text + "() applies to " + expected + " fields, not to " + TypeText(type) + " field '" +
              field.name + "'");
      return std::nullopt;
    }
    return out;
  }
  if (type.list) {
    if (e.kind != ast::ExprKind::kArray) {
      Err(file, e.pos,
          "default of list field '" + field.name + "' must be a list [...], found " +
              DescribeExpr(e));
      return std::nullopt;
    }
    out.literal.kind = Literal::Kind::kList;
    FieldType element = type;
    element.list = false;
    element.optional = false;
    for (const auto& item : e.items) {
      if (type.kind == FieldType::Kind::kEnum) {
        auto value = EnumMember(*item, element, field.name, file);
        if (!value) return std::nullopt;
        Literal lit;
        lit.kind = Literal::Kind::kString;
        lit.text = *value;
        out.literal.items.push_back(std::move(lit));
      } else {
        auto lit = ScalarDefault(*item, element, field.name, file);
        if (!lit) return std::nullopt;
        out.literal.items.push_back(std::move(*lit));
      }
    }
    return out;
  }
  if (type.kind == FieldType::Kind::kEnum) {
    auto value = EnumMember(e, type, field.name, file);
    if (!value) return std::nullopt;
    out.kind = DefaultValue::Kind::kEnumValue;
    out.enum_value = *value;
    return out;
  }
  auto lit = ScalarDefault(e, type, field.name, file);
  if (!lit) return std::nullopt;
  out.literal = std::move(*lit);
  return out;
}

std::optional<std::string> Binder::EnumMember(const ast::Expr& e, const FieldType& type,
                                              const std::string& field_name, size_t file) {
  const Enum* en = schema_.FindEnum(type.name);
  std::string members;
  for (const auto& v : en->values) members += (members.empty() ? "" : ", ") + v;
  if (e.kind != ast::ExprKind::kIdent) {
    Err(file, e.pos,
        "default of field '" + field_name + "' must be a value of enum '" + type.name + "' (" +
            members + "), found " + DescribeExpr(e));
    return std::nullopt;
  }
  if (std::find(en->values.begin(), en->values.end(), e.text) == en->values.end()) {
    Err(file, e.pos,
        "'" + e.text + "' is not a value of enum '" + type.name + "' (" + members + ")");
    return std::nullopt;
  }
  return e.text;
}

}  // namespace quarry::schema::internal
