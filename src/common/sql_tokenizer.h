#pragma once

// SqlTokenizer: cuts SQL text into SQLite's tokens, the way SQLite's own tokenizer does
// (tokenize.c), so that code which must look at SQL text (statement splitting, the first
// keyword of a statement) agrees with SQLite about what is a string, a quoted identifier or a
// comment. It does not parse: deciding whether a statement is complete is sqlite3_complete()'s
// job (see sql_statement.h), and access control is the authorizer's, never the text's.
//
// Tokens are views into the input, which must outlive them. Every byte of the input belongs to
// exactly one token, so concatenating the tokens gives the input back. Unterminated strings,
// quoted identifiers and block comments run to the end of the input and are marked incomplete.
// Pure, no allocation; a tokenizer is not shared between threads.

#include <optional>
#include <string>
#include <string_view>

namespace quarry::sql {

enum class TokenKind {
  kSpace,             // spaces, tabs, line breaks, form feeds
  kComment,           // -- to the end of the line, or /* ... */
  kWord,              // a keyword or a bare identifier: SELECT, users, _x1, $-free
  kQuotedIdentifier,  // "name", `name` or [name]
  kString,            // 'text' ('' inside is one quote)
  kBlob,              // x'00ff' or X'00FF'
  kNumber,            // 12, 1.5, .5, 1e-3, 0x1F
  kParameter,         // ?, ?3, :name, @name, $name
  kSemicolon,         // ;
  kOperator,          // everything else: ( ) , . = <> || -> ->> ...
};

struct Token {
  TokenKind kind;
  std::string_view text;
  // False for a string, quoted identifier, blob or block comment that the input ends inside.
  bool complete = true;
};

class SqlTokenizer {
 public:
  explicit SqlTokenizer(std::string_view sql) : sql_(sql) {}

  // The next token, or nullopt at the end of the input.
  std::optional<Token> Next();
  // The next token that is not space or a comment, or nullopt at the end of the input.
  std::optional<Token> NextSignificant();
  // The offset in the input of the next token.
  size_t offset() const { return pos_; }

 private:
  std::string_view sql_;
  size_t pos_ = 0;
};

// An upper-cased (ASCII) copy of `word`, for comparing keywords.
std::string UpperAscii(std::string_view word);
// True when `a` and `b` are equal ignoring ASCII case (what UpperAscii compares), without a copy.
bool EqualsAsciiNoCase(std::string_view a, std::string_view b);

}  // namespace quarry::sql
