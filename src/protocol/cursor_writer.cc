#include "protocol/cursor_writer.h"

#include <boost/json.hpp>
#include <string>

#include "protocol/error_json.h"
#include "protocol/executor.h"
#include "protocol/value.h"

namespace quarry::protocol {
namespace json = boost::json;

void CursorWriter::Run(Stream& stream, const BatchSpec& batch) {
  Status status = stream.RunBatch(batch, *this);
  if (!status.ok()) {
    emit_(json::object{{"type", "error"}, {"error", ErrorJson(status)}});
  }
}

RowSink& CursorWriter::StepSink(size_t step) {
  step_ = step;
  return *this;
}

void CursorWriter::Begin(sqlite3_stmt* stmt) {
  columns_ = sqlite3_column_count(stmt);
  emit_(json::object{{"type", "step_begin"}, {"step", step_}, {"cols", ColumnsJson(stmt)}});
}

void CursorWriter::Row(sqlite3_stmt* stmt) {
  json::array row;
  row.reserve(static_cast<size_t>(columns_));
  for (int i = 0; i < columns_; ++i) {
    row.push_back(ColumnToJson(stmt, i));
  }
  emit_(json::object{{"type", "row"}, {"row", std::move(row)}});
}

void CursorWriter::StepDone(size_t step, const Result<StmtOutcome>& outcome) {
  if (outcome.ok()) {
    emit_(json::object{
        {"type", "step_end"},
        {"affected_row_count", outcome->affected_row_count},
        {"last_insert_rowid", outcome->last_insert_rowid
                                  ? json::value(std::to_string(*outcome->last_insert_rowid))
                                  : json::value(nullptr)}});
  } else {
    emit_(json::object{
        {"type", "step_error"}, {"step", step}, {"error", ErrorJson(outcome.status())}});
  }
}

}  // namespace quarry::protocol
