#pragma once

// The JSON encoding of Hrana results (Hrana over HTTP with JSON, `/v2` and `/v3`), as libSQL's
// spec writes it: values as in value.h, errors as in error_json.h, absent optionals as null.

#include <boost/json/object.hpp>
#include <string>

#include "protocol/response.h"

namespace quarry::protocol {

// {"cols", "rows", "affected_row_count", "last_insert_rowid" (a decimal string or null),
//  "rows_read", "rows_written", "query_duration_ms"}
boost::json::object StmtResultJson(const StmtResult& result);
// {"step_results": [StmtResult | null], "step_errors": [Error | null]}
boost::json::object BatchResultJson(const BatchResult& result);
// {"params": [{"name"}], "cols": [{"name", "decltype"}], "is_explain", "is_readonly"}
boost::json::object DescribeResultJson(const DescribeResult& result);
// {"type": "execute", "result": ...}, {"type": "close"}, ...
boost::json::object StreamResponseJson(const StreamResponse& response);
// StreamResponseJson(response) serialized onto `out`, written directly (no DOM) for the
// common responses (execute, close).
void AppendStreamResponse(std::string& out, const StreamResponse& response);
// {"type": "ok", "response": ...} or {"type": "error", "error": ...}
boost::json::object StreamResultJson(const StreamResult& result);
// The body of a pipeline answer: {"baton", "base_url", "results"}.
std::string PipelineResponseBody(const PipelineResponse& response);
// {"type": "step_begin", "step", "cols"}, {"type": "row", "row"}, {"type": "step_end", ...}, ...
boost::json::object CursorEntryJson(const CursorEntry& entry);

// Writes cursor entries as newline-delimited JSON, the body of `POST /v3/cursor` after its
// first line.
class JsonCursorWriter : public CursorEntryWriter {
 public:
  void Write(const CursorEntry& entry) override;
  // The whole body: the line of `head`, then the entries written so far.
  std::string Body(const CursorHead& head);

 private:
  std::string entries_;
};

}  // namespace quarry::protocol
