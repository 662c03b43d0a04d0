#pragma once

// The syntax tree of one schema file, as written: names are not resolved and nothing is
// checked beyond the grammar. The parser (parser.h) produces it, the binder (binder.h) turns a
// whole Program into a validated schema::Schema, and the formatter (formatter.h) prints it back
// in canonical layout. Every node carries the line and column (1-based) where it starts.
//
// Comments are kept as trivia on the node they precede (`leading`) or follow on the same line
// (`trailing`), so that the formatter can print them back.

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace quarry::schema::ast {

struct Pos {
  int line = 0;
  int column = 0;
};

// Comments around a node. Each comment is kept with its leading "//".
struct Trivia {
  std::vector<std::string> leading;  // whole-line comments just before the node
  std::string trailing;              // a comment after the node on its last line, or empty
  bool blank_line_before = false;    // the source had an empty line before the node
};

// Expressions deeper than this are rejected by the parser, so that every recursive walk over a
// tree is bounded.
inline constexpr int kMaxExprHeight = 64;

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// `name: value` or a positional `value` inside an attribute's or a call's parentheses.
struct Argument {
  std::optional<std::string> name;
  Pos name_pos;
  ExprPtr value;
};

enum class ExprKind {
  kString,  // text = the unescaped value; quote = the quote character used
  kNumber,  // text = the number as written (optionally with a leading '-')
  kBool,    // bool_value
  kNull,
  kIdent,   // text = the name
  kCall,    // text = the function name; args
  kMember,  // lhs = the object; text = the member name
  kArray,   // items
  kUnary,   // text = "!" or "-"; lhs = the operand
  kBinary,  // text = the operator ("==", "&&", ...); lhs, rhs
};

struct Expr {
  ExprKind kind = ExprKind::kNull;
  Pos pos;
  std::string text;
  char quote = '"';
  bool bool_value = false;
  int height = 1;  // of this subtree; the parser keeps it under kMaxExprHeight
  ExprPtr lhs;
  ExprPtr rhs;
  std::vector<Argument> args;
  std::vector<ExprPtr> items;
};

// `@name(args)` on a field, or `@@name(args)` on a model.
struct Attribute {
  std::string name;  // without the '@' / '@@'
  Pos pos;           // of the '@'
  bool has_parens = false;
  std::vector<Argument> args;
  Trivia trivia;  // model attributes only
};

struct Field {
  std::string name;
  Pos pos;
  std::string type_name;
  Pos type_pos;
  bool optional = false;  // `Type?`
  bool list = false;      // `Type[]`
  std::vector<Attribute> attributes;
  Trivia trivia;
};

struct Model {
  std::string name;
  Pos pos;  // of the `model` keyword
  Pos name_pos;
  std::vector<Field> fields;
  std::vector<Attribute> attributes;          // model attributes, in source order
  std::vector<std::string> closing_comments;  // whole-line comments just before the `}`
  Trivia trivia;
};

struct EnumValue {
  std::string name;
  Pos pos;
  Trivia trivia;
};

struct Enum {
  std::string name;
  Pos pos;
  Pos name_pos;
  std::vector<EnumValue> values;
  std::vector<std::string> closing_comments;
  Trivia trivia;
};

struct Import {
  std::string path;  // as written
  Pos pos;           // of the `import` keyword
  Pos path_pos;
  Trivia trivia;
};

using Declaration = std::variant<Import, Model, Enum>;

struct File {
  std::string path;  // names the file in error messages
  std::vector<Declaration> declarations;
  std::vector<std::string> closing_comments;  // comments after the last declaration
};

// A root file and every file it imports, transitively, each once. files[0] is the root; the
// rest follow in the order their imports were first reached.
struct Program {
  std::vector<File> files;
};

}  // namespace quarry::schema::ast
