#include "common/status.h"

#include "common/sqlite_codes.h"

namespace quarry {

std::string Status::WireCode() const {
  if (code_ == ErrorCode::kSqlite) {
    return SqlitePrimaryCodeName(sqlite_code_);
  }
  return std::string(WireCodeOf(code_));
}

std::string Status::ToString() const {
  if (ok()) {
    return "OK";
  }
  return WireCode() + ": " + message_;
}

}  // namespace quarry
