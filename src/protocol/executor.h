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
#include "storage/execute.h"

namespace quarry::protocol {

using storage::kDefaultMaxResultBytes;
using storage::RowSink;
using storage::StmtOutcome;

// Runs exactly one SQL statement with `spec`'s arguments (see storage::ExecuteStmt). Rows go to
// `sink` when spec.want_rows; its columns always do.
Result<StmtOutcome> ExecuteStmt(storage::Connection& conn, std::string_view sql,
                                const StmtSpec& spec, RowSink& sink,
                                size_t max_result_bytes = kDefaultMaxResultBytes);

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
