#include "protocol/executor.h"

#include <chrono>
#include <string>
#include <vector>

#include "auth/sql_authorizer.h"
#include "storage/client_ddl.h"

namespace quarry::protocol {

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

Result<DescribeResult> DescribeSql(storage::Connection& conn, std::string_view sql) {
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
  DescribeResult out;
  int n = sqlite3_bind_parameter_count(stmt.get());
  for (int i = 1; i <= n; ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt.get(), i);
    out.params.push_back(name != nullptr ? std::optional<std::string>(name) : std::nullopt);
  }
  out.cols = ColumnsOf(stmt.get());
  out.is_explain = sqlite3_stmt_isexplain(stmt.get()) != 0;
  out.is_readonly = sqlite3_stmt_readonly(stmt.get()) != 0;
  return out;
}

}  // namespace quarry::protocol
