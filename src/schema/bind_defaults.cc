// Binder: @default values, checked against their field's type: literals, enum values, lists,
// the default functions, auth() claims and sibling fields (resolved once the model's fields
// are all known, ResolveSiblingDefaults).

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
  if (e.kind == ast::ExprKind::kMember || (e.kind == ast::ExprKind::kCall && e.text == "auth")) {
    auto claim = AuthClaim(e, file, "@default");
    if (!claim) return std::nullopt;
    if (type.list || IsScalar(type, ScalarType::kBlob)) {
      Err(file, e.pos,
          "a default from auth() applies to fields that are not lists or Blob, not to " +
              TypeText(type) + " field '" + field.name + "'");
      return std::nullopt;
    }
    out.kind = DefaultValue::Kind::kAuthClaim;
    out.claim = *claim;
    return out;
  }
  if (e.kind == ast::ExprKind::kIdent) {
    bool enum_value = false;
    if (type.kind == FieldType::Kind::kEnum && !type.list) {
      const Enum* en = schema_.FindEnum(type.name);
      enum_value = std::find(en->values.begin(), en->values.end(), e.text) != en->values.end();
    }
    if (!enum_value) {
      // A sibling field; checked by ResolveSiblingDefaults, which needs every field's type.
      out.kind = DefaultValue::Kind::kField;
      out.field = e.text;
      sibling_defaults_.emplace_back(field.name, &e);
      return out;
    }
  }
  if (e.kind == ast::ExprKind::kCall) {
    static const std::map<std::string, DefaultValue::Kind> kFunctions = {
        {"now", DefaultValue::Kind::kNow},
        {"uuid", DefaultValue::Kind::kUuid},
        {"ulid", DefaultValue::Kind::kUlid},
        {"nanoid", DefaultValue::Kind::kNanoid},
        {"autoincrement", DefaultValue::Kind::kAutoincrement}};
    auto it = kFunctions.find(e.text);
    if (it == kFunctions.end()) {
      Err(file, e.pos,
          "unknown function " + e.text +
              "() in @default; expected now(), uuid(), ulid(), nanoid(), autoincrement() or "
              "auth().claim");
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
      case DefaultValue::Kind::kNanoid:
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

void Binder::ResolveSiblingDefaults(Model& model, size_t file) {
  for (const auto& [name, expr] : sibling_defaults_) {
    Field* field = nullptr;
    for (auto& f : model.fields) {
      if (f.name == name) field = &f;
    }
    if (field == nullptr || !field->default_value ||
        field->default_value->kind != DefaultValue::Kind::kField) {
      continue;
    }
    // Captured by copy: clang 14, the fuzz build's compiler, cannot yet capture a structured
    // binding in a lambda (C++20 allows it).
    auto fail = [&, expr = expr](const std::string& message) {
      Err(file, expr->pos, message);
      field->default_value.reset();
    };
    const std::string& source_name = field->default_value->field;
    const Field* source = model.FindField(source_name);
    if (source_name == field->name) {
      fail("default of field '" + field->name + "' cannot be the field itself");
      continue;
    }
    if (source == nullptr) {
      if (field->type.kind == FieldType::Kind::kEnum && !field->type.list) {
        EnumMember(*expr, field->type, field->name, file);  // reports it
        field->default_value.reset();
      } else {
        fail("unknown field '" + source_name + "' in @default of field '" + field->name +
             "' (a default that is a name copies that field of model '" + model.name + "')");
      }
      continue;
    }
    const std::string copy = "default of field '" + field->name + "' cannot copy ";
    if (!source->stored()) {
      fail(copy + "relation field '" + source_name + "'; copy its foreign-key field");
    } else if (source->generated) {
      fail(copy + "generated field '" + source_name + "': SQLite computes its value");
    } else if (source->id && IsScalar(source->type, ScalarType::kInteger)) {
      fail(copy + "'" + source_name + "': SQLite assigns an Integer @id when the row is inserted");
    } else if (source->default_value && source->default_value->kind == DefaultValue::Kind::kField &&
               source->default_value->field == field->name) {
      fail("defaults of fields '" + field->name + "' and '" + source_name +
           "' copy each other; one of them needs another default");
    } else if (source->default_value && source->default_value->kind == DefaultValue::Kind::kField) {
      fail(copy + "'" + source_name + "', which copies '" + source->default_value->field +
           "' itself; copy '" + source->default_value->field + "' directly");
    } else if (!SameValueType(field->type, source->type) &&
               !(IsScalar(field->type, ScalarType::kReal) && !field->type.list &&
                 IsScalar(source->type, ScalarType::kInteger) && !source->type.list)) {
      fail("default of " + TypeText(field->type) + " field '" + field->name + "' cannot copy " +
           TypeText(source->type) + " field '" + source_name + "'");
    } else if (source->type.optional && !field->type.optional) {
      fail("default of required field '" + field->name + "' cannot copy optional field '" +
           source_name + "', which may be null");
    }
  }
  sibling_defaults_.clear();
}

}  // namespace quarry::schema::internal
