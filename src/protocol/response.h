#pragma once

// The results of Hrana requests, independent of their encoding. Stream and HranaService produce
// these; response_json.h and protobuf_codec.h encode them as the JSON and the protobuf wire
// formats, so both encodings run the same execution code and report the same values.
//
// An error is a Status: its message and wire code (Status::WireCode) are what both encodings
// send, as the spec's Error {message, code}.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "protocol/request.h"
#include "protocol/value.h"
#include "storage/execute.h"

namespace quarry::protocol {

// A result column: its name and declared type, each absent when SQLite gives none.
struct Column {
  std::optional<std::string> name;
  std::optional<std::string> decltype_name;
};

using Row = std::vector<Value>;

// What one statement returned (Hrana's StmtResult).
struct StmtResult {
  std::vector<Column> cols;
  std::vector<Row> rows;
  int64_t affected_row_count = 0;
  std::optional<int64_t> last_insert_rowid;
  int64_t rows_read = 0;
  int64_t rows_written = 0;
  double query_duration_ms = 0;
};

// One entry per step of the batch: a step that was skipped (its condition was false) has
// neither a result nor an error; an executed one has exactly one of them.
struct BatchResult {
  std::vector<std::optional<StmtResult>> step_results;
  std::vector<std::optional<Status>> step_errors;
};

struct DescribeResult {
  std::vector<std::optional<std::string>> params;  // parameter names, absent for `?`
  std::vector<Column> cols;
  bool is_explain = false;
  bool is_readonly = false;
};

// The answer to one successful stream request; `type` is the request's.
struct StreamResponse {
  Request::Type type = Request::Type::kClose;
  StmtResult execute;         // kExecute
  BatchResult batch;          // kBatch
  DescribeResult describe;    // kDescribe
  bool is_autocommit = true;  // kGetAutocommit
};

// A request's result: its response, or the error it failed with (the pipeline goes on).
using StreamResult = Result<StreamResponse>;

struct PipelineResponse {
  std::optional<std::string> baton;  // absent when the stream was closed
  std::optional<std::string> base_url;
  std::vector<StreamResult> results;
};

// One entry of a cursor, as the spec's CursorEntry.
struct CursorEntry {
  enum class Kind { kStepBegin, kRow, kStepEnd, kStepError, kError };
  Kind kind = Kind::kError;
  uint32_t step = 0;                         // kStepBegin, kStepError
  std::vector<Column> cols;                  // kStepBegin
  Row row;                                   // kRow
  int64_t affected_row_count = 0;            // kStepEnd
  std::optional<int64_t> last_insert_rowid;  // kStepEnd
  Status error;                              // kStepError, kError
};

// Receives a cursor's entries in order, as they are produced.
class CursorEntryWriter {
 public:
  virtual ~CursorEntryWriter() = default;
  virtual void Write(const CursorEntry& entry) = 0;
};

struct CursorHead {
  std::optional<std::string> baton;
  std::optional<std::string> base_url;
};

// The columns of a prepared statement.
std::vector<Column> ColumnsOf(sqlite3_stmt* stmt);

// Collects a statement's columns and rows into a StmtResult.
class StmtResultSink : public storage::RowSink {
 public:
  void Begin(sqlite3_stmt* stmt) override;
  void Row(sqlite3_stmt* stmt) override;
  // The collected result with `outcome`'s counts; the sink is empty afterwards.
  StmtResult Finish(const storage::StmtOutcome& outcome);

 private:
  StmtResult result_;
  int columns_ = 0;
};

}  // namespace quarry::protocol
