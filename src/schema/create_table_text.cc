#include "schema/create_table_text.h"

#include <cctype>
#include <string_view>

#include "common/sql_tokenizer.h"

namespace quarry::schema::internal {
namespace {

// When a string, quoted identifier or comment starts at sql[pos] (SQLite's tokens, so a ','
// or a keyword inside one is not read as SQL), the index after it; otherwise `pos`.
size_t SkipOpaque(const std::string& sql, size_t pos) {
  char c = sql[pos];
  if (c != '\'' && c != '"' && c != '`' && c != '[' && c != '-' && c != '/') return pos;
  std::optional<sql::Token> token = sql::SqlTokenizer(std::string_view(sql).substr(pos)).Next();
  if (token->kind == sql::TokenKind::kString || token->kind == sql::TokenKind::kQuotedIdentifier ||
      token->kind == sql::TokenKind::kComment) {
    return pos + token->text.size();
  }
  return pos;
}

// The index of the ')' matching the '(' at `open`.
size_t MatchParen(const std::string& sql, size_t open) {
  int depth = 0;
  for (size_t i = open; i < sql.size();) {
    if (size_t end = SkipOpaque(sql, i); end != i) {
      i = end;
      continue;
    }
    char c = sql[i];
    if (c == '(') ++depth;
    if (c == ')' && --depth == 0) return i;
    ++i;
  }
  return std::string::npos;
}

}  // namespace

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Reads an SQL identifier (quoted with "", `` or [], or bare) at `pos`; advances past it.
std::string ReadIdentifier(const std::string& sql, size_t& pos) {
  while (pos < sql.size() && std::isspace(static_cast<unsigned char>(sql[pos]))) ++pos;
  if (pos >= sql.size()) return "";
  char open = sql[pos];
  if (open == '"' || open == '`' || open == '[') {
    char close = open == '[' ? ']' : open;
    std::string out;
    ++pos;
    while (pos < sql.size()) {
      if (sql[pos] == close) {
        if (close != ']' && pos + 1 < sql.size() && sql[pos + 1] == close) {
          out += close;
          pos += 2;
          continue;
        }
        ++pos;
        break;
      }
      out += sql[pos++];
    }
    return out;
  }
  size_t start = pos;
  while (pos < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[pos])) ||
                              sql[pos] == '_' || sql[pos] == '$')) {
    ++pos;
  }
  return sql.substr(start, pos - start);
}

// The comma-separated items of the body of CREATE TABLE (column definitions and table
// constraints), split at top-level commas.
std::vector<std::string> TableItems(const std::string& sql) {
  std::vector<std::string> items;
  size_t open = sql.find('(');
  if (open == std::string::npos) return items;
  size_t close = MatchParen(sql, open);
  if (close == std::string::npos) return items;
  int depth = 0;
  std::string current;
  for (size_t i = open + 1; i < close;) {
    if (size_t end = SkipOpaque(sql, i); end != i) {
      current += sql.substr(i, end - i);
      i = end;
      continue;
    }
    char c = sql[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      items.push_back(current);
      current.clear();
    } else {
      current += c;
    }
    ++i;
  }
  items.push_back(current);
  return items;
}

// Finds `keyword` (upper case) as a whole word at depth 0 outside quotes; npos when absent.
size_t FindKeyword(const std::string& text, const std::string& keyword, size_t from) {
  int depth = 0;
  for (size_t i = from; i < text.size();) {
    if (size_t end = SkipOpaque(text, i); end != i) {
      i = end;
      continue;
    }
    char c = text[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && i + keyword.size() <= text.size() &&
        (i == 0 ||
         !(std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_')) &&
        Upper(text.substr(i, keyword.size())) == keyword &&
        (i + keyword.size() == text.size() ||
         !(std::isalnum(static_cast<unsigned char>(text[i + keyword.size()])) ||
           text[i + keyword.size()] == '_'))) {
      return i;
    }
    ++i;
  }
  return std::string::npos;
}

std::map<std::string, ColumnText> ParseColumns(const std::string& sql) {
  std::map<std::string, ColumnText> out;
  for (const std::string& item : TableItems(sql)) {
    size_t pos = 0;
    std::string first_word = item;
    while (!first_word.empty() && std::isspace(static_cast<unsigned char>(first_word[0]))) {
      first_word.erase(0, 1);
    }
    std::string upper = Upper(first_word);
    if (upper.rfind("CONSTRAINT", 0) == 0 || upper.rfind("PRIMARY", 0) == 0 ||
        upper.rfind("UNIQUE", 0) == 0 || upper.rfind("CHECK", 0) == 0 ||
        upper.rfind("FOREIGN", 0) == 0) {
      continue;
    }
    std::string name = ReadIdentifier(item, pos);
    ColumnText& column = out[name];
    for (size_t at = FindKeyword(item, "CHECK", pos); at != std::string::npos;
         at = FindKeyword(item, "CHECK", at + 5)) {
      size_t open = item.find('(', at);
      size_t close = open == std::string::npos ? open : MatchParen(item, open);
      if (close == std::string::npos) break;
      column.checks.push_back(item.substr(open + 1, close - open - 1));
    }
    size_t as = FindKeyword(item, "AS", pos);
    if (FindKeyword(item, "GENERATED", pos) != std::string::npos || as != std::string::npos) {
      size_t open = as == std::string::npos ? as : item.find('(', as);
      size_t close = open == std::string::npos ? open : MatchParen(item, open);
      if (close != std::string::npos) column.generated = item.substr(open + 1, close - open - 1);
    }
    column.autoincrement = FindKeyword(item, "AUTOINCREMENT", pos) != std::string::npos;
    column.unique = FindKeyword(item, "UNIQUE", pos) != std::string::npos;
  }
  return out;
}

// Splits "'a', 'b'" into its string literals; false when it is anything else.
bool ParseStringList(const std::string& text, std::vector<std::string>& values) {
  size_t i = 0;
  while (true) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size() || text[i] != '\'') return false;
    std::string value;
    for (++i; i < text.size(); ++i) {
      if (text[i] == '\'') {
        if (i + 1 < text.size() && text[i + 1] == '\'') {
          value += '\'';
          ++i;
          continue;
        }
        break;
      }
      value += text[i];
    }
    if (i >= text.size()) return false;
    ++i;
    values.push_back(value);
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) return true;
    if (text[i] != ',') return false;
    ++i;
  }
}

// Parses `CREATE VIRTUAL TABLE x USING fts5(a, b, content='t', content_rowid='id')`.
std::optional<FtsTable> ParseFts(const std::string& name, const std::string& sql) {
  size_t using_at = FindKeyword(sql, "USING");
  if (using_at == std::string::npos) return std::nullopt;
  size_t open = sql.find('(', using_at);
  if (open == std::string::npos ||
      Upper(sql.substr(using_at, open - using_at)).find("FTS5") == std::string::npos) {
    return std::nullopt;
  }
  FtsTable fts;
  fts.name = name;
  for (const std::string& item : TableItems(sql.substr(open))) {
    size_t eq = item.find('=');
    size_t pos = 0;
    if (eq == std::string::npos) {
      fts.columns.push_back(ReadIdentifier(item, pos));
      continue;
    }
    std::string key = Upper(ReadIdentifier(item, pos));
    if (key == "CONTENT") {
      size_t vpos = eq + 1;
      while (vpos < item.size() && std::isspace(static_cast<unsigned char>(item[vpos]))) ++vpos;
      std::vector<std::string> values;
      if (vpos < item.size() && item[vpos] == '\'' && ParseStringList(item.substr(vpos), values) &&
          values.size() == 1) {
        fts.content = values[0];
      } else {
        fts.content = ReadIdentifier(item, vpos);
      }
    }
  }
  return fts;
}

}  // namespace quarry::schema::internal
