#include "query/policy_sql.h"

#include <algorithm>

#include "query/values.h"

namespace quarry::query {
namespace {

using schema::PolicyExpr;
using schema::PolicyOperation;

bool Applies(PolicyOperation policy_op, RowOperation op) {
  switch (policy_op) {
    case PolicyOperation::kAll:
      return true;
    case PolicyOperation::kRead:
      return op == RowOperation::kRead;
    case PolicyOperation::kCreate:
      return op == RowOperation::kCreate;
    case PolicyOperation::kUpdate:
      return op == RowOperation::kUpdate;
    case PolicyOperation::kDelete:
      return op == RowOperation::kDelete;
  }
  return false;
}

void AppendLiteral(SqlBuilder& sql, const schema::Literal& literal) {
  using Kind = schema::Literal::Kind;
  const ParamSource constant{ParamSource::Kind::kConstant};
  switch (literal.kind) {
    case Kind::kNull:
      sql << "NULL";
      return;
    case Kind::kBool:
      sql.Param(IntValue(literal.bool_value ? 1 : 0), constant);
      return;
    case Kind::kInteger:
      sql.Param(IntValue(literal.int_value), constant);
      return;
    case Kind::kReal:
      sql.Param(RealValue(literal.real_value), constant);
      return;
    case Kind::kString:
      sql.Param(TextValue(literal.text), constant);
      return;
    case Kind::kList:
      sql << "NULL";
      return;
  }
}

bool IsNullLiteral(const PolicyExpr& e) {
  return e.kind == PolicyExpr::Kind::kLiteral && e.literal.kind == schema::Literal::Kind::kNull;
}

const char* CompareSql(PolicyExpr::CompareOp op) {
  switch (op) {
    case PolicyExpr::CompareOp::kEq:
      return " = ";
    case PolicyExpr::CompareOp::kNe:
      return " <> ";
    case PolicyExpr::CompareOp::kLt:
      return " < ";
    case PolicyExpr::CompareOp::kLe:
      return " <= ";
    case PolicyExpr::CompareOp::kGt:
      return " > ";
    case PolicyExpr::CompareOp::kGe:
      return " >= ";
  }
  return " = ";
}

bool FieldPolicyApplies(schema::FieldPolicy::Operation policy_op, bool read) {
  using Op = schema::FieldPolicy::Operation;
  return policy_op == Op::kAll || (read ? policy_op == Op::kRead : policy_op == Op::kWrite);
}

}  // namespace

const char* RowOperationName(RowOperation op) {
  switch (op) {
    case RowOperation::kRead:
      return "read";
    case RowOperation::kCreate:
      return "create";
    case RowOperation::kUpdate:
      return "update";
    case RowOperation::kDelete:
      return "delete";
  }
  return "read";
}

Status CheckGate(const CompileContext& ctx, const schema::Model& model, RowOperation op) {
  if (!model.gate) {
    return Status::Ok();
  }
  int needed = (*model.gate)[static_cast<size_t>(op)];
  int level = ctx.identity.GateLevel();
  if (needed == 9 || level < needed) {
    std::string message = "model '" + model.name + "' refuses " + RowOperationName(op) +
                          (needed == 9 ? " to everyone (@@gate level 9: locked)"
                                       : ": @@gate needs level " + std::to_string(needed) +
                                             ", the caller has " + std::to_string(level));
    return Status(ErrorCode::kForbidden, std::move(message));
  }
  return Status::Ok();
}

Status CheckReadGate(CompileContext& ctx, const schema::Model& model) {
  QUARRY_RETURN_IF_ERROR(CheckGate(ctx, model, RowOperation::kRead));
  ctx.read_gates.push_back(&model);
  return Status::Ok();
}

bool HasRowPolicy(const CompileContext& ctx, const schema::Model& model, RowOperation op) {
  if (ctx.identity.system()) {
    return false;
  }
  return std::any_of(model.policies.begin(), model.policies.end(),
                     [op](const schema::Policy& p) { return Applies(p.operation, op); });
}

void AppendPolicyExpr(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                      std::string_view alias, const PolicyExpr& expr) {
  switch (expr.kind) {
    case PolicyExpr::Kind::kLiteral:
      AppendLiteral(sql, expr.literal);
      return;
    case PolicyExpr::Kind::kField: {
      const schema::Field* field = model.FindField(expr.name);
      sql.Column(alias, field->column);
      return;
    }
    case PolicyExpr::Kind::kAuth:
      // auth() is the identity: null only for an anonymous caller, which never gets this far.
      sql << (ctx.identity.system() ? "NULL" : "1");
      return;
    case PolicyExpr::Kind::kAuthField: {
      // Always a parameter, NULL when the claim is missing, so the statement's text does not
      // depend on which claims a caller has (plan_cache.h).
      auto it = ctx.identity.claims.find(expr.name);
      sql.Param(it == ctx.identity.claims.end() ? NullValue() : JsonScalarValue(it->value()),
                ParamSource{ParamSource::Kind::kClaim, expr.name});
      return;
    }
    case PolicyExpr::Kind::kNow:
      sql.Param(TextValue(ctx.now), ParamSource{ParamSource::Kind::kNow});
      return;
    case PolicyExpr::Kind::kNot:
      sql << "(NOT ";
      AppendPolicyExpr(ctx, sql, model, alias, expr.operands[0]);
      sql << ")";
      return;
    case PolicyExpr::Kind::kAnd:
    case PolicyExpr::Kind::kOr:
      sql << "(";
      AppendPolicyExpr(ctx, sql, model, alias, expr.operands[0]);
      sql << (expr.kind == PolicyExpr::Kind::kAnd ? " AND " : " OR ");
      AppendPolicyExpr(ctx, sql, model, alias, expr.operands[1]);
      sql << ")";
      return;
    case PolicyExpr::Kind::kCompare: {
      const PolicyExpr& left = expr.operands[0];
      const PolicyExpr& right = expr.operands[1];
      if (IsNullLiteral(left) || IsNullLiteral(right)) {
        const PolicyExpr& other = IsNullLiteral(left) ? right : left;
        sql << "(";
        AppendPolicyExpr(ctx, sql, model, alias, other);
        sql << (expr.op == PolicyExpr::CompareOp::kNe ? " IS NOT NULL)" : " IS NULL)");
        return;
      }
      sql << "(";
      AppendPolicyExpr(ctx, sql, model, alias, left);
      sql << CompareSql(expr.op);
      AppendPolicyExpr(ctx, sql, model, alias, right);
      sql << ")";
      return;
    }
    case PolicyExpr::Kind::kCheck: {
      const schema::Field* relation = model.FindField(expr.name);
      const schema::Model& target = Target(ctx, *relation);
      std::string related = ctx.NewAlias();
      sql << "EXISTS (SELECT 1 FROM ";
      sql.Ident(target.table);
      sql << " AS " << related << " WHERE ";
      JoinCondition(ctx, sql, model, *relation, alias, related);
      sql << " AND ";
      AppendPolicyExpr(ctx, sql, target, related, expr.operands[0]);
      sql << ")";
      return;
    }
  }
}

void AppendRowPolicy(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                     std::string_view alias, RowOperation op) {
  if (!HasRowPolicy(ctx, model, op)) {
    sql << "1";
    return;
  }
  bool any_allow = false;
  bool any_deny = false;
  for (const schema::Policy& p : model.policies) {
    if (Applies(p.operation, op)) {
      (p.allow ? any_allow : any_deny) = true;
    }
  }
  sql << "(";
  if (any_allow) {
    sql << "(";
    bool first = true;
    for (const schema::Policy& p : model.policies) {
      if (p.allow && Applies(p.operation, op)) {
        sql << (first ? "" : " OR ") << "coalesce(";
        AppendPolicyExpr(ctx, sql, model, alias, p.condition);
        sql << ", 0)";
        first = false;
      }
    }
    sql << ")";
  } else {
    sql << "1";
  }
  if (any_deny) {
    sql << " AND NOT (";
    bool first = true;
    for (const schema::Policy& p : model.policies) {
      if (!p.allow && Applies(p.operation, op)) {
        sql << (first ? "" : " OR ") << "coalesce(";
        AppendPolicyExpr(ctx, sql, model, alias, p.condition);
        sql << ", 0)";
        first = false;
      }
    }
    sql << ")";
  }
  sql << ")";
}

std::string RefusalMessage(const schema::Model& model, RowOperation op) {
  for (bool allow : {false, true}) {
    for (const schema::Policy& p : model.policies) {
      if (p.allow == allow && Applies(p.operation, op) && p.message) {
        return *p.message;
      }
    }
  }
  return std::string("a policy of model '") + model.name + "' refuses this " + RowOperationName(op);
}

FieldReadAccess ReadAccess(const CompileContext& ctx, const schema::Field& field,
                           bool explicitly_selected, bool list_read) {
  FieldReadAccess access;
  if (field.omit == schema::Field::Omit::kAll ||
      (field.omit == schema::Field::Omit::kDefault && list_read)) {
    access.visible = explicitly_selected;
  }
  if (field.secret) {
    access.visible = false;
    return access;
  }
  if (ctx.identity.system()) {
    return access;
  }
  if (field.guarded != schema::Field::Guard::kNone) {
    access.visible = false;
    return access;
  }
  access.conditional = std::any_of(
      field.policies.begin(), field.policies.end(),
      [](const schema::FieldPolicy& p) { return FieldPolicyApplies(p.operation, true); });
  return access;
}

FieldReadAccess FilterAccess(const CompileContext& ctx, const schema::Field& field) {
  FieldReadAccess access;
  if (ctx.identity.system()) {
    return access;
  }
  // A @guarded field is hidden from users in filters too: a filter that can match it tells
  // its value.
  if (field.secret || field.guarded != schema::Field::Guard::kNone) {
    access.visible = false;
    return access;
  }
  access.conditional = std::any_of(
      field.policies.begin(), field.policies.end(),
      [](const schema::FieldPolicy& p) { return FieldPolicyApplies(p.operation, true); });
  return access;
}

void AppendFieldReadCondition(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                              const schema::Field& field, std::string_view alias) {
  sql << "(1";
  for (const schema::FieldPolicy& p : field.policies) {
    if (FieldPolicyApplies(p.operation, true)) {
      sql << " AND coalesce(";
      AppendPolicyExpr(ctx, sql, model, alias, p.condition);
      sql << ", 0)";
    }
  }
  sql << ")";
}

Status CheckFieldWritable(const CompileContext& ctx, const schema::Field& field,
                          const std::string& path) {
  if (field.generated) {
    return Status(ErrorCode::kInvalidArgument,
                  path + ": '" + field.name + "' is a generated column and cannot be written")
        .WithPath(path);
  }
  if (ctx.identity.system()) {
    return Status::Ok();
  }
  if (field.secret || field.guarded == schema::Field::Guard::kAll) {
    return Status(ErrorCode::kForbidden,
                  path + ": field '" + field.name + "' may only be written with a service token")
        .WithPath(path);
  }
  return Status::Ok();
}

bool HasFieldWritePolicy(const CompileContext& ctx, const schema::Field& field) {
  if (ctx.identity.system()) {
    return false;
  }
  return std::any_of(
      field.policies.begin(), field.policies.end(),
      [](const schema::FieldPolicy& p) { return FieldPolicyApplies(p.operation, false); });
}

void AppendFieldWriteCondition(CompileContext& ctx, SqlBuilder& sql, const schema::Model& model,
                               const schema::Field& field, std::string_view alias) {
  sql << "(1";
  for (const schema::FieldPolicy& p : field.policies) {
    if (FieldPolicyApplies(p.operation, false)) {
      sql << " AND coalesce(";
      AppendPolicyExpr(ctx, sql, model, alias, p.condition);
      sql << ", 0)";
    }
  }
  sql << ")";
}

}  // namespace quarry::query
