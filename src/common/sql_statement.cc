#include "common/sql_statement.h"

#include <sqlite3.h>

#include <array>
#include <optional>

#include "common/sql_tokenizer.h"

namespace quarry::sql {
namespace {

bool IsBlankToken(const Token& token) {
  return token.kind == TokenKind::kSpace || token.kind == TokenKind::kComment ||
         token.kind == TokenKind::kSemicolon;
}

// The significant tokens of the first statement of a text, upper-cased words, one at a time.
class Words {
 public:
  explicit Words(std::string_view sql) : tokens_(SkipBlank(sql)) {}
  // The next token's text upper-cased if it is a word; "" for any other token, ";" or the end,
  // and for every call after that.
  std::string Next() {
    if (done_) {
      return "";
    }
    std::optional<Token> token = tokens_.NextSignificant();
    if (!token || token->kind != TokenKind::kWord) {
      done_ = true;
      return "";
    }
    return UpperAscii(token->text);
  }
  // True when nothing but space and comments is left before the end or a ';'.
  bool AtEnd() {
    std::optional<Token> token = tokens_.NextSignificant();
    return !token || token->kind == TokenKind::kSemicolon;
  }

 private:
  SqlTokenizer tokens_;
  bool done_ = false;
};

}  // namespace

SplitSql SplitCompleteStatements(std::string_view sql) {
  SplitSql out;
  SqlTokenizer tokens(sql);
  size_t start = 0;
  std::string candidate;
  while (std::optional<Token> token = tokens.Next()) {
    if (token->kind != TokenKind::kSemicolon) {
      continue;
    }
    size_t end = tokens.offset();
    // Only SQLite knows where a CREATE TRIGGER body ends; the tokenizer has already ruled out
    // the ';' inside strings, identifiers and comments.
    candidate.assign(sql.substr(start, end - start));
    if (sqlite3_complete(candidate.c_str()) != 0) {
      out.statements.push_back(sql.substr(start, end - start));
      start = end;
    }
  }
  out.rest = sql.substr(start);
  return out;
}

std::string_view SkipBlank(std::string_view sql) {
  SqlTokenizer tokens(sql);
  size_t start = 0;
  while (std::optional<Token> token = tokens.Next()) {
    if (!IsBlankToken(*token)) {
      break;
    }
    start = tokens.offset();
  }
  return sql.substr(start);
}

bool IsBlankSql(std::string_view sql) { return SkipBlank(sql).empty(); }

namespace {

// The first word of `sql` as it is written, when it can be read without the tokenizer: the
// text starts with a plain ASCII word, followed by the end or by a character that cannot
// continue a word or make it a literal (x'00'). Else nullopt: the tokenizer decides.
std::optional<std::string_view> PlainFirstWord(std::string_view sql) {
  static constexpr auto kWordChar = [] {
    std::array<bool, 256> table{};
    for (int c = 0; c < 256; ++c) {
      table[c] =
          (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    }
    return table;
  }();
  size_t end = 0;
  while (end < sql.size() && kWordChar[static_cast<unsigned char>(sql[end])]) {
    ++end;
  }
  bool letter = end > 0 && !(sql[0] >= '0' && sql[0] <= '9') && sql[0] != '_';
  if (!letter) {
    return std::nullopt;
  }
  if (end == sql.size()) {
    return sql;
  }
  unsigned char next = static_cast<unsigned char>(sql[end]);
  if (next < 0x80 && next != '$' && next != '\'' && next != '"' && next != '`' && next != '[') {
    return sql.substr(0, end);
  }
  return std::nullopt;
}

}  // namespace

std::string FirstKeyword(std::string_view sql) {
  if (std::optional<std::string_view> word = PlainFirstWord(sql)) {
    return UpperAscii(*word);
  }
  return Words(sql).Next();
}

bool FirstKeywordIs(std::string_view sql, std::string_view upper) {
  if (std::optional<std::string_view> word = PlainFirstWord(sql)) {
    return EqualsAsciiNoCase(*word, upper);
  }
  return Words(sql).Next() == upper;
}

TransactionControl ClassifyTransactionControl(std::string_view sql) {
  Words words(sql);
  std::string first = words.Next();
  if (first == "BEGIN") {
    return TransactionControl::kBegin;
  }
  if (first == "COMMIT" || first == "END") {
    return TransactionControl::kCommit;
  }
  if (first == "SAVEPOINT") {
    return TransactionControl::kSavepoint;
  }
  if (first == "RELEASE") {
    return TransactionControl::kRelease;
  }
  if (first != "ROLLBACK") {
    return TransactionControl::kNone;
  }
  std::string next = words.Next();
  if (next == "TRANSACTION") {
    next = words.Next();
    if (!next.empty() && next != "TO") {
      next = words.Next();  // ROLLBACK TRANSACTION name TO ...: the name is ignored
    }
  }
  return next == "TO" ? TransactionControl::kRollbackToSavepoint : TransactionControl::kRollback;
}

bool IsTransactionControl(std::string_view sql) {
  return ClassifyTransactionControl(sql) != TransactionControl::kNone;
}

bool StartsOrEndsTransaction(std::string_view sql) {
  TransactionControl kind = ClassifyTransactionControl(sql);
  return kind == TransactionControl::kBegin || kind == TransactionControl::kCommit ||
         kind == TransactionControl::kRollback;
}

bool IsGroupableWrite(std::string_view sql) {
  std::string word = FirstKeyword(sql);
  return word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "REPLACE";
}

bool IsPlainRead(std::string_view sql) {
  if (!FirstKeywordIs(sql, "SELECT")) {
    return false;
  }
  SqlTokenizer tokens(sql);
  while (std::optional<Token> token = tokens.NextSignificant()) {
    if (token->kind == TokenKind::kWord && (EqualsAsciiNoCase(token->text, "CHANGES") ||
                                            EqualsAsciiNoCase(token->text, "TOTAL_CHANGES") ||
                                            EqualsAsciiNoCase(token->text, "LAST_INSERT_ROWID"))) {
      return false;
    }
  }
  return true;
}

bool IsBeginReadonly(std::string_view sql) {
  if (!FirstKeywordIs(sql, "BEGIN")) {
    return false;
  }
  Words words(sql);
  if (words.Next() != "BEGIN") {
    return false;
  }
  std::string next = words.Next();
  if (next == "TRANSACTION") {
    next = words.Next();
  }
  return next == "READONLY" && words.AtEnd();
}

namespace {

std::string Quote(std::string_view text, char quote) {
  std::string out(1, quote);
  for (char c : text) {
    out += c;
    if (c == quote) {
      out += quote;
    }
  }
  return out + quote;
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) { return Quote(name, '"'); }
std::string QuoteString(std::string_view text) { return Quote(text, '\''); }

}  // namespace quarry::sql
