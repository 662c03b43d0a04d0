#include "common/sql_statement.h"

#include <sqlite3.h>

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

std::string FirstKeyword(std::string_view sql) {
  // The usual case without the tokenizer: the text starts with a plain ASCII word, followed by
  // the end or by a character that cannot continue a word or make it a literal (x'00').
  auto word_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  };
  size_t end = 0;
  while (end < sql.size() && word_char(sql[end])) {
    ++end;
  }
  bool letter = end > 0 && !(sql[0] >= '0' && sql[0] <= '9') && sql[0] != '_';
  if (letter) {
    if (end == sql.size()) {
      return UpperAscii(sql);
    }
    unsigned char next = static_cast<unsigned char>(sql[end]);
    if (next < 0x80 && next != '$' && next != '\'' && next != '"' && next != '`' && next != '[') {
      return UpperAscii(sql.substr(0, end));
    }
  }
  return Words(sql).Next();
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

namespace {

bool EqualsIgnoringCase(std::string_view word, std::string_view upper) {
  if (word.size() != upper.size()) {
    return false;
  }
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
    if (c != upper[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsPlainRead(std::string_view sql) {
  if (FirstKeyword(sql) != "SELECT") {
    return false;
  }
  SqlTokenizer tokens(sql);
  while (std::optional<Token> token = tokens.NextSignificant()) {
    if (token->kind == TokenKind::kWord && (EqualsIgnoringCase(token->text, "CHANGES") ||
                                            EqualsIgnoringCase(token->text, "TOTAL_CHANGES") ||
                                            EqualsIgnoringCase(token->text, "LAST_INSERT_ROWID"))) {
      return false;
    }
  }
  return true;
}

bool IsBeginReadonly(std::string_view sql) {
  if (FirstKeyword(sql) != "BEGIN") {
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
