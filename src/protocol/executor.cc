#include "protocol/executor.h"

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "auth/sql_authorizer.h"
#include "storage/client_ddl.h"

namespace quarry::protocol {
namespace json = boost::json;

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

Result<StmtOutcome> ExecuteStmt(storage::Connection& conn, std::string_view sql,
                                const StmtSpec& spec, RowSink& sink, size_t max_result_bytes) {
  sink.set_wants_rows(spec.want_rows);
  auto outcome =
      storage::ExecuteStmt(conn, sql, spec.args, spec.named_args, &sink, max_result_bytes);
  if (!outcome.ok()) {
    return auth::ExplainDenial(outcome.status());  // names a read-only token's refused write
  }
  return outcome;
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
  if (tail.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    auto rest = conn.Prepare(tail);
    if (!rest.ok() || *rest) {
      return Status(ErrorCode::kSqlManyStatements,
                    "SQL string holds more than one statement; describe one at a time");
    }
  }
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
  result.emplace("last_insert_rowid", outcome.last_insert_rowid
                                          ? json::value(std::to_string(*outcome.last_insert_rowid))
                                          : json::value(nullptr));
  result.emplace("rows_read", outcome.rows_read);
  result.emplace("rows_written", outcome.rows_written);
  result.emplace("query_duration_ms", outcome.duration_ms);
  return result;
}

}  // namespace quarry::protocol
