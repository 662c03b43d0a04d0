#include "query/connection_runner.h"

#include <spdlog/spdlog.h>

#include "storage/execute.h"

namespace quarry::query {
namespace {

// Collects every row of a statement as values.
class CollectRows : public storage::RowSink {
 public:
  explicit CollectRows(std::vector<query::Row>& rows) : rows_(rows) {}
  void Begin(sqlite3_stmt* stmt) override { columns_ = sqlite3_column_count(stmt); }
  void Row(sqlite3_stmt* stmt) override {
    query::Row row(static_cast<size_t>(columns_));
    for (int i = 0; i < columns_; ++i) {
      storage::Value& v = row[static_cast<size_t>(i)];
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER:
          v.type = storage::Value::Type::kInteger;
          v.integer = sqlite3_column_int64(stmt, i);
          break;
        case SQLITE_FLOAT:
          v.type = storage::Value::Type::kFloat;
          v.real = sqlite3_column_double(stmt, i);
          break;
        case SQLITE_TEXT:
          v.type = storage::Value::Type::kText;
          v.bytes.assign(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                         static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
          break;
        case SQLITE_BLOB:
          v.type = storage::Value::Type::kBlob;
          v.bytes.assign(static_cast<const char*>(sqlite3_column_blob(stmt, i)),
                         static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
          break;
        default:
          break;
      }
    }
    rows_.push_back(std::move(row));
  }

 private:
  std::vector<query::Row>& rows_;
  int columns_ = 0;
};

}  // namespace

Result<std::vector<Row>> ConnectionRunner::Run(const std::string& sql,
                                               const std::vector<storage::Value>& params) {
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("data api sql: {} ({} params)", sql, params.size());
  }
  ++statements_;
  std::vector<Row> rows;
  CollectRows sink(rows);
  QUARRY_ASSIGN_OR_RETURN(storage::StmtOutcome outcome,
                          storage::ExecuteStmt(conn_, sql, params, {}, &sink, max_result_bytes_));
  changes_ = outcome.affected_row_count;
  return rows;
}

}  // namespace quarry::query
