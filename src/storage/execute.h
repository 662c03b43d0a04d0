#pragma once

// Running client statements on a connection: binding arguments, stepping, handing rows to a
// sink, and reporting what the statement did. Every door that runs SQL text a client or tool
// sent (Hrana streams and cursors, group commit, the legacy API, the data API) runs it here, on
// a connection borrowed with the caller's AccessMode, so access rules, limits and change
// capture hold the same way for all of them.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/connection.h"
#include "storage/value.h"

namespace quarry::storage {

// Receives a statement's columns and rows. Called on the executing thread only.
class RowSink {
 public:
  virtual ~RowSink() = default;
  // Once, after prepare, before any row.
  virtual void Begin(sqlite3_stmt* stmt) = 0;
  // Each row, unless the sink does not want rows (then only Begin is called: columns only).
  virtual void Row(sqlite3_stmt* stmt) = 0;
  bool wants_rows() const { return wants_rows_; }
  void set_wants_rows(bool wants) { wants_rows_ = wants; }

 private:
  bool wants_rows_ = true;
};

// What a statement did. As sqld reports it: affected_row_count counts the rows an INSERT,
// UPDATE or DELETE changed (0 for every other statement), and last_insert_rowid is set only for
// a statement that inserted.
struct StmtOutcome {
  int64_t affected_row_count = 0;
  std::optional<int64_t> last_insert_rowid;
  int64_t rows_read = 0;
  int64_t rows_written = 0;
  double duration_ms = 0;
  size_t result_bytes = 0;  // estimated JSON bytes of the rows handed to the sink
};

// The default bound on the rows one statement may return, in (estimated) bytes of JSON.
inline constexpr size_t kDefaultMaxResultBytes = 32 << 20;

using NamedArguments = std::vector<std::pair<std::string, Value>>;

// Runs exactly one SQL statement with positional `args` or `named` arguments (a name without
// its prefix matches :name, @name and $name). Columns and rows go to `sink` when it is given. Fails
// with kInvalidArgument for bad arguments, kSqlManyStatements for more than one statement,
// kSqlNoStatement for none, kSqlite for SQLite errors, kQueryTimeout when the connection's
// deadline passed, and kResponseTooLarge once the rows passed to the sink exceed
// `max_result_bytes`.
Result<StmtOutcome> ExecuteStmt(Connection& conn, std::string_view sql,
                                const std::vector<Value>& args, const NamedArguments& named,
                                RowSink* sink, size_t max_result_bytes = kDefaultMaxResultBytes);

// Runs every statement of `sql` in order, without arguments, discarding rows (a Hrana
// `sequence`, a migration file's text). Stops at the first failure, which it returns.
Status ExecuteScript(Connection& conn, std::string_view sql);

// About how many bytes a row adds to a JSON response: the values (base64 for blobs) plus the
// per-value framing. An estimate is enough for a memory bound.
size_t EstimateRowBytes(sqlite3_stmt* stmt, int columns);

// "32 MiB", "64 KiB", "1000 bytes": for limits in messages.
std::string FormatBytes(size_t bytes);

// The statement's leading verb, after any WITH clause: what sqld keys its reporting on.
enum class SqlVerb { kInsert, kUpdate, kDelete, kOther };
SqlVerb LeadingVerb(std::string_view sql);

}  // namespace quarry::storage
