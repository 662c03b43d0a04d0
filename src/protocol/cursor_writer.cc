#include "protocol/cursor_writer.h"

#include "protocol/executor.h"
#include "protocol/value.h"

namespace quarry::protocol {

void CursorWriter::Run(Stream& stream, const BatchSpec& batch) {
  Status status = stream.RunBatch(batch, *this);
  if (!status.ok()) {
    CursorEntry entry;
    entry.kind = CursorEntry::Kind::kError;
    entry.error = status;
    out_.Write(entry);
  }
}

RowSink& CursorWriter::StepSink(size_t step) {
  step_ = static_cast<uint32_t>(step);
  return *this;
}

void CursorWriter::Begin(sqlite3_stmt* stmt) {
  columns_ = sqlite3_column_count(stmt);
  CursorEntry entry;
  entry.kind = CursorEntry::Kind::kStepBegin;
  entry.step = step_;
  entry.cols = ColumnsOf(stmt);
  out_.Write(entry);
}

void CursorWriter::Row(sqlite3_stmt* stmt) {
  CursorEntry entry;
  entry.kind = CursorEntry::Kind::kRow;
  entry.row.reserve(static_cast<size_t>(columns_));
  for (int i = 0; i < columns_; ++i) {
    entry.row.push_back(ColumnValue(stmt, i));
  }
  out_.Write(entry);
}

void CursorWriter::StepDone(size_t step, const Result<StmtOutcome>& outcome) {
  CursorEntry entry;
  if (outcome.ok()) {
    entry.kind = CursorEntry::Kind::kStepEnd;
    entry.affected_row_count = outcome->affected_row_count;
    entry.last_insert_rowid = outcome->last_insert_rowid;
  } else {
    entry.kind = CursorEntry::Kind::kStepError;
    entry.step = static_cast<uint32_t>(step);
    entry.error = outcome.status();
  }
  out_.Write(entry);
}

}  // namespace quarry::protocol
