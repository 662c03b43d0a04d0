#pragma once

// Helpers for the migrator's tests: a temporary folder, opening a SQLite file, and reading
// back a database's tables, columns and rows.

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "storage/connection.h"
#include "storage/statement.h"

namespace quarry::schema::testing {

inline const std::filesystem::path kFixtures = QUARRY_MIGRATE_FIXTURES;

// A fresh folder under the system temp folder, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("quarry-migrate-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

inline std::unique_ptr<storage::Connection> OpenDb(const std::filesystem::path& path) {
  auto conn = storage::Connection::Open(path, storage::ConnectionOptions{}, true);
  return conn.ok() ? std::move(*conn) : nullptr;
}

// Every row of `sql`'s result, each column as text ("NULL" for null).
inline std::vector<std::vector<std::string>> Query(storage::Connection& conn,
                                                   const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  Result<storage::Statement> prepared = storage::Statement::Prepare(conn.handle(), sql);
  if (!prepared.ok()) {
    return {{"ERROR: " + prepared.status().message()}};
  }
  sqlite3_stmt* stmt = prepared->get();
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const unsigned char* text = sqlite3_column_text(stmt, i);
      row.push_back(text == nullptr ? "NULL" : reinterpret_cast<const char*>(text));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// The names of the user tables, sorted.
inline std::vector<std::string> Tables(storage::Connection& conn) {
  std::vector<std::string> names;
  for (auto& row : Query(conn,
                         "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                         "'sqlite_%' ORDER BY name")) {
    names.push_back(row[0]);
  }
  return names;
}

inline std::vector<std::string> Columns(storage::Connection& conn, const std::string& table) {
  std::vector<std::string> names;
  for (auto& row : Query(conn, "SELECT name FROM pragma_table_info('" + table + "')")) {
    names.push_back(row[0]);
  }
  return names;
}

// The whole schema text plus every row of every table: equal before and after means unchanged.
inline std::string Snapshot(storage::Connection& conn) {
  std::string out;
  for (auto& row : Query(conn, "SELECT type, name, sql FROM sqlite_master ORDER BY type, name")) {
    out += row[0] + " " + row[1] + ": " + row[2] + "\n";
  }
  for (const auto& table : Tables(conn)) {
    for (auto& row : Query(conn, "SELECT * FROM \"" + table + "\" ORDER BY rowid")) {
      out += table + ":";
      for (auto& v : row) {
        out += " " + v;
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace quarry::schema::testing
