#include "schema/migration_sql.h"

#include <openssl/evp.h>

#include <optional>

#include "common/sql_statement.h"
#include "common/sql_tokenizer.h"

namespace quarry::schema {

namespace {

std::string_view Trim(std::string_view s) {
  size_t start = s.find_first_not_of(" \t\r\n\f");
  if (start == std::string_view::npos) {
    return {};
  }
  size_t end = s.find_last_not_of(" \t\r\n\f");
  return s.substr(start, end + 1 - start);
}

void AddStatement(std::string_view piece, std::vector<std::string>& out) {
  std::string_view statement = Trim(sql::SkipBlank(piece));
  if (!statement.empty()) {
    out.emplace_back(statement);
  }
}

// True when `sql` ends between statements: after its last complete statement there is nothing
// but space, ';' and comments that are closed.
bool AtStatementBoundary(std::string_view sql) {
  sql::SqlTokenizer tokens(sql::SplitCompleteStatements(sql).rest);
  while (std::optional<sql::Token> token = tokens.Next()) {
    bool blank = token->kind == sql::TokenKind::kSpace || token->kind == sql::TokenKind::kComment ||
                 token->kind == sql::TokenKind::kSemicolon;
    if (!blank || !token->complete) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> SplitStatements(std::string_view sql) {
  std::vector<std::string> out;
  sql::SplitSql split = sql::SplitCompleteStatements(sql);
  for (std::string_view statement : split.statements) {
    AddStatement(statement, out);
  }
  AddStatement(split.rest, out);
  return out;
}

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
    if (!sql::IsBlankSql(down)) {
      result.down = std::string(down);
    }
  }
  return result;
}

std::string SchemaSnapshotComment(std::string_view schema) {
  std::string out(kSchemaSnapshotBegin);
  out += "\n";
  size_t pos = 0;
  while (pos < schema.size()) {
    size_t nl = schema.find('\n', pos);
    std::string_view line =
        schema.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    out += line.empty() ? "--|" : "--| ";
    out += line;
    out += "\n";
    if (nl == std::string_view::npos) {
      break;
    }
    pos = nl + 1;
  }
  out += kSchemaSnapshotEnd;
  out += "\n";
  return out;
}

Result<std::optional<std::string>> ExtractSchemaSnapshot(std::string_view up,
                                                         std::string_view source) {
  auto error = [&](size_t line_no, std::string_view what) {
    return Status(ErrorCode::kInvalidArgument,
                  std::string(source) + ":" + std::to_string(line_no) + ": " + std::string(what));
  };
  std::optional<std::string> snapshot;
  std::optional<size_t> open_line;  // line of the begin marker while inside a snapshot
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < up.size()) {
    ++line_no;
    size_t nl = up.find('\n', pos);
    size_t end = nl == std::string_view::npos ? up.size() : nl;
    std::string_view raw = up.substr(pos, end - pos);
    if (!raw.empty() && raw.back() == '\r') {
      raw.remove_suffix(1);
    }
    std::string_view line = Trim(raw);
    if (open_line) {
      if (line == kSchemaSnapshotEnd) {
        open_line.reset();
      } else if (raw.substr(0, 3) == "--|") {
        std::string_view text = raw.substr(3);
        if (!text.empty() && text.front() == ' ') {
          text.remove_prefix(1);
        }
        *snapshot += text;
        *snapshot += '\n';
      } else {
        return error(line_no, "a line of the schema snapshot (after \"" +
                                  std::string(kSchemaSnapshotBegin) +
                                  "\") must start with \"--|\"; the snapshot ends with \"" +
                                  std::string(kSchemaSnapshotEnd) + "\"");
      }
    } else if (line == kSchemaSnapshotBegin && AtStatementBoundary(up.substr(0, pos))) {
      if (snapshot) {
        return error(line_no, "a second schema snapshot; a migration carries one");
      }
      snapshot = std::string();
      open_line = line_no;
    }
    if (nl == std::string_view::npos) {
      break;
    }
    pos = nl + 1;
  }
  if (open_line) {
    return error(*open_line,
                 "the schema snapshot has no \"" + std::string(kSchemaSnapshotEnd) + "\" line");
  }
  return snapshot;
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
