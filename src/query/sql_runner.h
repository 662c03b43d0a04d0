#pragma once

// SqlRunner: how compiled data-API statements reach a database. The query layer is pure; the
// server implements this over a storage connection (inside the request's transaction).

#include <string>
#include <vector>

#include "common/status.h"
#include "storage/value.h"

namespace quarry::query {

using Row = std::vector<storage::Value>;

class SqlRunner {
 public:
  virtual ~SqlRunner() = default;
  // Runs one statement with positional `params` and returns all of its rows.
  virtual Result<std::vector<Row>> Run(const std::string& sql,
                                       const std::vector<storage::Value>& params) = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE this runner ran.
  virtual int64_t Changes() = 0;
};

}  // namespace quarry::query
