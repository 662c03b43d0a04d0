#pragma once

// Splits schema text into tokens. Whitespace and newlines only separate tokens; `//` starts a
// comment that runs to the end of the line and is returned apart from the tokens.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "schema/ast.h"

namespace quarry::schema {

enum class TokenKind {
  kIdent,
  kString,  // text holds the unescaped value
  kNumber,  // text as written: digits, an optional fraction and exponent
  kLBrace,
  kRBrace,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kColon,
  kQuestion,
  kDot,
  kAt,    // @
  kAtAt,  // @@
  kEq,    // ==
  kNe,    // !=
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,  // &&
  kOr,   // ||
  kNot,  // !
  kMinus,
  kEnd,  // end of input; always the last token
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  char quote = '"';  // kString only
  ast::Pos pos;
};

struct Comment {
  std::string text;  // including the leading "//", without the line break
  ast::Pos pos;
  bool own_line = false;  // nothing but whitespace precedes it on its line
};

struct LexResult {
  std::vector<Token> tokens;  // ends with a kEnd token
  std::vector<Comment> comments;
};

// Tokenizes `text`. Fails with kInvalidArgument "path:line:column: ..." on a character that
// starts no token or an unterminated string.
Result<LexResult> Lex(std::string_view text, const std::string& path);

// A token kind as the user would write it, for "expected ..." messages: "'{'", "a name", ...
std::string DescribeTokenKind(TokenKind kind);
// The token as found in the text, for "... found ..." messages.
std::string DescribeToken(const Token& token);

// "path:line:column: message" as a kInvalidArgument Status.
Status SyntaxError(const std::string& path, ast::Pos pos, const std::string& message);

}  // namespace quarry::schema
