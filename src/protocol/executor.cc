#include "protocol/executor.h"

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "auth/sql_authorizer.h"

namespace quarry::protocol {
namespace json = boost::json;

namespace {

bool HasPrefix(std::string_view name) {
  return !name.empty() && (name[0] == ':' || name[0] == '@' || name[0] == '$' || name[0] == '?');
}

Status BindError(storage::Connection& conn, int rc, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "cannot bind " + what + ": " + sqlite3_errstr(rc));
}

Status BindArgs(storage::Connection& conn, sqlite3_stmt* stmt, const StmtSpec& spec) {
  if (!spec.args.empty() && !spec.named_args.empty()) {
    return Status(ErrorCode::kArgsBothPositionalAndNamed,
                  "a statement takes either positional \"args\" or \"named_args\", not both");
  }
  int params = sqlite3_bind_parameter_count(stmt);
  if (static_cast<int64_t>(spec.args.size()) > params) {
    return Status(ErrorCode::kInvalidArgument,
                  "statement takes " + std::to_string(params) + " parameter(s) but " +
                      std::to_string(spec.args.size()) + " argument(s) were given");
  }
  std::vector<bool> bound(static_cast<size_t>(params) + 1, false);
  for (size_t i = 0; i < spec.args.size(); ++i) {
    int rc = BindValue(stmt, static_cast<int>(i) + 1, spec.args[i]);
    if (rc != SQLITE_OK) {
      return BindError(conn, rc, "args[" + std::to_string(i) + "]");
    }
    bound[i + 1] = true;
  }
  for (const auto& [name, value] : spec.named_args) {
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
      return BindError(conn, rc, "named argument '" + name + "'");
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
Status CheckSingleStatement(storage::Connection& conn, std::string_view tail) {
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

json::array ColumnsJson(sqlite3_stmt* stmt) {
  json::array cols;
  int n = sqlite3_column_count(stmt);
  cols.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    json::object col;
    const char* name = sqlite3_column_name(stmt, i);
    const char* decltype_name = sqlite3_column_decltype(stmt, i);
    col.emplace("name", name != nullptr ? json::value(name) : json::value(nullptr));
    col.emplace("decltype",
                decltype_name != nullptr ? json::value(decltype_name) : json::value(nullptr));
    cols.push_back(std::move(col));
  }
  return cols;
}

// About how many bytes a row adds to a JSON response: the values (base64 for blobs) plus the
// per-value framing. An estimate is enough for a memory bound.
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

Result<StmtOutcome> ExecuteStmt(storage::Connection& conn, std::string_view sql,
                                const StmtSpec& spec, RowSink& sink, size_t max_result_bytes) {
  auto start = std::chrono::steady_clock::now();
  std::string_view tail;
  auto prepared = conn.Prepare(sql, &tail);
  if (!prepared.ok()) {
    return auth::ExplainDenial(prepared.status());
  }
  storage::Statement stmt = std::move(*prepared);
  if (!stmt) {
    return Status(ErrorCode::kSqlNoStatement, "SQL string does not contain any statement");
  }
  QUARRY_RETURN_IF_ERROR(CheckSingleStatement(conn, tail));
  QUARRY_RETURN_IF_ERROR(BindArgs(conn, stmt.get(), spec));
  sqlite3* db = conn.handle();
  sink.Begin(stmt.get());
  StmtOutcome outcome;
  int columns = sqlite3_column_count(stmt.get());
  size_t result_bytes = 0;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    ++outcome.rows_read;
    if (spec.want_rows) {
      result_bytes += EstimateRowBytes(stmt.get(), columns);
      if (result_bytes > max_result_bytes) {
        return Status(ErrorCode::kResponseTooLarge,
                      "the statement's result is larger than the limit of " +
                          std::to_string(max_result_bytes >> 20) +
                          " MiB; select fewer rows (LIMIT/OFFSET or a cursor over ranges)");
      }
      sink.Row(stmt.get());
    }
  }
  if (rc != SQLITE_DONE) {
    return conn.LastError();
  }
  if (!sqlite3_stmt_readonly(stmt.get())) {
    outcome.affected_row_count = sqlite3_changes64(db);
    outcome.rows_written = outcome.affected_row_count;
  }
  outcome.last_insert_rowid = sqlite3_last_insert_rowid(db);
  outcome.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

Status ExecuteSequence(storage::Connection& conn, std::string_view sql) {
  std::string_view rest = sql;
  while (true) {
    std::string_view tail;
    auto prepared = conn.Prepare(rest, &tail);
    if (!prepared.ok()) {
      return auth::ExplainDenial(prepared.status());
    }
    storage::Statement stmt = std::move(*prepared);
    if (!stmt) {
      return Status::Ok();
    }
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      return conn.LastError();
    }
    rest = tail;
  }
}

Result<json::object> DescribeSql(storage::Connection& conn, std::string_view sql) {
  std::string_view tail;
  auto prepared = conn.Prepare(sql, &tail);
  if (!prepared.ok()) {
    return auth::ExplainDenial(prepared.status());
  }
  storage::Statement stmt = std::move(*prepared);
  if (!stmt) {
    return Status(ErrorCode::kSqlNoStatement, "SQL string does not contain any statement");
  }
  QUARRY_RETURN_IF_ERROR(CheckSingleStatement(conn, tail));
  json::array params;
  int n = sqlite3_bind_parameter_count(stmt.get());
  for (int i = 1; i <= n; ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt.get(), i);
    params.push_back(json::object{{"name", name != nullptr ? json::value(name) : nullptr}});
  }
  json::object out;
  out.emplace("params", std::move(params));
  out.emplace("cols", ColumnsJson(stmt.get()));
  out.emplace("is_explain", sqlite3_stmt_isexplain(stmt.get()) != 0);
  out.emplace("is_readonly", sqlite3_stmt_readonly(stmt.get()) != 0);
  return out;
}

void JsonResultSink::Begin(sqlite3_stmt* stmt) {
  cols_ = ColumnsJson(stmt);
  columns_ = sqlite3_column_count(stmt);
}

void JsonResultSink::Row(sqlite3_stmt* stmt) {
  json::array row;
  row.reserve(static_cast<size_t>(columns_));
  for (int i = 0; i < columns_; ++i) {
    row.push_back(ColumnToJson(stmt, i));
  }
  rows_.push_back(std::move(row));
}

json::object JsonResultSink::Finish(const StmtOutcome& outcome) {
  json::object result;
  result.emplace("cols", std::move(cols_));
  result.emplace("rows", std::move(rows_));
  result.emplace("affected_row_count", outcome.affected_row_count);
  result.emplace("last_insert_rowid", std::to_string(outcome.last_insert_rowid));
  result.emplace("rows_read", outcome.rows_read);
  result.emplace("rows_written", outcome.rows_written);
  result.emplace("query_duration_ms", outcome.duration_ms);
  return result;
}

}  // namespace quarry::protocol
