#pragma once

// Statement: the one owner of a prepared sqlite3_stmt in Quarry. A Statement either finalizes
// its statement when it goes, or, when it came from a Connection's statement cache, resets it
// and gives it back to that cache (which must outlive it). Move-only; not thread-safe (it is
// used on the thread that uses its connection).

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace quarry::storage {

class Connection;

class Statement {
 public:
  Statement() = default;
  // `cache_entry`: the cache_owner's entry for the statement (opaque here).
  Statement(sqlite3_stmt* stmt, Connection* cache_owner, void* cache_entry, uint64_t generation)
      : stmt_(stmt),
        cache_owner_(cache_owner),
        cache_entry_(cache_entry),
        generation_(generation) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Prepares the first statement of `sql` on `db`, uncached (finalized on destruction);
  // `tail` receives the unparsed rest. When `sql` holds only space and comments the result is
  // an empty Statement (false). Fails with kSqlite, SQLite's message and extended code.
  static Result<Statement> Prepare(sqlite3* db, std::string_view sql,
                                   std::string_view* tail = nullptr);

  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  void Release();

  sqlite3_stmt* stmt_ = nullptr;
  Connection* cache_owner_ = nullptr;
  void* cache_entry_ = nullptr;
  uint64_t generation_ = 0;
};

}  // namespace quarry::storage
