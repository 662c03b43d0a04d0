// Binder: policy expressions (@@allow / @@deny and field @allow conditions), bound to the
// fields of their model (and, inside check(), of the related model) and type-checked; and
// the field @allow attributes themselves.

#include <algorithm>

#include "schema/binder_internal.h"

namespace quarry::schema::internal {

// After BindFields of every model: a condition may name any field of its model, including
// later ones, and check() the fields of another model.
void Binder::BindFieldPolicies(Model& model, const ast::Model& m, size_t file) {
  // model.fields lacks the fields that did not bind (duplicates, unknown types).
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
            "unknown operation '" + *op + "' for field @allow; expected 'read', 'write' or 'all'");
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

// Binds a policy condition; it must be true or false.
std::optional<PolicyExpr> Binder::BindCondition(const ast::Expr& e, const Model& model,
                                                size_t file) {
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

const char* Binder::ValueTypeName(const ValueType& t) {
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

std::optional<PolicyExpr> Binder::BindPolicyExpr(const ast::Expr& e, const Model& model,
                                                 size_t file, ValueType& type) {
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
        if (hint.empty() && check_outer_ != nullptr && check_outer_->FindField(e.text)) {
          hint = " (the condition of check() is about model '" + model.name + "'; '" + e.text +
                 "' is a field of model '" + check_outer_->name + "')";
        }
        Err(file, e.pos, "unknown field '" + e.text + "' in model '" + model.name + "'" + hint);
        return std::nullopt;
      }
      if (!field->stored()) {
        Err(file, e.pos,
            "relation field '" + e.text +
                "' cannot be used in a policy; use its foreign-key field, or check(" + e.text +
                ", condition) for its rows");
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
      if (e.text == "check") return BindCheck(e, model, file, type);
      if (e.text != "auth" && e.text != "now") {
        Err(file, e.pos,
            "unknown function " + e.text +
                "() in a policy; expected auth(), auth().field, now() or check(relation, "
                "condition)");
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

// check(relation, condition): true when a row related through `relation` (a relation field
// of `model`) satisfies `condition`, which is bound against the related model.
std::optional<PolicyExpr> Binder::BindCheck(const ast::Expr& e, const Model& model, size_t file,
                                            ValueType& type) {
  bool named = std::any_of(e.args.begin(), e.args.end(),
                           [](const ast::Argument& arg) { return arg.name.has_value(); });
  if (e.args.size() != 2 || named) {
    Err(file, e.pos,
        "check() takes a relation field and a condition, as in check(author, active == true)");
    return std::nullopt;
  }
  const ast::Expr& relation = *e.args[0].value;
  const ast::Expr& condition = *e.args[1].value;
  if (relation.kind != ast::ExprKind::kIdent) {
    Err(file, relation.pos,
        "expected a relation field of model '" + model.name +
            "' as the first argument of check(), found " + DescribeExpr(relation));
    return std::nullopt;
  }
  const Field* field = model.FindField(relation.text);
  if (field == nullptr) {
    Err(file, relation.pos, "unknown field '" + relation.text + "' in model '" + model.name + "'");
    return std::nullopt;
  }
  if (field->stored()) {
    Err(file, relation.pos,
        "check() needs a relation field (whose type is a model); '" + relation.text + "' is " +
            TypeText(field->type) + " in model '" + model.name + "'");
    return std::nullopt;
  }
  const Model* target = schema_.FindModel(field->type.name);
  ValueType inner_type;
  const Model* outer = check_outer_;
  check_outer_ = &model;
  auto inner = BindPolicyExpr(condition, *target, file, inner_type);
  check_outer_ = outer;
  if (!inner) return std::nullopt;
  if (inner_type.kind != ValueType::Kind::kBool && inner_type.kind != ValueType::Kind::kAny) {
    Err(file, condition.pos,
        "the condition of check() must be true or false, found " + DescribeExpr(condition) +
            "; compare it with a value");
    return std::nullopt;
  }
  PolicyExpr out;
  out.kind = PolicyExpr::Kind::kCheck;
  out.name = relation.text;
  out.model = target->name;
  out.location = Loc(file, e.pos);
  out.operands.push_back(std::move(*inner));
  type.kind = ValueType::Kind::kBool;
  return out;
}

bool Binder::CheckComparison(const ast::Expr& e, const ValueType& lt, const ValueType& rt,
                             const PolicyExpr& lhs, const PolicyExpr& rhs, bool equality,
                             size_t file) {
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
        std::string("cannot compare ") + ValueTypeName(lt) + " with " + ValueTypeName(rt) + " ('" +
            e.text + "')");
    return false;
  }
  return true;
}

}  // namespace quarry::schema::internal
