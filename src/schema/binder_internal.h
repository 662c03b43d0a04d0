#pragma once

// Internal to the binder (binder.h): the Binder class and the helpers its parts share. One
// Binder binds one program; its member functions are defined by kind, one file each:
//   binder.cc                 Bind (the order of the passes, error reporting) and the helpers
//   bind_declarations.cc      models, enums and types; fields; table and column names
//   bind_arguments.cc         attribute arguments: matching them to parameters, their values
//   bind_field_attributes.cc  field attributes (@id, @unique, @map, @relation, ...)
//   bind_defaults.cc          @default values, checked against their field's type
//   bind_model_attributes.cc  model attributes (@@map, @@index, @@unique, @@fts, @@allow, ...)
//   bind_policies.cc          policy expressions, type-checked against the model
//   bind_relations.cc         relations across models
// Not for use outside these files. Not thread-safe: a Binder is used by one BindSchema call.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "schema/ast.h"
#include "schema/binder.h"
#include "schema/model.h"

namespace quarry::schema::internal {

struct Error {
  size_t file_index;
  ast::Pos pos;
  std::string text;
};

std::optional<ScalarType> ScalarTypeNamed(const std::string& name);

std::string TypeText(const FieldType& type);

bool IsScalar(const FieldType& type, ScalarType scalar);

bool SameValueType(const FieldType& a, const FieldType& b);

// What a syntax node is, for "found ..." in messages.
std::string DescribeExpr(const ast::Expr& expr);

bool IsIsoDateTime(const std::string& s);

// Why `sql` cannot be a generated column's expression, or nullopt when it can: balanced
// parentheses, closed quotes, no ';' and no comment.
std::optional<std::string> CheckSqlExpression(const std::string& sql);

// The value type of a policy operand, for comparisons.
struct ValueType {
  enum class Kind { kBool, kNumber, kText, kDateTime, kNull, kEnum, kAny, kOther };
  Kind kind = Kind::kAny;
  std::string name;  // kEnum: the enum; kOther: the field's type
};

class Binder {
 public:
  explicit Binder(const ast::Program& program) : program_(program) {}

  // Runs every pass; the schema, or every error found (binder.cc).
  Result<Schema> Bind();

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

  // Declarations, types, fields, table and column names (bind_declarations.cc).
  void CollectDeclarations();
  // Resolves a field's type name.
  std::optional<FieldType> ResolveType(const ast::Field& f, size_t file);
  void BindFields(Model& model, const ast::Model& m, size_t file);
  void CheckTables();

  // Attribute arguments (bind_arguments.cc).
  // Matches an attribute's arguments to its parameters. Positional arguments take `params` in
  // order; named ones must name one of them. Returns false (error reported) on a mismatch.
  bool MatchArgs(const ast::Attribute& attr, size_t file, const std::string& display,
                 const std::vector<std::string>& params, size_t required,
                 std::vector<const ast::Expr*>& out);
  std::optional<std::string> StringArg(const ast::Expr* expr, size_t file, const std::string& what);
  // A list of field names `[a, b]`.
  std::optional<std::vector<std::pair<std::string, ast::Pos>>> NameList(const ast::Expr* expr,
                                                                        size_t file,
                                                                        const std::string& what);
  std::optional<Literal> NumberLiteral(const ast::Expr& expr, size_t file);
  std::optional<double> NumberArg(const ast::Expr* expr, size_t file, const std::string& what);
  std::optional<int64_t> LengthArg(const ast::Expr* expr, size_t file, const std::string& what);
  // The claim `name` of `auth().name`; `where` names the attribute in messages.
  std::optional<std::string> AuthClaim(const ast::Expr& expr, size_t file,
                                       const std::string& where);

  // Defaults (bind_defaults.cc).
  std::optional<Literal> ScalarDefault(const ast::Expr& e, const FieldType& type,
                                       const std::string& field_name, size_t file);
  std::optional<DefaultValue> BindDefault(const ast::Expr& e, const Field& field, size_t file);
  std::optional<std::string> EnumMember(const ast::Expr& e, const FieldType& type,
                                        const std::string& field_name, size_t file);
  // Checks the sibling defaults (DefaultValue::Kind::kField) that BindDefault recorded in
  // sibling_defaults_ for `model`, once all its fields are bound; drops the ones in error.
  void ResolveSiblingDefaults(Model& model, size_t file);

  // Field attributes (bind_field_attributes.cc).
  void BindFieldAttributes(Field& field, const ast::Field& f, size_t file);

  // Policy expressions (bind_policies.cc).
  // Field @allow, once every model's fields are bound.
  void BindFieldPolicies(Model& model, const ast::Model& m, size_t file);
  // Binds a policy condition; it must be true or false.
  std::optional<PolicyExpr> BindCondition(const ast::Expr& e, const Model& model, size_t file);
  static const char* ValueTypeName(const ValueType& t);
  std::optional<PolicyExpr> BindPolicyExpr(const ast::Expr& e, const Model& model, size_t file,
                                           ValueType& type);
  // check(relation, condition), `e` being the call.
  std::optional<PolicyExpr> BindCheck(const ast::Expr& e, const Model& model, size_t file,
                                      ValueType& type);
  bool CheckComparison(const ast::Expr& e, const ValueType& lt, const ValueType& rt,
                       const PolicyExpr& lhs, const PolicyExpr& rhs, bool equality, size_t file);

  // Model attributes (bind_model_attributes.cc).
  void BindModelAttributes(Model& model, const ast::Model& m, size_t file);

  // Relations (bind_relations.cc).
  // Whether `fields` of `target` are its primary key or carry a full unique constraint.
  static bool IsUniqueKey(const Model& target, const std::vector<std::string>& fields);
  void BindRelations();
  void BindOwningRelation(Model& model, Field& field, const ast::Attribute& attr, size_t file);

  const ast::Program& program_;
  Schema schema_;
  std::vector<ModelEntry> models_;
  std::vector<Error> errors_;
  // While BindCheck binds a condition: the model whose check() it is, for hints.
  const Model* check_outer_ = nullptr;
  // The fields of the model being bound whose default names a sibling, with that name's node.
  std::vector<std::pair<std::string, const ast::Expr*>> sibling_defaults_;
};

}  // namespace quarry::schema::internal
