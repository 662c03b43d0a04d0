#include "protocol/response.h"

#include <utility>

namespace quarry::protocol {

std::vector<Column> ColumnsOf(sqlite3_stmt* stmt) {
  std::vector<Column> cols;
  int n = sqlite3_column_count(stmt);
  cols.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Column col;
    if (const char* name = sqlite3_column_name(stmt, i); name != nullptr) {
      col.name = name;
    }
    if (const char* decltype_name = sqlite3_column_decltype(stmt, i); decltype_name != nullptr) {
      col.decltype_name = decltype_name;
    }
    cols.push_back(std::move(col));
  }
  return cols;
}

void StmtResultSink::Begin(sqlite3_stmt* stmt) {
  result_.cols = ColumnsOf(stmt);
  columns_ = sqlite3_column_count(stmt);
}

void StmtResultSink::Row(sqlite3_stmt* stmt) {
  protocol::Row row;
  row.reserve(static_cast<size_t>(columns_));
  for (int i = 0; i < columns_; ++i) {
    row.push_back(ColumnValue(stmt, i));
  }
  result_.rows.push_back(std::move(row));
}

StmtResult StmtResultSink::Finish(const storage::StmtOutcome& outcome) {
  StmtResult result = std::exchange(result_, StmtResult());
  columns_ = 0;
  result.affected_row_count = outcome.affected_row_count;
  result.last_insert_rowid = outcome.last_insert_rowid;
  result.rows_read = outcome.rows_read;
  result.rows_written = outcome.rows_written;
  result.query_duration_ms = outcome.duration_ms;
  return result;
}

}  // namespace quarry::protocol
