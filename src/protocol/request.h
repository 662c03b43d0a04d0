#pragma once

// The parsed, validated form of Hrana requests. Parsing checks every field before anything
// runs, so a malformed pipeline is refused whole and never half-applied.

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "protocol/value.h"

namespace quarry::protocol {

struct StmtSpec {
  std::optional<std::string> sql;  // exactly one of sql and sql_id is set
  std::optional<int64_t> sql_id;
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> named_args;
  bool want_rows = true;
};

struct Condition {
  enum class Kind { kOk, kError, kNot, kAnd, kOr, kIsAutocommit };
  Kind kind = Kind::kOk;
  size_t step = 0;               // kOk, kError
  std::vector<Condition> conds;  // kNot (one), kAnd, kOr
};

struct BatchStep {
  std::optional<Condition> condition;
  StmtSpec stmt;
};

struct BatchSpec {
  std::vector<BatchStep> steps;
};

struct Request {
  enum class Type {
    kExecute,
    kBatch,
    kSequence,
    kDescribe,
    kStoreSql,
    kCloseSql,
    kClose,
    kGetAutocommit
  };
  Type type = Type::kExecute;
  StmtSpec stmt;                   // kExecute
  BatchSpec batch;                 // kBatch
  std::optional<std::string> sql;  // kSequence, kDescribe, kStoreSql
  std::optional<int64_t> sql_id;   // kSequence, kDescribe, kStoreSql, kCloseSql
};

struct PipelineRequest {
  std::optional<std::string> baton;
  std::vector<Request> requests;
};

struct CursorRequest {
  std::optional<std::string> baton;
  BatchSpec batch;
};

// Legacy `POST /` body: {"statements": ["sql", {"q": "sql", "params": [..] | {..}}]}.
struct LegacyRequest {
  std::vector<StmtSpec> statements;
};

Result<PipelineRequest> ParsePipelineRequest(const boost::json::value& body);
// One request of a pipeline (also the stream requests of Hrana over WebSocket, which share their
// shape); `where` names it in error messages ("requests[2]").
Result<Request> ParseRequest(const boost::json::value& json, const std::string& where);
// A Batch ({"steps": [...]}).
Result<BatchSpec> ParseBatch(const boost::json::value& json, const std::string& where);
Result<CursorRequest> ParseCursorRequest(const boost::json::value& body);
Result<LegacyRequest> ParseLegacyRequest(const boost::json::value& body);

// The JSON type name of a value, for error messages: "string", "number", "object", ...
const char* JsonTypeName(const boost::json::value& value);

}  // namespace quarry::protocol
