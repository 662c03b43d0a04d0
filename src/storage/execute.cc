#include "storage/execute.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/sql_statement.h"
#include "common/sql_tokenizer.h"
#include "storage/client_ddl.h"

namespace quarry::storage {
namespace {

bool HasPrefix(std::string_view name) {
  return !name.empty() && (name[0] == ':' || name[0] == '@' || name[0] == '$' || name[0] == '?');
}

Status BindError(int rc, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "cannot bind " + what + ": " + sqlite3_errstr(rc));
}

Status BindArgs(sqlite3_stmt* stmt, const std::vector<Value>& args, const NamedArguments& named) {
  if (!args.empty() && !named.empty()) {
    return Status(ErrorCode::kArgsBothPositionalAndNamed,
                  "a statement takes either positional \"args\" or \"named_args\", not both");
  }
  int params = sqlite3_bind_parameter_count(stmt);
  if (static_cast<int64_t>(args.size()) > params) {
    return Status(ErrorCode::kInvalidArgument,
                  "statement takes " + std::to_string(params) + " parameter(s) but " +
                      std::to_string(args.size()) + " argument(s) were given");
  }
  std::vector<bool> bound(static_cast<size_t>(params) + 1, false);
  for (size_t i = 0; i < args.size(); ++i) {
    int rc = BindValue(stmt, static_cast<int>(i) + 1, args[i]);
    if (rc != SQLITE_OK) {
      return BindError(rc, "args[" + std::to_string(i) + "]");
    }
    bound[i + 1] = true;
  }
  for (const auto& [name, value] : named) {
    int index = sqlite3_bind_parameter_index(stmt, name.c_str());
    if (index == 0 && !HasPrefix(name)) {
      for (char prefix : {':', '@', '$'}) {
        index = sqlite3_bind_parameter_index(stmt, (prefix + name).c_str());
        if (index != 0) {
          break;
        }
      }
    }
    if (index == 0) {
      return Status(ErrorCode::kInvalidArgument,
                    "named argument '" + name + "' does not match any parameter of the statement");
    }
    int rc = BindValue(stmt, index, value);
    if (rc != SQLITE_OK) {
      return BindError(rc, "named argument '" + name + "'");
    }
    bound[static_cast<size_t>(index)] = true;
  }
  for (int i = 1; i <= params; ++i) {
    if (!bound[static_cast<size_t>(i)]) {
      const char* name = sqlite3_bind_parameter_name(stmt, i);
      return Status(ErrorCode::kInvalidArgument,
                    "no value given for parameter " +
                        (name != nullptr ? std::string(name) : "?" + std::to_string(i)) + " (of " +
                        std::to_string(params) + ")");
    }
  }
  return Status::Ok();
}

// Refuses SQL with more than one statement: a second statement would silently not run.
Status CheckSingleStatement(Connection& conn, std::string_view tail) {
  if (tail.find_first_not_of(" \t\r\n;") == std::string_view::npos) {
    return Status::Ok();
  }
  auto rest = conn.Prepare(tail);
  if (rest.ok() && !*rest) {
    return Status::Ok();  // only comments and whitespace follow
  }
  return Status(ErrorCode::kSqlManyStatements,
                "SQL string holds more than one statement; use a batch or sequence");
}

}  // namespace

std::string FormatBytes(size_t bytes) {
  if (bytes >= (1 << 20) && bytes % (1 << 20) == 0) {
    return std::to_string(bytes >> 20) + " MiB";
  }
  if (bytes >= (1 << 10) && bytes % (1 << 10) == 0) {
    return std::to_string(bytes >> 10) + " KiB";
  }
  return std::to_string(bytes) + " bytes";
}

namespace {

SqlVerb VerbOf(std::string_view upper) {
  if (upper == "INSERT" || upper == "REPLACE") {
    return SqlVerb::kInsert;
  }
  if (upper == "UPDATE") {
    return SqlVerb::kUpdate;
  }
  return upper == "DELETE" ? SqlVerb::kDelete : SqlVerb::kOther;
}

}  // namespace

SqlVerb LeadingVerb(std::string_view sql) {
  // A statement that starts with its verb (most do) is told by its first word.
  if (std::string first = sql::FirstKeyword(sql); !first.empty() && first != "WITH") {
    return VerbOf(first);
  }
  // Else walks the top level of the statement (outside parentheses) to the first verb keyword;
  // a WITH clause's CTE bodies sit inside parentheses.
  sql::SqlTokenizer tokens(sql);
  int depth = 0;
  bool first_word = true;
  while (std::optional<sql::Token> token = tokens.NextSignificant()) {
    if (token->kind == sql::TokenKind::kSemicolon && !first_word) {
      return SqlVerb::kOther;
    }
    if (token->kind == sql::TokenKind::kOperator) {
      depth += token->text == "(" ? 1 : token->text == ")" ? -1 : 0;
      continue;
    }
    if (token->kind != sql::TokenKind::kWord || depth > 0) {
      continue;
    }
    std::string word = sql::UpperAscii(token->text);
    if (SqlVerb verb = VerbOf(word); verb != SqlVerb::kOther) {
      return verb;
    }
    if (word == "SELECT" || word == "VALUES" || (first_word && word != "WITH")) {
      return SqlVerb::kOther;
    }
    first_word = false;
  }
  return SqlVerb::kOther;
}

size_t EstimateRowBytes(sqlite3_stmt* stmt, int columns) {
  size_t bytes = 2;
  for (int i = 0; i < columns; ++i) {
    int type = sqlite3_column_type(stmt, i);
    size_t size = type == SQLITE_TEXT || type == SQLITE_BLOB
                      ? static_cast<size_t>(sqlite3_column_bytes(stmt, i))
                      : 20;
    bytes += (type == SQLITE_BLOB ? size * 4 / 3 : size) + 32;
  }
  return bytes;
}

Result<StmtOutcome> ExecuteStmt(Connection& conn, std::string_view sql,
                                const std::vector<Value>& args, const NamedArguments& named,
                                RowSink* sink, size_t max_result_bytes) {
  auto start = std::chrono::steady_clock::now();
  QUARRY_ASSIGN_OR_RETURN(auto client_ddl, RunClientDdl(conn, sql, /*only_statement=*/true));
  conn.FlushCommits();  // client DDL may step statements of its own
  if (client_ddl) {
    if (sink != nullptr) {
      sink->Begin(nullptr);  // no columns, no rows
    }
    return StmtOutcome{};
  }
  std::string_view tail;
  QUARRY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql, &tail));
  if (!stmt) {
    return Status(ErrorCode::kSqlNoStatement, "SQL string does not contain any statement");
  }
  QUARRY_RETURN_IF_ERROR(CheckSingleStatement(conn, tail));
  QUARRY_RETURN_IF_ERROR(BindArgs(stmt.get(), args, named));
  sqlite3* db = conn.handle();
  if (sink != nullptr) {
    sink->Begin(stmt.get());
  }
  StmtOutcome outcome;
  int columns = sqlite3_column_count(stmt.get());
  size_t result_bytes = 0;
  int64_t total_changes_before = sqlite3_total_changes64(db);
  int rc;
  while ((rc = conn.Step(stmt.get())) == SQLITE_ROW) {
    ++outcome.rows_read;
    if (sink != nullptr && sink->wants_rows()) {
      result_bytes += EstimateRowBytes(stmt.get(), columns);
      if (result_bytes > max_result_bytes) {
        // Resetting a write that returns rows (INSERT ... RETURNING) in autocommit commits it:
        // hand that commit over now rather than at the connection's next use.
        stmt = Statement();
        conn.FlushCommits();
        return Status(ErrorCode::kResponseTooLarge,
                      "the result is larger than the limit of " + FormatBytes(max_result_bytes) +
                          "; select fewer rows or smaller values (LIMIT/OFFSET, or ranges)");
      }
      sink->Row(stmt.get());
    }
  }
  if (rc != SQLITE_DONE) {
    return conn.LastError();
  }
  // sqlite3_changes() and sqlite3_last_insert_rowid() keep their values across statements
  // that do not set them (a SELECT, a DROP TABLE): report them only for the statements they
  // describe.
  SqlVerb verb = LeadingVerb(sql);
  bool changed_rows = sqlite3_total_changes64(db) != total_changes_before;
  if (verb != SqlVerb::kOther && changed_rows) {
    outcome.affected_row_count = sqlite3_changes64(db);
  }
  outcome.rows_written = sqlite3_total_changes64(db) - total_changes_before;
  if (verb == SqlVerb::kInsert && changed_rows) {
    outcome.last_insert_rowid = sqlite3_last_insert_rowid(db);
  }
  outcome.result_bytes = result_bytes;
  outcome.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (int slow_ms = conn.options().slow_query_ms; slow_ms > 0 && outcome.duration_ms >= slow_ms) {
    constexpr size_t kMaxLoggedSql = 2000;
    spdlog::warn("slow query ({:.1f} ms, {} rows read, {} written): {}{}", outcome.duration_ms,
                 outcome.rows_read, outcome.rows_written, sql.substr(0, kMaxLoggedSql),
                 sql.size() > kMaxLoggedSql ? " ..." : "");
  }
  return outcome;
}

Status ExecuteScript(Connection& conn, std::string_view sql) {
  std::string_view rest = sql;
  while (true) {
    QUARRY_ASSIGN_OR_RETURN(auto client_ddl, RunClientDdl(conn, rest, /*only_statement=*/false));
    conn.FlushCommits();  // client DDL may step statements of its own
    if (client_ddl) {
      rest = rest.substr(*client_ddl);
      continue;
    }
    std::string_view tail;
    QUARRY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(rest, &tail));
    if (!stmt) {
      return Status::Ok();
    }
    int rc;
    while ((rc = conn.Step(stmt.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      return conn.LastError();
    }
    rest = tail;
  }
}

}  // namespace quarry::storage
