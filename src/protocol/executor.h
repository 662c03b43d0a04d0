#pragma once

// Statement execution on one connection: binding Hrana arguments, stepping, and handing rows
// to a sink. Shared by the pipeline (rows collected into a JSON result), the cursor (rows
// streamed as entries) and the legacy API (plain JSON rows).

#include <sqlite3.h>

#include <boost/json/object.hpp>
#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "protocol/request.h"
#include "storage/connection.h"

namespace quarry::protocol {

// Receives a statement's columns and rows. Called on the executing thread only.
class RowSink {
 public:
  virtual ~RowSink() = default;
  // Once, after prepare, before any row.
  virtual void Begin(sqlite3_stmt* stmt) = 0;
  virtual void Row(sqlite3_stmt* stmt) = 0;
};

struct StmtOutcome {
  int64_t affected_row_count = 0;
  int64_t last_insert_rowid = 0;
  int64_t rows_read = 0;
  int64_t rows_written = 0;
  double duration_ms = 0;
};

// The default bound on the rows one statement may return, in (estimated) bytes of JSON.
inline constexpr size_t kDefaultMaxResultBytes = 32 << 20;

// Runs exactly one SQL statement with `spec`'s arguments. Rows go to `sink` when
// spec.want_rows. Fails with kInvalidArgument for bad arguments or more than one statement,
// kSqlite for SQLite errors, kQueryTimeout when the connection's deadline passed, and
// kResponseTooLarge once the rows passed to the sink exceed `max_result_bytes`.
Result<StmtOutcome> ExecuteStmt(storage::Connection& conn, std::string_view sql,
                                const StmtSpec& spec, RowSink& sink,
                                size_t max_result_bytes = kDefaultMaxResultBytes);

// Runs every statement of `sql` in order, without arguments, discarding rows.
Status ExecuteSequence(storage::Connection& conn, std::string_view sql);

// {"params":[{"name":..}], "cols":[{"name","decltype"}], "is_explain", "is_readonly"}.
Result<boost::json::object> DescribeSql(storage::Connection& conn, std::string_view sql);

// Collects a statement's result as a Hrana StmtResult object.
class JsonResultSink : public RowSink {
 public:
  void Begin(sqlite3_stmt* stmt) override;
  void Row(sqlite3_stmt* stmt) override;
  boost::json::object Finish(const StmtOutcome& outcome);

 private:
  boost::json::array cols_;
  boost::json::array rows_;
  int columns_ = 0;
};

// The `cols` array of a prepared statement.
boost::json::array ColumnsJson(sqlite3_stmt* stmt);

}  // namespace quarry::protocol
