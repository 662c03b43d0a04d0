#include "schema/binder.h"

#include <algorithm>

#include "common/sql_tokenizer.h"
#include "schema/binder_internal.h"
#include "schema/parser.h"

namespace quarry::schema {
namespace internal {

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

// Read with SQLite's tokens (common/sql_tokenizer.h): balanced parentheses, closed quotes, no
// ';' and no comment (a "--" would swallow the closing parenthesis): enough to keep a
// generated column's expression inside its parentheses in the DDL.
std::optional<std::string> CheckSqlExpression(const std::string& sql) {
  int depth = 0;
  bool empty = true;
  sql::SqlTokenizer tokens(sql);
  while (std::optional<sql::Token> token = tokens.Next()) {
    if (!token->complete) {
      return token->kind == sql::TokenKind::kComment ? "unterminated comment"
                                                     : "unterminated quote";
    }
    switch (token->kind) {
      case sql::TokenKind::kSpace:
        continue;
      case sql::TokenKind::kComment:
        return "comments are not allowed";
      case sql::TokenKind::kSemicolon:
        return "';' is not allowed";
      case sql::TokenKind::kOperator:
        if (token->text == "(") {
          ++depth;
        } else if (token->text == ")" && --depth < 0) {
          return "unbalanced ')'";
        }
        break;
      default:
        break;
    }
    empty = false;
  }
  if (empty) return "the expression is empty";
  if (depth != 0) return "unbalanced '('";
  return std::nullopt;
}

Result<Schema> Binder::Bind() {
  CollectDeclarations();
  for (auto& [model, ast_model, file] : models_) {
    BindFields(*model, *ast_model, file);
  }
  for (auto& [model, ast_model, file] : models_) {
    BindFieldPolicies(*model, *ast_model, file);
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

}  // namespace internal

Result<Schema> BindSchema(const ast::Program& program) {
  internal::Binder binder(program);
  return binder.Bind();
}

Result<Schema> LoadAndBindSchema(const std::string& root_path, const FileReader& reader) {
  QUARRY_ASSIGN_OR_RETURN(ast::Program program, LoadSchema(root_path, reader));
  return BindSchema(program);
}

Result<Schema> BindSelfContainedSchema(std::string_view text, const std::string& path) {
  QUARRY_ASSIGN_OR_RETURN(ast::File file, ParseSchema(text, path));
  for (const auto& declaration : file.declarations) {
    if (const auto* import = std::get_if<ast::Import>(&declaration)) {
      return Status(ErrorCode::kInvalidArgument,
                    path + ":" + std::to_string(import->pos.line) + ":" +
                        std::to_string(import->pos.column) +
                        ": the schema must be one self-contained file: the server does not "
                        "follow imports");
    }
  }
  ast::Program program;
  program.files.push_back(std::move(file));
  return BindSchema(program);
}

}  // namespace quarry::schema
