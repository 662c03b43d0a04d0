#pragma once

// The invariants request.h promises of every request its parsers accept, checked by the fuzz
// targets of the JSON and the protobuf request parsers alike.

#include "fuzz_check.h"
#include "protocol/request.h"

namespace quarry::protocol::fuzz {

inline void CheckStmt(const StmtSpec& stmt) {
  FUZZ_CHECK(stmt.sql.has_value() != stmt.sql_id.has_value());
}

inline void CheckCondition(const Condition& cond, size_t step_index) {
  switch (cond.kind) {
    case Condition::Kind::kOk:
    case Condition::Kind::kError:
      FUZZ_CHECK(cond.step < step_index);
      break;
    case Condition::Kind::kNot:
      FUZZ_CHECK(cond.conds.size() == 1);
      break;
    default:
      break;
  }
  for (const Condition& inner : cond.conds) {
    CheckCondition(inner, step_index);
  }
}

inline void CheckBatch(const BatchSpec& batch) {
  for (size_t i = 0; i < batch.steps.size(); ++i) {
    if (batch.steps[i].condition) {
      CheckCondition(*batch.steps[i].condition, i);
    }
    CheckStmt(batch.steps[i].stmt);
  }
}

inline void CheckRequest(const Request& request) {
  switch (request.type) {
    case Request::Type::kExecute:
      CheckStmt(request.stmt);
      break;
    case Request::Type::kBatch:
      CheckBatch(request.batch);
      break;
    case Request::Type::kSequence:
    case Request::Type::kDescribe:
      FUZZ_CHECK(request.sql.has_value() != request.sql_id.has_value());
      break;
    case Request::Type::kStoreSql:
      FUZZ_CHECK(request.sql.has_value() && request.sql_id.has_value());
      break;
    case Request::Type::kCloseSql:
      FUZZ_CHECK(request.sql_id.has_value());
      break;
    default:
      break;
  }
}

}  // namespace quarry::protocol::fuzz
