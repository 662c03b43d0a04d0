#pragma once

// CursorWriter: a batch's results as Hrana cursor entries (step_begin, row, step_end,
// step_error, and a final error when the batch could not run), written one by one to a
// CursorEntryWriter. The HTTP cursor encodes them as it goes (newline-delimited JSON or
// length-delimited protobuf); a WebSocket cursor keeps them for fetch_cursor.

#include <cstdint>

#include "protocol/response.h"
#include "protocol/stream.h"

namespace quarry::protocol {

class CursorWriter : public Stream::BatchObserver, public RowSink {
 public:
  explicit CursorWriter(CursorEntryWriter& out) : out_(out) {}

  // Runs `batch` on `stream`, writing its entries; a batch that cannot run at all ends with an
  // error entry.
  void Run(Stream& stream, const BatchSpec& batch);

  RowSink& StepSink(size_t step) override;
  void Begin(sqlite3_stmt* stmt) override;
  void Row(sqlite3_stmt* stmt) override;
  void StepDone(size_t step, const Result<StmtOutcome>& outcome) override;

 private:
  CursorEntryWriter& out_;
  uint32_t step_ = 0;
  int columns_ = 0;
};

}  // namespace quarry::protocol
