#include "schema/lexer.h"

#include <cctype>

namespace quarry::schema {

namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Status SyntaxError(const std::string& path, ast::Pos pos, const std::string& message) {
  return Status(ErrorCode::kInvalidArgument, path + ":" + std::to_string(pos.line) + ":" +
                                                 std::to_string(pos.column) + ": " + message);
}

std::string DescribeTokenKind(TokenKind kind) {
  switch (kind) {
    case TokenKind::kIdent:
      return "a name";
    case TokenKind::kString:
      return "a string";
    case TokenKind::kNumber:
      return "a number";
    case TokenKind::kLBrace:
      return "'{'";
    case TokenKind::kRBrace:
      return "'}'";
    case TokenKind::kLParen:
      return "'('";
    case TokenKind::kRParen:
      return "')'";
    case TokenKind::kLBracket:
      return "'['";
    case TokenKind::kRBracket:
      return "']'";
    case TokenKind::kComma:
      return "','";
    case TokenKind::kColon:
      return "':'";
    case TokenKind::kQuestion:
      return "'?'";
    case TokenKind::kDot:
      return "'.'";
    case TokenKind::kAt:
      return "'@'";
    case TokenKind::kAtAt:
      return "'@@'";
    case TokenKind::kEq:
      return "'=='";
    case TokenKind::kNe:
      return "'!='";
    case TokenKind::kLt:
      return "'<'";
    case TokenKind::kLe:
      return "'<='";
    case TokenKind::kGt:
      return "'>'";
    case TokenKind::kGe:
      return "'>='";
    case TokenKind::kAnd:
      return "'&&'";
    case TokenKind::kOr:
      return "'||'";
    case TokenKind::kNot:
      return "'!'";
    case TokenKind::kMinus:
      return "'-'";
    case TokenKind::kEnd:
      return "end of file";
  }
  return "?";
}

std::string DescribeToken(const Token& token) {
  switch (token.kind) {
    case TokenKind::kIdent:
      return "'" + token.text + "'";
    case TokenKind::kNumber:
      return token.text;
    case TokenKind::kString:
      return "a string";
    default:
      return DescribeTokenKind(token.kind);
  }
}

Result<LexResult> Lex(std::string_view text, const std::string& path) {
  LexResult out;
  size_t i = 0;
  int line = 1;
  size_t line_start = 0;
  bool line_has_token = false;
  auto pos_at = [&](size_t at) { return ast::Pos{line, static_cast<int>(at - line_start) + 1}; };
  auto push = [&](TokenKind kind, size_t start, size_t len) {
    Token token;
    token.kind = kind;
    token.text = std::string(text.substr(start, len));
    token.pos = pos_at(start);
    out.tokens.push_back(std::move(token));
    line_has_token = true;
    i = start + len;
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == '\n') {
      ++i;
      ++line;
      line_start = i;
      line_has_token = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
      continue;
    }
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (c == '/' && next == '/') {
      size_t end = text.find('\n', i);
      if (end == std::string_view::npos) end = text.size();
      std::string body(text.substr(i, end - i));
      while (!body.empty() && (body.back() == '\r' || body.back() == ' ' || body.back() == '\t')) {
        body.pop_back();
      }
      out.comments.push_back(Comment{std::move(body), pos_at(i), !line_has_token});
      i = end;
      continue;
    }
    if (IsIdentStart(c)) {
      size_t j = i;
      while (j < text.size() && IsIdentChar(text[j])) ++j;
      push(TokenKind::kIdent, i, j - i);
      continue;
    }
    if (IsDigit(c)) {
      size_t j = i;
      while (j < text.size() && IsDigit(text[j])) ++j;
      if (j + 1 < text.size() && text[j] == '.' && IsDigit(text[j + 1])) {
        ++j;
        while (j < text.size() && IsDigit(text[j])) ++j;
      }
      if (j < text.size() && (text[j] == 'e' || text[j] == 'E')) {
        size_t k = j + 1;
        if (k < text.size() && (text[k] == '+' || text[k] == '-')) ++k;
        if (k < text.size() && IsDigit(text[k])) {
          while (k < text.size() && IsDigit(text[k])) ++k;
          j = k;
        }
      }
      if (j < text.size() && IsIdentChar(text[j])) {
        return SyntaxError(path, pos_at(i), "malformed number");
      }
      push(TokenKind::kNumber, i, j - i);
      continue;
    }
    if (c == '"' || c == '\'') {
      ast::Pos start = pos_at(i);
      std::string value;
      size_t j = i + 1;
      bool closed = false;
      while (j < text.size()) {
        char d = text[j];
        if (d == c) {
          closed = true;
          ++j;
          break;
        }
        if (d == '\n') break;
        if (d == '\\') {
          if (j + 1 >= text.size() || text[j + 1] == '\n') break;
          char e = text[j + 1];
          switch (e) {
            case 'n':
              value += '\n';
              break;
            case 't':
              value += '\t';
              break;
            case '\\':
            case '"':
            case '\'':
              value += e;
              break;
            default:
              return SyntaxError(path, pos_at(j),
                                 std::string("unknown escape sequence '\\") + e + "' in string");
          }
          j += 2;
          continue;
        }
        value += d;
        ++j;
      }
      if (!closed) {
        return SyntaxError(path, start, "unterminated string");
      }
      Token token;
      token.kind = TokenKind::kString;
      token.text = std::move(value);
      token.quote = c;
      token.pos = start;
      out.tokens.push_back(std::move(token));
      line_has_token = true;
      i = j;
      continue;
    }
    TokenKind kind;
    size_t len = 1;
    switch (c) {
      case '{':
        kind = TokenKind::kLBrace;
        break;
      case '}':
        kind = TokenKind::kRBrace;
        break;
      case '(':
        kind = TokenKind::kLParen;
        break;
      case ')':
        kind = TokenKind::kRParen;
        break;
      case '[':
        kind = TokenKind::kLBracket;
        break;
      case ']':
        kind = TokenKind::kRBracket;
        break;
      case ',':
        kind = TokenKind::kComma;
        break;
      case ':':
        kind = TokenKind::kColon;
        break;
      case '?':
        kind = TokenKind::kQuestion;
        break;
      case '.':
        kind = TokenKind::kDot;
        break;
      case '-':
        kind = TokenKind::kMinus;
        break;
      case '@':
        kind = next == '@' ? TokenKind::kAtAt : TokenKind::kAt;
        len = next == '@' ? 2 : 1;
        break;
      case '=':
        if (next != '=') {
          return SyntaxError(path, pos_at(i), "unexpected '=': comparisons use '=='");
        }
        kind = TokenKind::kEq;
        len = 2;
        break;
      case '!':
        kind = next == '=' ? TokenKind::kNe : TokenKind::kNot;
        len = next == '=' ? 2 : 1;
        break;
      case '<':
        kind = next == '=' ? TokenKind::kLe : TokenKind::kLt;
        len = next == '=' ? 2 : 1;
        break;
      case '>':
        kind = next == '=' ? TokenKind::kGe : TokenKind::kGt;
        len = next == '=' ? 2 : 1;
        break;
      case '&':
        if (next != '&') return SyntaxError(path, pos_at(i), "unexpected '&': 'and' is '&&'");
        kind = TokenKind::kAnd;
        len = 2;
        break;
      case '|':
        if (next != '|') return SyntaxError(path, pos_at(i), "unexpected '|': 'or' is '||'");
        kind = TokenKind::kOr;
        len = 2;
        break;
      case '/':
        return SyntaxError(path, pos_at(i), "unexpected '/': comments start with '//'");
      default: {
        unsigned char u = static_cast<unsigned char>(c);
        std::string shown;
        if (u >= 0x20 && u < 0x7f) {
          shown = std::string("'") + c + "'";
        } else {
          static const char kHex[] = "0123456789abcdef";
          shown = std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
        }
        return SyntaxError(path, pos_at(i), "unexpected character " + shown);
      }
    }
    push(kind, i, len);
  }
  Token end;
  end.kind = TokenKind::kEnd;
  end.pos = pos_at(i);
  out.tokens.push_back(std::move(end));
  return out;
}

}  // namespace quarry::schema
