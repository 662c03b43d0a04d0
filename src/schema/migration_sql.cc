#include "schema/migration_sql.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <cctype>

namespace quarry::schema {

namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && IsSpace(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// Index of the first character after leading whitespace and comments.
size_t SkipBlank(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    if (IsSpace(sql[i])) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      size_t nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.substr(i, 2) == "/*") {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  return i;
}

void AddStatement(std::string_view piece, std::vector<std::string>& out) {
  size_t start = SkipBlank(piece);
  if (start < piece.size()) {
    out.emplace_back(Trim(piece.substr(start)));
  }
}

}  // namespace

bool IsBlankSql(std::string_view sql) { return SkipBlank(sql) == sql.size(); }

std::string FirstKeyword(std::string_view sql) {
  size_t i = SkipBlank(sql);
  std::string word;
  while (i < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[i])) || sql[i] == '_')) {
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i]))));
    ++i;
  }
  return word;
}

bool IsTransactionControl(std::string_view statement) {
  std::string word = FirstKeyword(statement);
  if (word == "BEGIN" || word == "COMMIT" || word == "END") {
    return true;
  }
  if (word != "ROLLBACK") {
    return false;
  }
  // ROLLBACK [TRANSACTION] TO [SAVEPOINT] name undoes a savepoint and keeps the transaction.
  size_t start = SkipBlank(statement) + word.size();
  std::string_view rest = statement.substr(start);
  std::string next = FirstKeyword(rest);
  if (next == "TRANSACTION") {
    rest = rest.substr(SkipBlank(rest) + next.size());
    next = FirstKeyword(rest);
  }
  return next != "TO";
}

std::vector<std::string> SplitStatements(std::string_view sql) {
  std::vector<std::string> out;
  size_t start = 0;
  std::string candidate;
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != ';') {
      continue;
    }
    candidate.assign(sql.substr(start, i + 1 - start));
    if (sqlite3_complete(candidate.c_str()) != 0) {
      AddStatement(candidate, out);
      start = i + 1;
    }
  }
  AddStatement(sql.substr(start), out);
  return out;
}

namespace {

// True when `sql` ends between statements: nothing but whitespace and line comments, or a
// complete statement (sqlite3_complete knows strings, comments and trigger bodies).
bool AtStatementBoundary(std::string_view sql) {
  std::string text(sql);
  if (sqlite3_complete(text.c_str()) != 0) {
    return true;
  }
  size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    } else if (text.compare(i, 2, "--") == 0) {
      size_t nl = text.find('\n', i);
      i = nl == std::string::npos ? text.size() : nl + 1;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<UpDown> SplitDownSection(std::string_view text, std::string_view source) {
  UpDown result;
  std::optional<size_t> down_at;  // offset of the first character after the "-- down" line
  size_t down_line = 0;
  size_t line_no = 0;
  size_t pos = 0;
  size_t up_end = text.size();
  while (pos <= text.size()) {
    ++line_no;
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = Trim(text.substr(pos, end - pos));
    bool is_down = false;
    if (line.substr(0, 2) == "--") {
      std::string_view rest = Trim(line.substr(2));
      is_down = rest.size() == 4 && (rest[0] == 'd' || rest[0] == 'D') &&
                (rest[1] == 'o' || rest[1] == 'O') && (rest[2] == 'w' || rest[2] == 'W') &&
                (rest[3] == 'n' || rest[3] == 'N');
    }
    if (is_down && !down_at && !AtStatementBoundary(text.substr(0, pos))) {
      is_down = false;  // inside a block comment, a string or a trigger body: not a marker
    }
    if (is_down) {
      if (down_at) {
        return Status(ErrorCode::kInvalidArgument,
                      std::string(source) + ":" + std::to_string(line_no) +
                          ": a second \"-- down\" line (the first is on line " +
                          std::to_string(down_line) + "); a migration has one down section");
      }
      up_end = pos;
      down_at = nl == std::string_view::npos ? text.size() : nl + 1;
      down_line = line_no;
    }
    if (nl == std::string_view::npos) {
      break;
    }
    pos = nl + 1;
  }
  result.up = std::string(text.substr(0, up_end));
  if (down_at) {
    std::string_view down = text.substr(*down_at);
    if (!IsBlankSql(down)) {
      result.down = std::string(down);
    }
  }
  return result;
}

std::vector<std::string> SplitDrizzleStatements(std::string_view sql) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t marker = sql.find(kDrizzleBreakpoint, pos);
    std::string_view piece =
        sql.substr(pos, marker == std::string_view::npos ? std::string_view::npos : marker - pos);
    for (auto& statement : SplitStatements(piece)) {
      out.push_back(std::move(statement));
    }
    if (marker == std::string_view::npos) {
      break;
    }
    pos = marker + kDrizzleBreakpoint.size();
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace quarry::schema
