#include "common/sql_tokenizer.h"

namespace quarry::sql {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// SQLite's identifier characters: letters, digits, '_', '$' and every byte of a UTF-8
// multi-byte character.
bool IsIdStart(char c) { return IsAlpha(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80; }
bool IsIdChar(char c) { return IsIdStart(c) || IsDigit(c) || c == '$'; }

}  // namespace

std::string UpperAscii(std::string_view word) {
  std::string out(word);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

bool EqualsAsciiNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
  for (size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) {
      return false;
    }
  }
  return true;
}

std::optional<Token> SqlTokenizer::Next() {
  if (pos_ >= sql_.size()) {
    return std::nullopt;
  }
  const size_t start = pos_;
  const size_t n = sql_.size();
  auto at = [&](size_t i) { return i < n ? sql_[i] : '\0'; };
  auto make = [&](TokenKind kind, size_t end, bool complete = true) {
    pos_ = end;
    return Token{kind, sql_.substr(start, end - start), complete};
  };
  char c = sql_[start];
  size_t i = start + 1;

  if (IsSpace(c)) {
    while (i < n && IsSpace(sql_[i])) ++i;
    return make(TokenKind::kSpace, i);
  }
  if (c == '-' && at(i) == '-') {
    while (i < n && sql_[i] != '\n') ++i;
    return make(TokenKind::kComment, i);
  }
  if (c == '/' && at(i) == '*') {
    size_t end = sql_.find("*/", start + 2);
    if (end == std::string_view::npos) {
      return make(TokenKind::kComment, n, false);
    }
    return make(TokenKind::kComment, end + 2);
  }
  if (c == '\'' || c == '"' || c == '`') {
    // A doubled delimiter inside stands for one.
    while (i < n) {
      if (sql_[i] == c) {
        if (at(i + 1) == c) {
          i += 2;
          continue;
        }
        return make(c == '\'' ? TokenKind::kString : TokenKind::kQuotedIdentifier, i + 1);
      }
      ++i;
    }
    return make(c == '\'' ? TokenKind::kString : TokenKind::kQuotedIdentifier, n, false);
  }
  if (c == '[') {
    size_t end = sql_.find(']', i);
    if (end == std::string_view::npos) {
      return make(TokenKind::kQuotedIdentifier, n, false);
    }
    return make(TokenKind::kQuotedIdentifier, end + 1);
  }
  if ((c == 'x' || c == 'X') && at(i) == '\'') {
    size_t end = sql_.find('\'', i + 1);
    if (end == std::string_view::npos) {
      return make(TokenKind::kBlob, n, false);
    }
    return make(TokenKind::kBlob, end + 1);
  }
  if (IsDigit(c) || (c == '.' && IsDigit(at(i)))) {
    if (c == '0' && (at(i) == 'x' || at(i) == 'X') && IsHexDigit(at(i + 1))) {
      i += 1;
      while (i < n && IsHexDigit(sql_[i])) ++i;
    } else {
      while (i < n && IsDigit(sql_[i])) ++i;
      if (c != '.' && at(i) == '.') {
        ++i;
        while (i < n && IsDigit(sql_[i])) ++i;
      }
      if ((at(i) == 'e' || at(i) == 'E') &&
          (IsDigit(at(i + 1)) || ((at(i + 1) == '+' || at(i + 1) == '-') && IsDigit(at(i + 2))))) {
        i += 2;
        while (i < n && IsDigit(sql_[i])) ++i;
      }
    }
    // SQLite rejects a number run into identifier characters ("12abc"); keep them one token.
    while (i < n && IsIdChar(sql_[i])) ++i;
    return make(TokenKind::kNumber, i);
  }
  if (IsIdStart(c)) {
    while (i < n && IsIdChar(sql_[i])) ++i;
    return make(TokenKind::kWord, i);
  }
  if (c == '?') {
    while (i < n && IsDigit(sql_[i])) ++i;
    return make(TokenKind::kParameter, i);
  }
  if ((c == ':' || c == '@' || c == '$' || c == '#') && IsIdChar(at(i))) {
    while (i < n && IsIdChar(sql_[i])) ++i;
    return make(TokenKind::kParameter, i);
  }
  if (c == ';') {
    return make(TokenKind::kSemicolon, i);
  }
  if (c == '-' && at(i) == '>') {
    return make(TokenKind::kOperator, at(i + 1) == '>' ? i + 2 : i + 1);
  }
  static constexpr std::string_view kTwoCharOperators[] = {"||", "<=", ">=", "<>",
                                                           "!=", "==", "<<", ">>"};
  for (std::string_view op : kTwoCharOperators) {
    if (sql_.substr(start, 2) == op) {
      return make(TokenKind::kOperator, start + 2);
    }
  }
  return make(TokenKind::kOperator, i);
}

std::optional<Token> SqlTokenizer::NextSignificant() {
  std::optional<Token> token;
  while ((token = Next()) &&
         (token->kind == TokenKind::kSpace || token->kind == TokenKind::kComment)) {
  }
  return token;
}

}  // namespace quarry::sql
