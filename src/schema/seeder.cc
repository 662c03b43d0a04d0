#include "schema/seeder.h"

#include <sqlite3.h>

#include <boost/json.hpp>
#include <memory>

#include "schema/migration_sql.h"
#include "storage/statement.h"

namespace quarry::schema {

namespace json = boost::json;

namespace {

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Result<SeedValue> ValueOf(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return SeedValue(nullptr);
    case json::kind::bool_:
      return SeedValue(int64_t{v.get_bool() ? 1 : 0});
    case json::kind::int64:
      return SeedValue(v.get_int64());
    case json::kind::uint64:
      if (v.get_uint64() > static_cast<uint64_t>(INT64_MAX)) {
        return Invalid("integer " + json::serialize(v) + " does not fit in 64 bits");
      }
      return SeedValue(static_cast<int64_t>(v.get_uint64()));
    case json::kind::double_:
      return SeedValue(v.get_double());
    case json::kind::string:
      return SeedValue(std::string(v.get_string()));
    case json::kind::array:
    case json::kind::object:
      return SeedValue(json::serialize(v));
  }
  return SeedValue(nullptr);
}

Status ExecAll(sqlite3* db, std::string_view sql) {
  for (const auto& statement : SplitStatements(sql)) {
    Result<storage::Statement> stmt = storage::Statement::Prepare(db, statement);
    if (!stmt.ok()) {
      return Status(ErrorCode::kSqlite, sqlite3_errmsg(db), sqlite3_extended_errcode(db));
    }
    sqlite3_stmt* raw = stmt->get();
    if (raw == nullptr) {
      continue;
    }
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      return Status(ErrorCode::kSqlite, sqlite3_errmsg(db), sqlite3_extended_errcode(db));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<SeedStatement>> PlanJsonSeed(std::string_view json_text,
                                                std::string_view source) {
  const std::string where(source);
  boost::system::error_code ec;
  json::value doc = json::parse(json_text, ec);
  if (ec) {
    return Invalid(where + ": not valid JSON (" + ec.message() + ")");
  }
  if (!doc.is_object()) {
    return Invalid(where + R"(: expected an object of tables, {"table": [{row}, ...], ...})");
  }
  std::vector<SeedStatement> out;
  for (const auto& [table_key, rows] : doc.get_object()) {
    std::string table(table_key);
    if (table.empty()) {
      return Invalid(where + ": a table name is empty");
    }
    if (!rows.is_array()) {
      return Invalid(where + ": \"" + table + "\" must be an array of row objects");
    }
    for (size_t i = 0; i < rows.get_array().size(); ++i) {
      std::string at = where + ": " + table + "[" + std::to_string(i) + "]";
      const json::object* row = rows.get_array()[i].if_object();
      if (row == nullptr) {
        return Invalid(at + " is not an object of column values");
      }
      if (row->empty()) {
        return Invalid(at + " has no columns");
      }
      SeedStatement statement;
      statement.table = table;
      statement.row = i;
      std::string columns;
      std::string params;
      for (const auto& [column, value] : *row) {
        if (column.empty()) {
          return Invalid(at + ": a column name is empty");
        }
        auto bound = ValueOf(value);
        if (!bound.ok()) {
          return Invalid(at + "." + std::string(column) + ": " + bound.status().message());
        }
        columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(column);
        params += params.empty() ? "?" : ", ?";
        statement.values.push_back(std::move(*bound));
      }
      statement.sql = "INSERT INTO " + QuoteIdentifier(table) + " (" + columns + ") VALUES (" +
                      params + ") ON CONFLICT DO NOTHING";
      out.push_back(std::move(statement));
    }
  }
  return out;
}

Result<SeedReport> Seed(storage::Connection& conn, std::string_view text, std::string_view source) {
  sqlite3* db = conn.handle();
  if (conn.InTransaction()) {
    return Invalid("cannot seed inside an open transaction");
  }
  std::vector<SeedStatement> plan;
  const bool is_sql = EndsWith(source, ".sql");
  if (!is_sql) {
    QUARRY_ASSIGN_OR_RETURN(plan, PlanJsonSeed(text, source));
  }
  SeedReport report;
  QUARRY_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  auto fail = [&](Status status) {
    conn.Exec("ROLLBACK").PermitUncheckedError();
    return status;
  };
  if (is_sql) {
    int64_t before = sqlite3_total_changes64(db);
    if (Status run = ExecAll(db, text); !run.ok()) {
      return fail(Status(run.code(),
                         std::string(source) + ": " + run.message() + "; nothing was seeded",
                         run.sqlite_code()));
    }
    report.inserted = sqlite3_total_changes64(db) - before;
  }
  for (const auto& statement : plan) {
    std::string at =
        std::string(source) + ": " + statement.table + "[" + std::to_string(statement.row) + "]: ";
    Result<storage::Statement> stmt = storage::Statement::Prepare(db, statement.sql);
    if (!stmt.ok()) {
      return fail(Status(ErrorCode::kSqlite, at + sqlite3_errmsg(db) + "; nothing was seeded",
                         sqlite3_extended_errcode(db)));
    }
    sqlite3_stmt* raw = stmt->get();
    for (size_t i = 0; i < statement.values.size(); ++i) {
      int index = static_cast<int>(i + 1);
      const SeedValue& value = statement.values[i];
      if (std::holds_alternative<int64_t>(value)) {
        sqlite3_bind_int64(raw, index, std::get<int64_t>(value));
      } else if (std::holds_alternative<double>(value)) {
        sqlite3_bind_double(raw, index, std::get<double>(value));
      } else if (std::holds_alternative<std::string>(value)) {
        const std::string& s = std::get<std::string>(value);
        sqlite3_bind_text(raw, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(raw, index);
      }
    }
    if (sqlite3_step(raw) != SQLITE_DONE) {
      Status error(ErrorCode::kSqlite, at + sqlite3_errmsg(db) + "; nothing was seeded",
                   sqlite3_extended_errcode(db));
      *stmt = storage::Statement();  // finalized before the rollback
      return fail(error);
    }
    if (sqlite3_changes(db) > 0) {
      ++report.inserted;
    } else {
      ++report.ignored;
    }
  }
  if (Status committed = conn.Exec("COMMIT"); !committed.ok()) {
    return fail(committed);
  }
  return report;
}

}  // namespace quarry::schema
