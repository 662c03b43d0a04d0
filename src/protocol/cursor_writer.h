#pragma once

// CursorWriter: a batch's results as Hrana cursor entries (step_begin, row, step_end,
// step_error, and a final error when the batch could not run), handed one by one to a callback.
// The HTTP cursor writes them as newline-delimited JSON; a WebSocket cursor keeps them for
// fetch_cursor.

#include <boost/json/object.hpp>
#include <functional>

#include "protocol/stream.h"

namespace quarry::protocol {

class CursorWriter : public Stream::BatchObserver, public RowSink {
 public:
  using Emit = std::function<void(boost::json::object entry)>;
  explicit CursorWriter(Emit emit) : emit_(std::move(emit)) {}

  // Runs `batch` on `stream`, emitting its entries.
  void Run(Stream& stream, const BatchSpec& batch);

  RowSink& StepSink(size_t step) override;
  void Begin(sqlite3_stmt* stmt) override;
  void Row(sqlite3_stmt* stmt) override;
  void StepDone(size_t step, const Result<StmtOutcome>& outcome) override;

 private:
  Emit emit_;
  size_t step_ = 0;
  int columns_ = 0;
};

}  // namespace quarry::protocol
