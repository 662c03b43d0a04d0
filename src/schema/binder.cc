#include "schema/binder.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <charconv>
#include <map>
#include <regex>
#include <set>

namespace quarry::schema {

namespace {

struct Error {
  size_t file_index;
  ast::Pos pos;
  std::string text;
};

std::optional<ScalarType> ScalarTypeNamed(const std::string& name) {
  static const std::map<std::string, ScalarType> kTypes = {
      {"Integer", ScalarType::kInteger},   {"Real", ScalarType::kReal},
      {"Text", ScalarType::kText},         {"Boolean", ScalarType::kBoolean},
      {"DateTime", ScalarType::kDateTime}, {"Json", ScalarType::kJson},
      {"Blob", ScalarType::kBlob}};
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

std::string TypeText(const FieldType& type) {
  std::string out = type.kind == FieldType::Kind::kScalar ? ScalarTypeName(type.scalar) : type.name;
  if (type.list) out += "[]";
  if (type.optional) out += "?";
  return out;
}

bool IsScalar(const FieldType& type, ScalarType scalar) {
  return type.kind == FieldType::Kind::kScalar && type.scalar == scalar;
}

bool SameValueType(const FieldType& a, const FieldType& b) {
  if (a.kind != b.kind || a.list != b.list) return false;
  if (a.kind == FieldType::Kind::kScalar) return a.scalar == b.scalar;
  return a.name == b.name;
}

// What a syntax node is, for "found ..." in messages.
std::string DescribeExpr(const ast::Expr& expr) {
  switch (expr.kind) {
    case ast::ExprKind::kString:
      return "a string";
    case ast::ExprKind::kNumber:
      return "the number " + expr.text;
    case ast::ExprKind::kBool:
      return expr.bool_value ? "true" : "false";
    case ast::ExprKind::kNull:
      return "null";
    case ast::ExprKind::kIdent:
      return "'" + expr.text + "'";
    case ast::ExprKind::kCall:
      return expr.text + "()";
    case ast::ExprKind::kMember:
      return "a member access '." + expr.text + "'";
    case ast::ExprKind::kArray:
      return "a list";
    case ast::ExprKind::kUnary:
    case ast::ExprKind::kBinary:
      return "an expression with '" + expr.text + "'";
  }
  return "?";
}

bool IsIsoDateTime(const std::string& s) {
  auto digits = [&](size_t from, size_t n) {
    if (from + n > s.size()) return false;
    for (size_t i = from; i < from + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
    }
    return true;
  };
  return digits(0, 4) && s.size() >= 10 && s[4] == '-' && digits(5, 2) && s[7] == '-' &&
         digits(8, 2);
}

// Balanced parentheses, closed quotes and no ';' outside quotes: enough to keep a generated
// column's expression inside its parentheses in the DDL.
std::optional<std::string> CheckSqlExpression(const std::string& sql) {
  if (sql.find_first_not_of(" \t\r\n") == std::string::npos) return "the expression is empty";
  int depth = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      quote = c;
    } else if (c == '[') {
      quote = ']';
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return "unbalanced ')'";
    } else if (c == ';') {
      return "';' is not allowed";
    }
  }
  if (quote != 0) return "unterminated quote";
  if (depth != 0) return "unbalanced '('";
  return std::nullopt;
}

// The value type of a policy operand, for comparisons.
struct ValueType {
  enum class Kind { kBool, kNumber, kText, kDateTime, kNull, kEnum, kAny, kOther };
  Kind kind = Kind::kAny;
  std::string name;  // kEnum: the enum; kOther: the field's type
};

class Binder {
 public:
  explicit Binder(const ast::Program& program) : program_(program) {}

  Result<Schema> Bind() {
    CollectDeclarations();
    for (auto& [model, ast_model, file] : models_) {
      BindFields(*model, *ast_model, file);
    }
    for (auto& [model, ast_model, file] : models_) {
      BindModelAttributes(*model, *ast_model, file);
    }
    BindRelations();
    CheckTables();
    if (!errors_.empty()) {
      std::stable_sort(errors_.begin(), errors_.end(), [](const Error& a, const Error& b) {
        if (a.file_index != b.file_index) return a.file_index < b.file_index;
        if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
        return a.pos.column < b.pos.column;
      });
      std::string message;
      size_t shown = std::min(errors_.size(), kMaxReportedErrors);
      for (size_t i = 0; i < shown; ++i) {
        const Error& e = errors_[i];
        if (!message.empty()) message += "\n";
        message += program_.files[e.file_index].path + ":" + std::to_string(e.pos.line) + ":" +
                   std::to_string(e.pos.column) + ": " + e.text;
      }
      if (errors_.size() > shown) {
        message += "\n... and " + std::to_string(errors_.size() - shown) + " more errors";
      }
      return Status(ErrorCode::kInvalidArgument, message);
    }
    return std::move(schema_);
  }

 private:
  struct ModelEntry {
    Model* model;
    const ast::Model* ast_model;
    size_t file;
  };

  void Err(size_t file, ast::Pos pos, std::string text) {
    errors_.push_back(Error{file, pos, std::move(text)});
  }

  SourceLocation Loc(size_t file, ast::Pos pos) const {
    return SourceLocation{program_.files[file].path, pos.line, pos.column};
  }

  static std::string Where(const SourceLocation& loc) { return loc.ToString(); }

  void CollectDeclarations() {
    std::map<std::string, SourceLocation> names;
    auto declare = [&](const std::string& name, size_t file, ast::Pos pos, const char* what) {
      if (ScalarTypeNamed(name)) {
        Err(file, pos,
            std::string("cannot declare ") + what + " '" + name +
                "': it is the name of a built-in type");
        return false;
      }
      auto [it, inserted] = names.emplace(name, Loc(file, pos));
      if (!inserted) {
        Err(file, pos,
            std::string("duplicate declaration of '") + name + "': already declared at " +
                Where(it->second));
        return false;
      }
      return true;
    };
    // Enums first, so that pointers into schema_.models stay valid once models are added.
    size_t model_count = 0;
    for (size_t f = 0; f < program_.files.size(); ++f) {
      for (const auto& decl : program_.files[f].declarations) {
        if (const auto* e = std::get_if<ast::Enum>(&decl)) {
          if (!declare(e->name, f, e->name_pos, "enum")) continue;
          Enum out;
          out.name = e->name;
          out.location = Loc(f, e->name_pos);
          std::set<std::string> seen;
          for (const auto& value : e->values) {
            if (!seen.insert(value.name).second) {
              Err(f, value.pos, "duplicate value '" + value.name + "' in enum '" + e->name + "'");
              continue;
            }
            out.values.push_back(value.name);
          }
          if (e->values.empty()) {
            Err(f, e->name_pos, "enum '" + e->name + "' has no values");
          }
          schema_.enums.push_back(std::move(out));
        } else if (std::holds_alternative<ast::Model>(decl)) {
          ++model_count;
        }
      }
    }
    schema_.models.reserve(model_count);
    for (size_t f = 0; f < program_.files.size(); ++f) {
      for (const auto& decl : program_.files[f].declarations) {
        if (const auto* m = std::get_if<ast::Model>(&decl)) {
          if (!declare(m->name, f, m->name_pos, "model")) continue;
          Model model;
          model.name = m->name;
          model.table = m->name;
          model.location = Loc(f, m->name_pos);
          schema_.models.push_back(std::move(model));
          models_.push_back(ModelEntry{&schema_.models.back(), m, f});
        }
      }
    }
  }

  // Matches an attribute's arguments to its parameters. Positional arguments take `params` in
  // order; named ones must name one of them. Returns false (error reported) on a mismatch.
  bool MatchArgs(const ast::Attribute& attr, size_t file, const std::string& display,
                 const std::vector<std::string>& params, size_t required,
                 std::vector<const ast::Expr*>& out) {
    out.assign(params.size(), nullptr);
    if (params.empty() && attr.has_parens) {
      Err(file, attr.pos, display + " takes no arguments");
      return false;
    }
    size_t positional = 0;
    bool named_seen = false;
    for (const auto& arg : attr.args) {
      size_t slot;
      if (arg.name) {
        named_seen = true;
        auto it = std::find(params.begin(), params.end(), *arg.name);
        if (it == params.end()) {
          std::string list;
          for (const auto& p : params) list += (list.empty() ? "" : ", ") + p + ":";
          Err(file, arg.name_pos,
              "unknown argument '" + *arg.name + "' for " + display + "; expected " + list);
          return false;
        }
        slot = static_cast<size_t>(it - params.begin());
      } else {
        if (named_seen) {
          Err(file, arg.value->pos, "positional argument after a named one in " + display);
          return false;
        }
        if (positional >= params.size()) {
          Err(file, arg.value->pos,
              display + " takes at most " + std::to_string(params.size()) + " argument" +
                  (params.size() == 1 ? "" : "s"));
          return false;
        }
        slot = positional++;
      }
      if (out[slot] != nullptr) {
        Err(file, arg.value->pos, "argument '" + params[slot] + "' given twice in " + display);
        return false;
      }
      out[slot] = arg.value.get();
    }
    for (size_t i = 0; i < required; ++i) {
      if (out[i] == nullptr) {
        Err(file, attr.pos, display + " needs the argument '" + params[i] + "'");
        return false;
      }
    }
    return true;
  }

  std::optional<std::string> StringArg(const ast::Expr* expr, size_t file,
                                       const std::string& what) {
    if (expr->kind != ast::ExprKind::kString) {
      Err(file, expr->pos, "expected " + what + " as a string, found " + DescribeExpr(*expr));
      return std::nullopt;
    }
    return expr->text;
  }

  // A list of field names `[a, b]`.
  std::optional<std::vector<std::pair<std::string, ast::Pos>>> NameList(const ast::Expr* expr,
                                                                        size_t file,
                                                                        const std::string& what) {
    if (expr->kind != ast::ExprKind::kArray) {
      Err(file, expr->pos,
          "expected " + what + " as a list of field names [a, b], found " + DescribeExpr(*expr));
      return std::nullopt;
    }
    std::vector<std::pair<std::string, ast::Pos>> names;
    std::set<std::string> seen;
    for (const auto& item : expr->items) {
      if (item->kind != ast::ExprKind::kIdent) {
        Err(file, item->pos, "expected a field name in " + what + ", found " + DescribeExpr(*item));
        return std::nullopt;
      }
      if (!seen.insert(item->text).second) {
        Err(file, item->pos, "field '" + item->text + "' appears twice in " + what);
        return std::nullopt;
      }
      names.emplace_back(item->text, item->pos);
    }
    if (names.empty()) {
      Err(file, expr->pos, what + " must name at least one field");
      return std::nullopt;
    }
    return names;
  }

  std::optional<Literal> NumberLiteral(const ast::Expr& expr, size_t file) {
    Literal lit;
    const std::string& t = expr.text;
    bool is_int = t.find_first_of(".eE") == std::string::npos;
    if (is_int) {
      lit.kind = Literal::Kind::kInteger;
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), lit.int_value);
      if (ec != std::errc() || ptr != t.data() + t.size()) {
        Err(file, expr.pos, "integer " + t + " is out of range");
        return std::nullopt;
      }
    } else {
      lit.kind = Literal::Kind::kReal;
      lit.text = t;
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), lit.real_value);
      if (ec != std::errc() || ptr != t.data() + t.size()) {
        Err(file, expr.pos, "number " + t + " is out of range");
        return std::nullopt;
      }
    }
    return lit;
  }

  std::optional<double> NumberArg(const ast::Expr* expr, size_t file, const std::string& what) {
    if (expr->kind != ast::ExprKind::kNumber) {
      Err(file, expr->pos, "expected a number for " + what + ", found " + DescribeExpr(*expr));
      return std::nullopt;
    }
    auto lit = NumberLiteral(*expr, file);
    if (!lit) return std::nullopt;
    return lit->kind == Literal::Kind::kInteger ? static_cast<double>(lit->int_value)
                                                : lit->real_value;
  }

  std::optional<int64_t> LengthArg(const ast::Expr* expr, size_t file, const std::string& what) {
    if (expr->kind != ast::ExprKind::kNumber ||
        expr->text.find_first_of(".eE-") != std::string::npos) {
      Err(file, expr->pos,
          "expected a non-negative integer for " + what + ", found " + DescribeExpr(*expr));
      return std::nullopt;
    }
    auto lit = NumberLiteral(*expr, file);
    if (!lit) return std::nullopt;
    return lit->int_value;
  }

  // Resolves a field's type name.
  std::optional<FieldType> ResolveType(const ast::Field& f, size_t file) {
    FieldType type;
    type.optional = f.optional;
    type.list = f.list;
    if (auto scalar = ScalarTypeNamed(f.type_name)) {
      type.kind = FieldType::Kind::kScalar;
      type.scalar = *scalar;
      if (f.list && (*scalar == ScalarType::kJson || *scalar == ScalarType::kBlob)) {
        Err(file, f.type_pos,
            std::string("lists of ") + ScalarTypeName(*scalar) +
                " are not supported; use Json for nested data");
        return std::nullopt;
      }
    } else if (schema_.FindEnum(f.type_name)) {
      type.kind = FieldType::Kind::kEnum;
      type.name = f.type_name;
    } else if (schema_.FindModel(f.type_name)) {
      type.kind = FieldType::Kind::kModel;
      type.name = f.type_name;
    } else {
      Err(file, f.type_pos,
          "unknown type '" + f.type_name +
              "'; expected Integer, Real, Text, Boolean, DateTime, Json, Blob, an enum or a "
              "model");
      return std::nullopt;
    }
    return type;
  }

  std::optional<Literal> ScalarDefault(const ast::Expr& e, const FieldType& type,
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

  std::optional<DefaultValue> BindDefault(const ast::Expr& e, const Field& field, size_t file) {
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
            e.text + "() applies to " + expected + " fields, not to " + TypeText(type) +
                " field '" + field.name + "'");
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

  std::optional<std::string> EnumMember(const ast::Expr& e, const FieldType& type,
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

  void BindFields(Model& model, const ast::Model& m, size_t file) {
    std::map<std::string, SourceLocation> names;
    const ast::Field* first_id = nullptr;
    for (const auto& f : m.fields) {
      auto [it, inserted] = names.emplace(f.name, Loc(file, f.pos));
      if (!inserted) {
        Err(file, f.pos,
            "duplicate field '" + f.name + "' in model '" + m.name + "': already declared at " +
                Where(it->second));
        continue;
      }
      auto type = ResolveType(f, file);
      if (!type) continue;
      Field field;
      field.name = f.name;
      field.type = *type;
      field.location = Loc(file, f.pos);
      if (field.stored()) field.column = f.name;
      BindFieldAttributes(field, f, file);
      if (field.id) {
        if (first_id != nullptr) {
          Err(file, f.pos,
              "model '" + m.name + "' has more than one @id field ('" + first_id->name + "' and '" +
                  f.name + "'); composite primary keys are not supported");
        }
        first_id = &f;
      }
      model.fields.push_back(std::move(field));
    }
    bool id_attribute = false;
    for (const auto& f : m.fields) {
      for (const auto& attr : f.attributes) id_attribute = id_attribute || attr.name == "id";
    }
    if (first_id == nullptr && !id_attribute && names.size() == m.fields.size()) {
      Err(file, m.name_pos, "model '" + m.name + "' has no @id field");
    }
    // Policies may name any field of the model, including later ones.
    for (size_t i = 0, j = 0; i < m.fields.size() && j < model.fields.size(); ++i) {
      if (m.fields[i].name != model.fields[j].name ||
          model.fields[j].location.line != m.fields[i].pos.line ||
          model.fields[j].location.column != m.fields[i].pos.column) {
        continue;
      }
      for (const auto& attr : m.fields[i].attributes) {
        if (attr.name != "allow") continue;
        std::vector<const ast::Expr*> args;
        if (!MatchArgs(attr, file, "@allow", {"operation", "condition"}, 2, args)) continue;
        auto op = StringArg(args[0], file, "the operation");
        if (!op) continue;
        FieldPolicy policy;
        policy.location = Loc(file, attr.pos);
        if (*op == "read") {
          policy.operation = FieldPolicy::Operation::kRead;
        } else if (*op == "write") {
          policy.operation = FieldPolicy::Operation::kWrite;
        } else if (*op == "all") {
          policy.operation = FieldPolicy::Operation::kAll;
        } else {
          Err(file, args[0]->pos,
              "unknown operation '" + *op +
                  "' for field @allow; expected 'read', 'write' or 'all'");
          continue;
        }
        auto condition = BindCondition(*args[1], model, file);
        if (!condition) continue;
        policy.condition = std::move(*condition);
        model.fields[j].policies.push_back(std::move(policy));
      }
      ++j;
    }
  }

  void BindFieldAttributes(Field& field, const ast::Field& f, size_t file) {
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
      } else if (attr.name == "gt" || attr.name == "gte" || attr.name == "lt" ||
                 attr.name == "lte") {
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

  // Binds a policy condition; it must be true or false.
  std::optional<PolicyExpr> BindCondition(const ast::Expr& e, const Model& model, size_t file) {
    ValueType type;
    auto out = BindPolicyExpr(e, model, file, type);
    if (!out) return std::nullopt;
    if (type.kind != ValueType::Kind::kBool && type.kind != ValueType::Kind::kAny) {
      Err(file, e.pos,
          "a policy condition must be true or false, found " + DescribeExpr(e) +
              "; compare it with a value");
      return std::nullopt;
    }
    return out;
  }

  static const char* ValueTypeName(const ValueType& t) {
    switch (t.kind) {
      case ValueType::Kind::kBool:
        return "Boolean";
      case ValueType::Kind::kNumber:
        return "a number";
      case ValueType::Kind::kText:
        return "Text";
      case ValueType::Kind::kDateTime:
        return "DateTime";
      case ValueType::Kind::kNull:
        return "null";
      case ValueType::Kind::kEnum:
        return "an enum";
      case ValueType::Kind::kAny:
        return "a claim";
      case ValueType::Kind::kOther:
        return "a value that cannot be compared";
    }
    return "?";
  }

  std::optional<PolicyExpr> BindPolicyExpr(const ast::Expr& e, const Model& model, size_t file,
                                           ValueType& type) {
    PolicyExpr out;
    out.location = Loc(file, e.pos);
    switch (e.kind) {
      case ast::ExprKind::kString:
        out.literal.kind = Literal::Kind::kString;
        out.literal.text = e.text;
        type.kind = ValueType::Kind::kText;
        return out;
      case ast::ExprKind::kNumber: {
        auto lit = NumberLiteral(e, file);
        if (!lit) return std::nullopt;
        out.literal = *lit;
        type.kind = ValueType::Kind::kNumber;
        return out;
      }
      case ast::ExprKind::kBool:
        out.literal.kind = Literal::Kind::kBool;
        out.literal.bool_value = e.bool_value;
        type.kind = ValueType::Kind::kBool;
        return out;
      case ast::ExprKind::kNull:
        type.kind = ValueType::Kind::kNull;
        return out;
      case ast::ExprKind::kIdent: {
        const Field* field = model.FindField(e.text);
        if (field == nullptr) {
          std::string hint;
          for (const auto& en : schema_.enums) {
            if (std::find(en.values.begin(), en.values.end(), e.text) != en.values.end()) {
              hint = " (to compare with the value of enum '" + en.name + "', quote it: '" + e.text +
                     "')";
              break;
            }
          }
          Err(file, e.pos, "unknown field '" + e.text + "' in model '" + model.name + "'" + hint);
          return std::nullopt;
        }
        if (!field->stored()) {
          Err(file, e.pos,
              "relation field '" + e.text +
                  "' cannot be used in a policy; use its foreign-key field");
          return std::nullopt;
        }
        out.kind = PolicyExpr::Kind::kField;
        out.name = e.text;
        const FieldType& ft = field->type;
        if (ft.list) {
          type = {ValueType::Kind::kOther, TypeText(ft)};
        } else if (ft.kind == FieldType::Kind::kEnum) {
          type = {ValueType::Kind::kEnum, ft.name};
        } else {
          switch (ft.scalar) {
            case ScalarType::kInteger:
            case ScalarType::kReal:
              type.kind = ValueType::Kind::kNumber;
              break;
            case ScalarType::kText:
              type.kind = ValueType::Kind::kText;
              break;
            case ScalarType::kBoolean:
              type.kind = ValueType::Kind::kBool;
              break;
            case ScalarType::kDateTime:
              type.kind = ValueType::Kind::kDateTime;
              break;
            case ScalarType::kJson:
            case ScalarType::kBlob:
              type = {ValueType::Kind::kOther, ScalarTypeName(ft.scalar)};
              break;
          }
        }
        return out;
      }
      case ast::ExprKind::kCall:
        if (e.text != "auth" && e.text != "now") {
          Err(file, e.pos,
              "unknown function " + e.text +
                  "() in a policy; expected auth(), auth().field or now()");
          return std::nullopt;
        }
        if (!e.args.empty()) {
          Err(file, e.pos, e.text + "() takes no arguments");
          return std::nullopt;
        }
        out.kind = e.text == "auth" ? PolicyExpr::Kind::kAuth : PolicyExpr::Kind::kNow;
        type.kind = e.text == "auth" ? ValueType::Kind::kAny : ValueType::Kind::kDateTime;
        return out;
      case ast::ExprKind::kMember:
        if (e.lhs->kind != ast::ExprKind::kCall || e.lhs->text != "auth") {
          Err(file, e.pos, "'.' applies only to auth(): write auth()." + e.text);
          return std::nullopt;
        }
        if (!e.lhs->args.empty()) {
          Err(file, e.lhs->pos, "auth() takes no arguments");
          return std::nullopt;
        }
        out.kind = PolicyExpr::Kind::kAuthField;
        out.name = e.text;
        type.kind = ValueType::Kind::kAny;
        return out;
      case ast::ExprKind::kArray:
        Err(file, e.pos, "lists are not allowed in a policy");
        return std::nullopt;
      case ast::ExprKind::kUnary: {
        ValueType operand_type;
        auto operand = BindPolicyExpr(*e.lhs, model, file, operand_type);
        if (!operand) return std::nullopt;
        if (operand_type.kind != ValueType::Kind::kBool &&
            operand_type.kind != ValueType::Kind::kAny) {
          Err(file, e.lhs->pos, "'!' needs true or false, found " + DescribeExpr(*e.lhs));
          return std::nullopt;
        }
        out.kind = PolicyExpr::Kind::kNot;
        out.operands.push_back(std::move(*operand));
        type.kind = ValueType::Kind::kBool;
        return out;
      }
      case ast::ExprKind::kBinary:
        break;
    }
    ValueType lt, rt;
    auto lhs = BindPolicyExpr(*e.lhs, model, file, lt);
    auto rhs = BindPolicyExpr(*e.rhs, model, file, rt);
    if (!lhs || !rhs) return std::nullopt;
    type.kind = ValueType::Kind::kBool;
    if (e.text == "&&" || e.text == "||") {
      for (const auto* side : {&lt, &rt}) {
        if (side->kind != ValueType::Kind::kBool && side->kind != ValueType::Kind::kAny) {
          const ast::Expr& operand = side == &lt ? *e.lhs : *e.rhs;
          Err(file, operand.pos,
              "'" + e.text + "' needs true or false on both sides, found " + DescribeExpr(operand));
          return std::nullopt;
        }
      }
      out.kind = e.text == "&&" ? PolicyExpr::Kind::kAnd : PolicyExpr::Kind::kOr;
    } else {
      out.kind = PolicyExpr::Kind::kCompare;
      static const std::map<std::string, PolicyExpr::CompareOp> kOps = {
          {"==", PolicyExpr::CompareOp::kEq}, {"!=", PolicyExpr::CompareOp::kNe},
          {"<", PolicyExpr::CompareOp::kLt},  {"<=", PolicyExpr::CompareOp::kLe},
          {">", PolicyExpr::CompareOp::kGt},  {">=", PolicyExpr::CompareOp::kGe}};
      out.op = kOps.at(e.text);
      bool equality = out.op == PolicyExpr::CompareOp::kEq || out.op == PolicyExpr::CompareOp::kNe;
      if (!CheckComparison(e, lt, rt, *lhs, *rhs, equality, file)) return std::nullopt;
    }
    out.location = Loc(file, e.lhs->pos);
    out.operands.push_back(std::move(*lhs));
    out.operands.push_back(std::move(*rhs));
    return out;
  }

  bool CheckComparison(const ast::Expr& e, const ValueType& lt, const ValueType& rt,
                       const PolicyExpr& lhs, const PolicyExpr& rhs, bool equality, size_t file) {
    using K = ValueType::Kind;
    for (const auto* side : {&lt, &rt}) {
      if (side->kind == K::kOther) {
        const ast::Expr& operand = side == &lt ? *e.lhs : *e.rhs;
        Err(file, operand.pos,
            side->name + " field " + DescribeExpr(operand) + " cannot be compared in a policy");
        return false;
      }
    }
    if (lt.kind == K::kNull || rt.kind == K::kNull) {
      if (!equality) {
        Err(file, e.pos, "null can only be compared with '==' or '!='");
        return false;
      }
      return true;
    }
    if (lt.kind == K::kAny || rt.kind == K::kAny) return true;
    // An enum compared with a string literal: the literal must be a member.
    for (int side = 0; side < 2; ++side) {
      const ValueType& a = side == 0 ? lt : rt;
      const ValueType& b = side == 0 ? rt : lt;
      const PolicyExpr& b_expr = side == 0 ? rhs : lhs;
      const ast::Expr& b_ast = side == 0 ? *e.rhs : *e.lhs;
      if (a.kind == K::kEnum && b.kind == K::kText) {
        if (b_expr.kind == PolicyExpr::Kind::kLiteral) {
          const Enum* en = schema_.FindEnum(a.name);
          if (std::find(en->values.begin(), en->values.end(), b_expr.literal.text) ==
              en->values.end()) {
            Err(file, b_ast.pos,
                "'" + b_expr.literal.text + "' is not a value of enum '" + a.name + "'");
            return false;
          }
        }
        return true;
      }
    }
    bool compatible = lt.kind == rt.kind && (lt.kind != K::kEnum || lt.name == rt.name);
    // DateTime values are ISO-8601 text.
    if ((lt.kind == K::kDateTime && rt.kind == K::kText) ||
        (lt.kind == K::kText && rt.kind == K::kDateTime)) {
      compatible = true;
    }
    if (!compatible) {
      Err(file, e.pos,
          std::string("cannot compare ") + ValueTypeName(lt) + " with " + ValueTypeName(rt) +
              " ('" + e.text + "')");
      return false;
    }
    return true;
  }

  void BindModelAttributes(Model& model, const ast::Model& m, size_t file) {
    std::set<std::string> seen;
    std::set<std::vector<std::string>> index_keys;
    for (const auto& attr : m.attributes) {
      std::string display = "@@" + attr.name;
      static const std::set<std::string> kRepeatable = {"index", "unique", "allow", "deny"};
      static const std::set<std::string> kKnown = {"index", "unique",   "map",      "softDelete",
                                                   "fts",   "external", "noStrict", "shardKey",
                                                   "allow", "deny"};
      if (!kKnown.count(attr.name)) {
        Err(file, attr.pos, "unknown model attribute " + display);
        continue;
      }
      if (!kRepeatable.count(attr.name) && !seen.insert(attr.name).second) {
        Err(file, attr.pos, "duplicate attribute " + display + " on model '" + m.name + "'");
        continue;
      }
      std::vector<const ast::Expr*> args;
      if (attr.name == "index" || attr.name == "unique") {
        if (!MatchArgs(attr, file, display, {"fields"}, 1, args)) continue;
        auto names = NameList(args[0], file, display);
        if (!names) continue;
        Index index;
        index.unique = attr.name == "unique";
        index.location = Loc(file, attr.pos);
        bool ok = true;
        for (const auto& [name, pos] : *names) {
          const Field* field = model.FindField(name);
          if (field == nullptr) {
            Err(file, pos,
                "unknown field '" + name + "' in " + display + " of model '" + m.name + "'");
            ok = false;
          } else if (!field->stored()) {
            Err(file, pos,
                "cannot index relation field '" + name + "'; index its foreign-key fields");
            ok = false;
          }
          index.fields.push_back(name);
        }
        if (!ok) continue;
        std::vector<std::string> key = index.fields;
        key.insert(key.begin(), index.unique ? "unique" : "index");
        if (!index_keys.insert(key).second) {
          Err(file, attr.pos, "duplicate " + display + " on the same fields");
          continue;
        }
        model.indexes.push_back(std::move(index));
      } else if (attr.name == "map") {
        if (!MatchArgs(attr, file, display, {"name"}, 1, args)) continue;
        auto name = StringArg(args[0], file, "the table name");
        if (!name) continue;
        if (name->empty()) {
          Err(file, args[0]->pos, "the table name in @@map cannot be empty");
          continue;
        }
        model.table = *name;
      } else if (attr.name == "softDelete") {
        if (!MatchArgs(attr, file, display, {"mode"}, 0, args)) continue;
        if (args[0] != nullptr) {
          if (args[0]->kind != ast::ExprKind::kIdent || args[0]->text != "cascade") {
            Err(file, args[0]->pos,
                "expected 'cascade' in @@softDelete(...), found " + DescribeExpr(*args[0]));
            continue;
          }
          model.soft_delete_cascade = true;
        }
        const Field* deleted_at = model.FindField("deletedAt");
        if (deleted_at == nullptr) {
          Err(file, attr.pos,
              "@@softDelete needs a field 'deletedAt DateTime?' in model '" + m.name + "'");
          continue;
        }
        if (!IsScalar(deleted_at->type, ScalarType::kDateTime) || deleted_at->type.list ||
            !deleted_at->type.optional) {
          Err(file, attr.pos,
              "@@softDelete needs 'deletedAt' to be DateTime?, not " + TypeText(deleted_at->type));
          continue;
        }
        model.soft_delete = true;
      } else if (attr.name == "fts") {
        if (!MatchArgs(attr, file, display, {"fields"}, 1, args)) continue;
        auto names = NameList(args[0], file, display);
        if (!names) continue;
        bool ok = true;
        for (const auto& [name, pos] : *names) {
          const Field* field = model.FindField(name);
          if (field == nullptr) {
            Err(file, pos, "unknown field '" + name + "' in @@fts of model '" + m.name + "'");
            ok = false;
          } else if (!IsScalar(field->type, ScalarType::kText) || field->type.list) {
            Err(file, pos, "@@fts indexes Text fields; '" + name + "' is " + TypeText(field->type));
            ok = false;
          } else if (field->column == "rank" || field->column == "rowid" ||
                     field->column == model.table + "_fts") {
            Err(file, pos,
                "column '" + field->column +
                    "' cannot be in a full-text index (the "
                    "name is reserved by FTS5)");
            ok = false;
          }
        }
        if (!ok) continue;
        for (const auto& [name, pos] : *names) model.fts_fields.push_back(name);
      } else if (attr.name == "external") {
        if (!MatchArgs(attr, file, display, {}, 0, args)) continue;
        model.external = true;
      } else if (attr.name == "noStrict") {
        if (!MatchArgs(attr, file, display, {}, 0, args)) continue;
        model.strict = false;
      } else if (attr.name == "shardKey") {
        if (!MatchArgs(attr, file, display, {"field"}, 1, args)) continue;
        if (args[0]->kind != ast::ExprKind::kIdent) {
          Err(file, args[0]->pos,
              "expected a field name in @@shardKey, found " + DescribeExpr(*args[0]));
          continue;
        }
        const Field* field = model.FindField(args[0]->text);
        if (field == nullptr) {
          Err(file, args[0]->pos,
              "unknown field '" + args[0]->text + "' in @@shardKey of model '" + m.name + "'");
          continue;
        }
        if (!field->stored() || field->type.list || field->type.optional ||
            IsScalar(field->type, ScalarType::kJson) || IsScalar(field->type, ScalarType::kBlob)) {
          Err(file, args[0]->pos,
              "shard key '" + field->name +
                  "' must be a required Integer, Real, Text, Boolean, "
                  "DateTime or enum field, not " +
                  TypeText(field->type));
          continue;
        }
        model.shard_key = field->name;
      } else if (attr.name == "allow" || attr.name == "deny") {
        if (!MatchArgs(attr, file, display, {"operation", "condition", "message"}, 2, args)) {
          continue;
        }
        auto op = StringArg(args[0], file, "the operation");
        if (!op) continue;
        Policy policy;
        policy.allow = attr.name == "allow";
        policy.location = Loc(file, attr.pos);
        static const std::map<std::string, PolicyOperation> kOps = {
            {"read", PolicyOperation::kRead},
            {"create", PolicyOperation::kCreate},
            {"update", PolicyOperation::kUpdate},
            {"delete", PolicyOperation::kDelete},
            {"all", PolicyOperation::kAll}};
        auto it = kOps.find(*op);
        if (it == kOps.end()) {
          Err(file, args[0]->pos,
              "unknown operation '" + *op + "' for " + display +
                  "; expected 'read', 'create', 'update', 'delete' or 'all'");
          continue;
        }
        policy.operation = it->second;
        auto condition = BindCondition(*args[1], model, file);
        if (!condition) continue;
        policy.condition = std::move(*condition);
        if (args[2] != nullptr) {
          auto message = StringArg(args[2], file, "the error message");
          if (!message) continue;
          policy.message = *message;
        }
        model.policies.push_back(std::move(policy));
      }
    }
    for (auto& index : model.indexes) {
      index.name = model.table;
      for (const auto& name : index.fields) index.name += "_" + model.FindField(name)->column;
      index.name += index.unique ? "_key" : "_idx";
    }
  }

  // Whether `fields` of `target` are its primary key or carry a full unique constraint.
  static bool IsUniqueKey(const Model& target, const std::vector<std::string>& fields) {
    std::set<std::string> wanted(fields.begin(), fields.end());
    if (fields.size() == 1) {
      const Field* f = target.FindField(fields[0]);
      if (f != nullptr && f->id) return true;
      if (f != nullptr && f->unique && !target.soft_delete) return true;
    }
    if (target.soft_delete) return false;
    for (const auto& index : target.indexes) {
      if (index.unique &&
          std::set<std::string>(index.fields.begin(), index.fields.end()) == wanted) {
        return true;
      }
    }
    return false;
  }

  void BindRelations() {
    // Owning sides first: the back sides look them up.
    for (auto& [model, m, file] : models_) {
      for (const auto& f : m->fields) {
        Field* field = nullptr;
        for (auto& candidate : model->fields) {
          if (candidate.name == f.name && candidate.location.line == f.pos.line &&
              candidate.location.column == f.pos.column) {
            field = &candidate;
          }
        }
        if (field == nullptr || !field->relation || !field->relation->owning) continue;
        for (const auto& attr : f.attributes) {
          if (attr.name == "relation") BindOwningRelation(*model, *field, attr, file);
        }
      }
    }
    for (auto& [model, m, file] : models_) {
      for (const auto& f : m->fields) {
        Field* field = nullptr;
        for (auto& candidate : model->fields) {
          if (candidate.name == f.name && candidate.location.line == f.pos.line &&
              candidate.location.column == f.pos.column) {
            field = &candidate;
          }
        }
        if (field == nullptr || field->stored() || field->relation) continue;
        const Model* target = schema_.FindModel(field->type.name);
        std::vector<const Field*> owners;
        for (const auto& candidate : target->fields) {
          if (candidate.relation && candidate.relation->owning &&
              candidate.relation->target_model == model->name && &candidate != field) {
            owners.push_back(&candidate);
          }
        }
        if (owners.empty()) {
          Err(file, f.pos,
              "relation field '" + f.name +
                  "' needs @relation(fields: [...], "
                  "references: [...]) here or on a field of model '" +
                  target->name + "' of type '" + model->name + "'");
          continue;
        }
        if (owners.size() > 1) {
          Err(file, f.pos,
              "relation field '" + f.name + "' is ambiguous: model '" + target->name +
                  "' has several relations to '" + model->name + "' ('" + owners[0]->name + "', '" +
                  owners[1]->name + "')");
          continue;
        }
        if (!field->type.list && !field->type.optional) {
          Err(file, f.pos,
              "the back side of a one-to-one relation must be optional: write '" + f.name + " " +
                  field->type.name + "?'");
          continue;
        }
        Relation relation;
        relation.target_model = target->name;
        relation.back_field = owners[0]->name;
        field->relation = std::move(relation);
      }
    }
  }

  void BindOwningRelation(Model& model, Field& field, const ast::Attribute& attr, size_t file) {
    Relation& relation = *field.relation;
    std::vector<const ast::Expr*> args;
    if (!MatchArgs(attr, file, "@relation", {"fields", "references", "onDelete"}, 0, args)) {
      return;
    }
    if (args[0] == nullptr || args[1] == nullptr) {
      Err(file, attr.pos, "@relation needs fields: [...] and references: [...]");
      return;
    }
    if (field.type.list) {
      Err(file, attr.pos,
          "the side of a relation that holds @relation(fields, references) "
          "cannot be a list; put it on the other model's field");
      return;
    }
    const Model* target = schema_.FindModel(field.type.name);
    auto fields = NameList(args[0], file, "@relation fields");
    auto references = NameList(args[1], file, "@relation references");
    if (!fields || !references) {
      return;
    }
    bool ok = true;
    std::vector<const Field*> local_fields, target_fields;
    for (const auto& [name, pos] : *fields) {
      const Field* f = model.FindField(name);
      if (f == nullptr) {
        Err(file, pos,
            "unknown field '" + name + "' in @relation fields of model '" + model.name + "'");
        ok = false;
      } else if (!f->stored() || f->type.list) {
        Err(file, pos,
            "@relation fields must be scalar or enum fields; '" + name + "' is " +
                (f->stored() ? TypeText(f->type) : "a relation field"));
        ok = false;
      }
      local_fields.push_back(f);
    }
    for (const auto& [name, pos] : *references) {
      const Field* f = target->FindField(name);
      if (f == nullptr) {
        Err(file, pos,
            "unknown field '" + name + "' in @relation references: model '" + target->name +
                "' has no such field");
        ok = false;
      } else if (!f->stored() || f->type.list) {
        Err(file, pos,
            "@relation references must be scalar or enum fields; '" + name + "' is " +
                TypeText(f->type));
        ok = false;
      }
      target_fields.push_back(f);
    }
    if (!ok) {
      return;
    }
    if (fields->size() != references->size()) {
      Err(file, args[1]->pos,
          "@relation has " + std::to_string(fields->size()) + " field" +
              (fields->size() == 1 ? "" : "s") + " but " + std::to_string(references->size()) +
              " reference" + (references->size() == 1 ? "" : "s"));
      return;
    }
    for (size_t i = 0; i < local_fields.size(); ++i) {
      if (!SameValueType(local_fields[i]->type, target_fields[i]->type)) {
        Err(file, (*fields)[i].second,
            "@relation field '" + local_fields[i]->name + "' is " +
                TypeText(local_fields[i]->type) + " but references '" + target->name + "." +
                target_fields[i]->name + "' of type " + TypeText(target_fields[i]->type));
        ok = false;
      }
    }
    if (!ok) {
      return;
    }
    std::vector<std::string> reference_names;
    for (const auto& [name, pos] : *references) reference_names.push_back(name);
    if (!IsUniqueKey(*target, reference_names)) {
      Err(file, args[1]->pos,
          "@relation references must be the @id of model '" + target->name +
              "' or fields with a unique constraint" +
              (target->soft_delete ? " (unique constraints of a @@softDelete model cover live "
                                     "rows only, so only its @id can be referenced)"
                                   : ""));
      return;
    }
    if (args[2] != nullptr) {
      static const std::map<std::string, ReferentialAction> kActions = {
          {"Cascade", ReferentialAction::kCascade},
          {"SetNull", ReferentialAction::kSetNull},
          {"Restrict", ReferentialAction::kRestrict},
          {"NoAction", ReferentialAction::kNoAction}};
      auto it =
          args[2]->kind == ast::ExprKind::kIdent ? kActions.find(args[2]->text) : kActions.end();
      if (it == kActions.end()) {
        Err(file, args[2]->pos,
            "expected Cascade, SetNull, Restrict or NoAction for onDelete, "
            "found " +
                DescribeExpr(*args[2]));
        return;
      }
      if (it->second == ReferentialAction::kSetNull) {
        for (const auto* f : local_fields) {
          if (!f->type.optional) {
            Err(file, args[2]->pos,
                "onDelete: SetNull needs optional fields, but '" + f->name + "' is required");
            return;
          }
        }
      }
      relation.on_delete = it->second;
    }
    for (const auto& [name, pos] : *fields) relation.fields.push_back(name);
    relation.references = std::move(reference_names);
  }

  void CheckTables() {
    std::map<std::string, SourceLocation> tables;
    for (auto& [model, m, file] : models_) {
      std::string lower = model->table;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.rfind("sqlite_", 0) == 0) {
        Err(file, m->name_pos,
            "table name '" + model->table +
                "' is reserved: names starting with 'sqlite_' belong to SQLite");
        continue;
      }
      if (model->external) continue;
      // SQLite compares table names case-insensitively.
      auto [it, inserted] = tables.emplace(lower, Loc(file, m->name_pos));
      if (!inserted) {
        Err(file, m->name_pos,
            "model '" + model->name + "' uses table '" + model->table + "', already used at " +
                Where(it->second));
      }
      if (!model->fts_fields.empty()) {
        std::string fts = lower + "_fts";
        auto [fit, finserted] = tables.emplace(fts, Loc(file, m->name_pos));
        if (!finserted) {
          Err(file, m->name_pos,
              "the full-text table '" + model->table + "_fts' of model '" + model->name +
                  "' clashes with the table declared at " + Where(fit->second));
        }
      }
      std::map<std::string, std::string> columns;
      for (const auto& field : model->fields) {
        if (!field.stored()) continue;
        std::string column = field.column;
        for (auto& c : column) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto [cit, cinserted] = columns.emplace(column, field.name);
        if (!cinserted) {
          Err(file, ast::Pos{field.location.line, field.location.column},
              "field '" + field.name + "' uses column '" + field.column +
                  "', already used by field '" + cit->second + "'");
        }
      }
    }
  }

  const ast::Program& program_;
  Schema schema_;
  std::vector<ModelEntry> models_;
  std::vector<Error> errors_;
};

}  // namespace

Result<Schema> BindSchema(const ast::Program& program) {
  Binder binder(program);
  return binder.Bind();
}

Result<Schema> LoadAndBindSchema(const std::string& root_path, const FileReader& reader) {
  QUARRY_ASSIGN_OR_RETURN(ast::Program program, LoadSchema(root_path, reader));
  return BindSchema(program);
}

}  // namespace quarry::schema
