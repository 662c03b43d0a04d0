#pragma once

// ConnectionRunner: SqlRunner (sql_runner.h) over a storage connection, through
// storage::ExecuteStmt like every other door, so access rules, limits and change capture hold
// for the data API too. Statements are logged at debug level (the query log). Not thread-safe:
// one per request, on the thread that holds the connection.

#include <string>
#include <vector>

#include "query/sql_runner.h"
#include "storage/connection.h"

namespace quarry::query {

class ConnectionRunner : public SqlRunner {
 public:
  // `max_result_bytes`: the most (estimated JSON) bytes one statement may return.
  ConnectionRunner(storage::Connection& conn, size_t max_result_bytes)
      : conn_(conn), max_result_bytes_(max_result_bytes) {}

  Result<std::vector<Row>> Run(const std::string& sql,
                               const std::vector<storage::Value>& params) override;
  int64_t Changes() override { return changes_; }
  // How many statements this runner ran.
  int statements() const { return statements_; }

 private:
  storage::Connection& conn_;
  size_t max_result_bytes_;
  int64_t changes_ = 0;
  int statements_ = 0;
};

}  // namespace quarry::query
