// Binder: field attributes (@id, @unique, @map, @generated, @relation, @updatedAt,
// @updatedBy, the visibility attributes @omit, @guarded and @secret, the validations @length,
// @gt/@gte/@lt/@lte, @regex, @email, @url and the @trim/@lower/@upper transforms). @default
// values are bound in bind_defaults.cc.

#include <regex>
#include <set>

#include "schema/binder_internal.h"

namespace quarry::schema::internal {

void Binder::BindFieldAttributes(Field& field, const ast::Field& f, size_t file) {
  std::set<std::string> seen;
  const ast::Expr* default_expr = nullptr;
  bool autoincrement = false;
  const ast::Attribute* secret_attr = nullptr;
  const ast::Attribute* guarded_attr = nullptr;
  const ast::Attribute* omit_attr = nullptr;
  const ast::Attribute* updated_by_attr = nullptr;
  for (const auto& attr : f.attributes) {
    std::string display = "@" + attr.name;
    if (attr.name != "allow" && !seen.insert(attr.name).second) {
      Err(file, attr.pos, "duplicate attribute " + display + " on field '" + f.name + "'");
      continue;
    }
    static const std::set<std::string> kKnown = {
        "id",      "unique", "default",   "relation", "map",   "updatedAt", "updatedBy", "omit",
        "guarded", "secret", "generated", "email",    "url",   "length",    "gt",        "gte",
        "lt",      "lte",    "regex",     "trim",     "lower", "upper",     "allow"};
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
    } else if (attr.name == "updatedBy") {
      if (!MatchArgs(attr, file, display, {"claim"}, 0, args)) continue;
      if (field.type.list || (!IsScalar(field.type, ScalarType::kInteger) &&
                              !IsScalar(field.type, ScalarType::kText))) {
        Err(file, attr.pos,
            "@updatedBy applies to Integer and Text fields, not to " + TypeText(field.type) +
                " field '" + f.name + "'");
        continue;
      }
      std::string claim = "id";
      if (args[0] != nullptr) {
        auto named = AuthClaim(*args[0], file, "@updatedBy");
        if (!named) continue;
        claim = *named;
      }
      field.updated_by_claim = claim;
      updated_by_attr = &attr;
    } else if (attr.name == "omit" || attr.name == "guarded") {
      if (!MatchArgs(attr, file, display, {"scope"}, 0, args)) continue;
      bool all = false;
      if (args[0] != nullptr) {
        if (args[0]->kind != ast::ExprKind::kIdent || args[0]->text != "all") {
          Err(file, args[0]->pos,
              "expected 'all' in " + display + "(...), found " + DescribeExpr(*args[0]));
          continue;
        }
        all = true;
      }
      if (attr.name == "omit") {
        field.omit = all ? Field::Omit::kAll : Field::Omit::kDefault;
        omit_attr = &attr;
      } else {
        field.guarded = all ? Field::Guard::kAll : Field::Guard::kDefault;
        guarded_attr = &attr;
      }
    } else if (attr.name == "secret") {
      if (!MatchArgs(attr, file, display, {}, 0, args)) continue;
      secret_attr = &attr;
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
    if (updated_by_attr != nullptr) {
      Err(file, updated_by_attr->pos,
          "generated field '" + f.name + "' cannot be @updatedBy: SQLite computes its value");
      field.updated_by_claim.reset();
    }
  }
  if (updated_by_attr != nullptr && field.id) {
    Err(file, updated_by_attr->pos,
        "@updatedBy cannot be on the @id field '" + f.name + "': a row's key does not change");
    field.updated_by_claim.reset();
  }
  if (secret_attr != nullptr) {
    if (field.id) {
      Err(file, secret_attr->pos,
          "@id field '" + f.name +
              "' cannot be @secret: results and change events identify rows by their key");
    } else if (guarded_attr != nullptr) {
      Err(file, guarded_attr->pos,
          "field '" + f.name + "' is @secret, which makes it @guarded(all); remove @guarded");
    } else if (omit_attr != nullptr) {
      Err(file, omit_attr->pos,
          "field '" + f.name + "' is @secret, which is never returned; remove @omit");
    } else {
      field.secret = true;
      field.guarded = Field::Guard::kAll;
    }
  }
}

}  // namespace quarry::schema::internal
