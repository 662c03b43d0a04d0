#include "storage/statement.h"

#include "storage/connection.h"

namespace quarry::storage {

Statement::Statement(Statement&& other) noexcept
    : stmt_(other.stmt_),
      cache_owner_(other.cache_owner_),
      cache_entry_(other.cache_entry_),
      generation_(other.generation_) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release();
    stmt_ = other.stmt_;
    cache_owner_ = other.cache_owner_;
    cache_entry_ = other.cache_entry_;
    generation_ = other.generation_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { Release(); }

void Statement::Release() {
  if (stmt_ == nullptr) {
    return;
  }
  if (cache_owner_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    cache_owner_->ReturnToCache(cache_entry_, stmt_, generation_);
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
}

Result<Statement> Statement::Prepare(sqlite3* db, std::string_view sql, std::string_view* tail) {
  sqlite3_stmt* stmt = nullptr;
  const char* rest = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, &rest) != SQLITE_OK) {
    return Status(ErrorCode::kSqlite, sqlite3_errmsg(db), sqlite3_extended_errcode(db));
  }
  if (tail != nullptr) {
    *tail = sql.substr(static_cast<size_t>(rest - sql.data()));
  }
  return Statement(stmt, nullptr, nullptr, 0);
}

}  // namespace quarry::storage
