#pragma once

// Statement execution on one connection: binding Hrana arguments, stepping, and handing rows
// to a sink. Shared by the pipeline (rows collected into a StmtResult), the cursor (rows
// streamed as entries) and the legacy API (plain JSON rows).

#include <sqlite3.h>

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "protocol/request.h"
#include "protocol/response.h"
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

// The parameters and columns of one statement, and whether it is an EXPLAIN and read-only.
Result<DescribeResult> DescribeSql(storage::Connection& conn, std::string_view sql);

}  // namespace quarry::protocol
