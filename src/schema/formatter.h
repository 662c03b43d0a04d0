#pragma once

// Prints a schema file's syntax tree in the canonical layout:
//   - two-space indentation; one blank line between declarations (none between consecutive
//     imports); at most one blank line kept between fields where the source had some;
//   - in a model, fields first, with their names, types and attributes in aligned columns,
//     then, after one blank line, the model attributes, each on its own line, in source order;
//   - an enum on one line (`enum Role { admin member }`) when it has no comments and fits in
//     100 columns, else one value per line;
//   - expressions with single spaces around binary operators and only the parentheses that
//     precedence needs; strings keep their quote character; numbers are kept as written.
// Comments: whole-line comments before a declaration, a field, an enum value or a model
// attribute stay there; a comment at the end of such a line stays at the end of it (aligned
// with the other end-of-line comments of the block); comments before a closing '}' or at the
// end of the file stay there. A comment anywhere else (inside a field's attribute list that
// spans lines, between `model` and its name, ...) moves to its own line before the next field
// or declaration. No comment is ever dropped.
// FormatSchema(Parse(FormatSchema(x))) == FormatSchema(x), and the model does not change.

#include <string>
#include <string_view>

#include "common/status.h"
#include "schema/ast.h"

namespace quarry::schema {

// The canonical text of `file`, ending with one newline (empty for an empty file).
std::string FormatSchema(const ast::File& file);

// One self-contained schema file for `program`: the declarations of all its files (the root's
// first, then each import's in load order) without the imports, comments kept, in canonical
// layout. It binds to the same model as `program`; it is the text the CLI sends to the server's
// schema routes and the server records as a namespace's schema (recorded_schema.h).
std::string FormatProgram(ast::Program program);

// Parses `text` (see parser.h) and formats it.
Result<std::string> FormatSchemaText(std::string_view text, const std::string& path);

// An expression in canonical form, as inside an attribute.
std::string FormatExpr(const ast::Expr& expr);

}  // namespace quarry::schema
