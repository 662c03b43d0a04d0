#include "model_summary.h"

namespace quarry::schema {

namespace {

std::string LiteralText(const Literal& lit) {
  switch (lit.kind) {
    case Literal::Kind::kNull:
      return "null";
    case Literal::Kind::kBool:
      return lit.bool_value ? "true" : "false";
    case Literal::Kind::kInteger:
      return std::to_string(lit.int_value);
    case Literal::Kind::kReal:
      return lit.text;
    case Literal::Kind::kString:
      return "'" + lit.text + "'";
    case Literal::Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < lit.items.size(); ++i) {
        out += (i > 0 ? ", " : "") + LiteralText(lit.items[i]);
      }
      return out + "]";
    }
  }
  return "?";
}

std::string DefaultText(const DefaultValue& value) {
  switch (value.kind) {
    case DefaultValue::Kind::kLiteral:
      return LiteralText(value.literal);
    case DefaultValue::Kind::kEnumValue:
      return "enum " + value.enum_value;
    case DefaultValue::Kind::kNow:
      return "now()";
    case DefaultValue::Kind::kUuid:
      return "uuid()";
    case DefaultValue::Kind::kUlid:
      return "ulid()";
    case DefaultValue::Kind::kAutoincrement:
      return "autoincrement()";
    case DefaultValue::Kind::kNanoid:
      return "nanoid()";
    case DefaultValue::Kind::kAuthClaim:
      return "auth()." + value.claim;
    case DefaultValue::Kind::kField:
      return "field " + value.field;
  }
  return "?";
}

const char* CompareText(PolicyExpr::CompareOp op) {
  switch (op) {
    case PolicyExpr::CompareOp::kEq:
      return "==";
    case PolicyExpr::CompareOp::kNe:
      return "!=";
    case PolicyExpr::CompareOp::kLt:
      return "<";
    case PolicyExpr::CompareOp::kLe:
      return "<=";
    case PolicyExpr::CompareOp::kGt:
      return ">";
    case PolicyExpr::CompareOp::kGe:
      return ">=";
  }
  return "?";
}

// Recursion is bounded by the parser's kMaxExprHeight.
std::string ExprText(const PolicyExpr& e) {
  switch (e.kind) {
    case PolicyExpr::Kind::kLiteral:
      return LiteralText(e.literal);
    case PolicyExpr::Kind::kField:
      return e.name;
    case PolicyExpr::Kind::kAuth:
      return "auth()";
    case PolicyExpr::Kind::kAuthField:
      return "auth()." + e.name;
    case PolicyExpr::Kind::kNow:
      return "now()";
    case PolicyExpr::Kind::kNot:
      return "!" + ExprText(e.operands.at(0));
    case PolicyExpr::Kind::kAnd:
      return "(" + ExprText(e.operands.at(0)) + " && " + ExprText(e.operands.at(1)) + ")";
    case PolicyExpr::Kind::kOr:
      return "(" + ExprText(e.operands.at(0)) + " || " + ExprText(e.operands.at(1)) + ")";
    case PolicyExpr::Kind::kCompare:
      return "(" + ExprText(e.operands.at(0)) + " " + CompareText(e.op) + " " +
             ExprText(e.operands.at(1)) + ")";
    case PolicyExpr::Kind::kCheck:
      return "check(" + e.name + " -> " + e.model + ", " + ExprText(e.operands.at(0)) + ")";
  }
  return "?";
}

const char* OperationText(PolicyOperation op) {
  switch (op) {
    case PolicyOperation::kRead:
      return "read";
    case PolicyOperation::kCreate:
      return "create";
    case PolicyOperation::kUpdate:
      return "update";
    case PolicyOperation::kDelete:
      return "delete";
    case PolicyOperation::kAll:
      return "all";
  }
  return "?";
}

const char* OperationText(FieldPolicy::Operation op) {
  switch (op) {
    case FieldPolicy::Operation::kRead:
      return "read";
    case FieldPolicy::Operation::kWrite:
      return "write";
    case FieldPolicy::Operation::kAll:
      return "all";
  }
  return "?";
}

}  // namespace

std::string ModelSummary(const Schema& schema) {
  std::string out;
  for (const Model& model : schema.models) {
    out += "model " + model.name + "\n";
    if (model.gate) {
      const auto& g = *model.gate;
      out += "  @@gate read " + std::to_string(g[0]) + ", create " + std::to_string(g[1]) +
             ", update " + std::to_string(g[2]) + ", delete " + std::to_string(g[3]) + "\n";
    }
    for (const Policy& policy : model.policies) {
      out += std::string("  ") + (policy.allow ? "@@allow " : "@@deny ") +
             OperationText(policy.operation) + ": " + ExprText(policy.condition);
      if (policy.message) out += " message \"" + *policy.message + "\"";
      out += "\n";
    }
    for (const Field& field : model.fields) {
      std::vector<std::string> items;
      if (field.default_value) items.push_back("default " + DefaultText(*field.default_value));
      if (field.updated_at) items.push_back("updatedAt");
      if (field.updated_by_claim) items.push_back("updatedBy auth()." + *field.updated_by_claim);
      if (field.omit == Field::Omit::kDefault) items.push_back("omit");
      if (field.omit == Field::Omit::kAll) items.push_back("omit(all)");
      if (field.guarded == Field::Guard::kDefault) items.push_back("guarded");
      if (field.guarded == Field::Guard::kAll) items.push_back("guarded(all)");
      if (field.secret) items.push_back("secret");
      if (!items.empty()) {
        out += "  " + field.name + ":";
        for (size_t i = 0; i < items.size(); ++i) out += (i > 0 ? ", " : " ") + items[i];
        out += "\n";
      }
      for (const FieldPolicy& policy : field.policies) {
        out += "  " + field.name + " @allow " + OperationText(policy.operation) + ": " +
               ExprText(policy.condition) + "\n";
      }
    }
  }
  return out;
}

}  // namespace quarry::schema
