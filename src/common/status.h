#pragma once

// Status and Result<T>: the one error currency of Quarry.
//
// Errors a client can cause are values, never exceptions. A Status carries a closed ErrorCode
// (see error_code.h, which maps each code to an HTTP status and a Hrana error code) and a
// human-readable message naming what was wrong. SQLite failures additionally carry the
// SQLite result code so the protocol layer can report it exactly as sqld does.

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/error_code.h"

namespace quarry {

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message, int sqlite_code = 0)
      : code_(code), message_(std::move(message)), sqlite_code_(sqlite_code) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The extended SQLite result code when code() == kSqlite, 0 otherwise.
  int sqlite_code() const { return sqlite_code_; }

  // The Hrana/sqld error code string: "SQLITE_CONSTRAINT_PRIMARYKEY", "ARGS_INVALID", ...
  std::string WireCode() const;
  // The HTTP status for this error. SQLite errors map by their primary code: the server's
  // trouble (busy, locked, full disk, I/O, corruption, out of memory) is not a client error.
  int HttpStatus() const;
  std::string ToString() const;

  // The request argument the error is about, as a dotted path ("where.age.gte", "data.email"),
  // when one is known; empty otherwise. The data API reports it beside the message.
  const std::string& path() const { return path_; }
  Status WithPath(std::string path) && {
    path_ = std::move(path);
    return std::move(*this);
  }
  // Marks a deliberately ignored status, so the intent is greppable.
  void PermitUncheckedError() const {}

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  int sqlite_code_ = 0;
  std::string path_;
};

// Holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace quarry

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define QUARRY_RETURN_IF_ERROR(expr) \
  do {                               \
    ::quarry::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

#define QUARRY_CONCAT_INNER(a, b) a##b
#define QUARRY_CONCAT(a, b) QUARRY_CONCAT_INNER(a, b)
// Declares `lhs` from a Result<T>, returning its Status from the enclosing function on error.
#define QUARRY_ASSIGN_OR_RETURN(lhs, rexpr) \
  QUARRY_ASSIGN_OR_RETURN_IMPL(QUARRY_CONCAT(_result_, __LINE__), lhs, rexpr)
#define QUARRY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
