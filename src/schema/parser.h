#pragma once

// Parses the text of one schema file into its syntax tree (ast.h). Imports are recorded, not
// followed: loader.h follows them.
//
// Grammar (newlines are not significant; `//` comments run to the end of the line):
//   file      := (import | enum | model)*
//   import    := 'import' STRING
//   enum      := 'enum' NAME '{' NAME* '}'
//   model     := 'model' NAME '{' (field | '@@' NAME args?)* '}'
//   field     := NAME NAME ('?' | '[' ']')? ('@' NAME args?)*
//   args      := '(' (arg (',' arg)* ','?)? ')'      arg := (NAME ':')? expr
//   expr      := and ('||' and)*                     and := cmp ('&&' cmp)*
//   cmp       := unary (('=='|'!='|'<'|'<='|'>'|'>=') unary)?
//   unary     := '!' unary | postfix                 postfix := primary ('.' NAME)*
//   primary   := STRING | '-'? NUMBER | true | false | null | NAME | NAME args
//              | '[' (expr (',' expr)* ','?)? ']' | '(' expr ')'

#include <string>
#include <string_view>

#include "common/status.h"
#include "schema/ast.h"

namespace quarry::schema {

// Parses `text`; `path` names the file in the tree and in error messages. Fails with
// kInvalidArgument "path:line:column: expected ..., found ..." at the first syntax error.
// Never recurses deeper than a fixed bound, whatever the input.
Result<ast::File> ParseSchema(std::string_view text, const std::string& path);

}  // namespace quarry::schema
