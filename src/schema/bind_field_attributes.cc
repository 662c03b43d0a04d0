// Binder: field attributes (@id, @default, @unique, @map, @generated, @relation, the
// validations @length, @gt/@gte/@lt/@lte, @regex, @email, @url and the @trim/@lower/@upper
// transforms), and @default values checked against the field's type.

#include <algorithm>
#include <boost/json/parse.hpp>
#include <regex>
#include <set>

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

void Binder::BindFieldAttributes(Field& field, const ast::Field& f, size_t file) {
  std::set<std::string> seen;
  const ast::Expr* default_expr = nullptr;
  bool autoincrement = false;
  for (const auto& attr : f.attributes) {
    std::string display = "@" + attr.name;
    if (attr.name != "allow" && !seen.insert(attr.name).second) {
      Err(file, attr.pos, "duplicate attribute " + display + " on field '" + f.name + "'");
      continue;
    }
    static const std::set<std::string> kKnown = {
        "id",    "unique", "default", "relation", "map",  "updatedAt", "generated",
        "email", "url",    "length",  "gt",       "gte",  "lt",        "lte",
        "regex", "trim",   "lower",   "upper",    "allow"};
    if (!kKnown.count(attr.name)) {
      Err(file, attr.pos, "unknown field attribute " + display);
      continue;
    }
    if (!field.stored() && attr.name != "relation" && attr.name != "allow") {
      Err(file, attr.pos, display + " is not allowed on relation field '" + f.name + "'");
      continue;
    }
    if (field.stored() && attr.name == "relation") {
      Err(file, attr.pos,
          "@relation applies to relation fields (whose type is a model), not to " +
              TypeText(field.type) + " field '" + f.name + "'");
      continue;
    }
    std::vector<const ast::Expr*> args;
    auto requires_text = [&]() {
      if (!IsScalar(field.type, ScalarType::kText) || field.type.list) {
        Err(file, attr.pos,
            display + " applies to Text fields, not to " + TypeText(field.type) + " field '" +
                f.name + "'");
        return false;
      }
      return true;
    };
    if (attr.name == "id") {
      if (!MatchArgs(attr, file, display, {}, 0, args)) continue;
      if (field.type.optional || field.type.list || IsScalar(field.type, ScalarType::kJson)) {
        Err(file, attr.pos,
            "@id field '" + f.name + "' cannot be " + TypeText(field.type) +
                "; it must be required and not a list or Json");
        continue;
      }
      field.id = true;
    } else if (attr.name == "unique") {
      if (!MatchArgs(attr, file, display, {}, 0, args)) continue;
      field.unique = true;
    } else if (attr.name == "default") {
      if (!MatchArgs(attr, file, display, {"value"}, 1, args)) continue;
      default_expr = args[0];
      auto value = BindDefault(*args[0], field, file);
      if (!value) continue;
      autoincrement = value->kind == DefaultValue::Kind::kAutoincrement;
      field.default_value = std::move(*value);
    } else if (attr.name == "relation") {
      // Bound in BindRelations, once every model's fields are known.
      field.relation = Relation{};
      field.relation->owning = true;
      field.relation->target_model = field.type.name;
    } else if (attr.name == "map") {
      if (!MatchArgs(attr, file, display, {"name"}, 1, args)) continue;
      auto name = StringArg(args[0], file, "the column name");
      if (!name) continue;
      if (name->empty()) {
        Err(file, args[0]->pos, "the column name in @map cannot be empty");
        continue;
      }
      field.column = *name;
    } else if (attr.name == "updatedAt") {
      if (!MatchArgs(attr, file, display, {}, 0, args)) continue;
      if (!IsScalar(field.type, ScalarType::kDateTime) || field.type.list) {
        Err(file, attr.pos,
            "@updatedAt applies to DateTime fields, not to " + TypeText(field.type) + " field '" +
                f.name + "'");
        continue;
      }
      field.updated_at = true;
    } else if (attr.name == "generated") {
      if (!MatchArgs(attr, file, display, {"expression", "stored"}, 1, args)) continue;
      auto sql = StringArg(args[0], file, "the SQL expression");
      if (!sql) continue;
      if (auto problem = CheckSqlExpression(*sql)) {
        Err(file, args[0]->pos, "invalid @generated expression: " + *problem);
        continue;
      }
      GeneratedColumn generated{*sql, false};
      if (args[1] != nullptr) {
        if (args[1]->kind != ast::ExprKind::kBool) {
          Err(file, args[1]->pos,
              "expected true or false for stored:, found " + DescribeExpr(*args[1]));
          continue;
        }
        generated.stored = args[1]->bool_value;
      }
      field.generated = std::move(generated);
    } else if (attr.name == "email" || attr.name == "url") {
      if (!MatchArgs(attr, file, display, {}, 0, args) || !requires_text()) continue;
      Validator v;
      v.kind = attr.name == "email" ? Validator::Kind::kEmail : Validator::Kind::kUrl;
      field.validators.push_back(v);
    } else if (attr.name == "length") {
      if (!MatchArgs(attr, file, display, {"min", "max"}, 0, args) || !requires_text()) continue;
      if (args[0] == nullptr && args[1] == nullptr) {
        Err(file, attr.pos, "@length needs min, max or both: @length(1, 100), @length(max: 100)");
        continue;
      }
      Validator v;
      v.kind = Validator::Kind::kLength;
      if (args[0] != nullptr) {
        v.min_length = LengthArg(args[0], file, "min");
        if (!v.min_length) continue;
      }
      if (args[1] != nullptr) {
        v.max_length = LengthArg(args[1], file, "max");
        if (!v.max_length) continue;
      }
      if (v.min_length && v.max_length && *v.min_length > *v.max_length) {
        Err(file, attr.pos,
            "@length min (" + std::to_string(*v.min_length) + ") is greater than max (" +
                std::to_string(*v.max_length) + ")");
        continue;
      }
      field.validators.push_back(v);
    } else if (attr.name == "gt" || attr.name == "gte" || attr.name == "lt" || attr.name == "lte") {
      if (!MatchArgs(attr, file, display, {"value"}, 1, args)) continue;
      if (field.type.list || (!IsScalar(field.type, ScalarType::kInteger) &&
                              !IsScalar(field.type, ScalarType::kReal))) {
        Err(file, attr.pos,
            display + " applies to Integer and Real fields, not to " + TypeText(field.type) +
                " field '" + f.name + "'");
        continue;
      }
      auto bound = NumberArg(args[0], file, display);
      if (!bound) continue;
      Validator v;
      v.kind = attr.name == "gt"    ? Validator::Kind::kGt
               : attr.name == "gte" ? Validator::Kind::kGte
               : attr.name == "lt"  ? Validator::Kind::kLt
                                    : Validator::Kind::kLte;
      v.bound = *bound;
      field.validators.push_back(v);
    } else if (attr.name == "regex") {
      if (!MatchArgs(attr, file, display, {"pattern"}, 1, args) || !requires_text()) continue;
      auto pattern = StringArg(args[0], file, "the pattern");
      if (!pattern) continue;
      try {
        std::regex compiled(*pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        Err(file, args[0]->pos, "invalid regular expression in @regex: " + std::string(e.what()));
        continue;
      }
      Validator v;
      v.kind = Validator::Kind::kRegex;
      v.pattern = *pattern;
      field.validators.push_back(v);
    } else if (attr.name == "trim" || attr.name == "lower" || attr.name == "upper") {
      if (!MatchArgs(attr, file, display, {}, 0, args) || !requires_text()) continue;
      field.transforms.push_back(attr.name == "trim"    ? Transform::kTrim
                                 : attr.name == "lower" ? Transform::kLower
                                                        : Transform::kUpper);
    }
    // "allow" is bound by BindFields once all fields are known.
  }
  if (autoincrement && !field.id) {
    Err(file, default_expr->pos,
        "autoincrement() applies to the Integer @id field only, not to '" + f.name + "'");
    field.default_value.reset();
  }
  if (field.generated) {
    if (field.id || field.default_value) {
      Err(file, f.pos, "generated field '" + f.name + "' cannot also be @id or have a @default");
    }
  }
}

}  // namespace quarry::schema::internal
