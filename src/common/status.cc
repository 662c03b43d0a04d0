#include "common/status.h"

#include "common/sqlite_codes.h"

namespace quarry {

std::string Status::WireCode() const {
  if (code_ == ErrorCode::kSqlite) {
    return SqlitePrimaryCodeName(sqlite_code_);
  }
  return std::string(WireCodeOf(code_));
}

int Status::HttpStatus() const {
  if (code_ != ErrorCode::kSqlite) {
    return HttpStatusOf(code_);
  }
  switch (sqlite_code_ & 0xff) {
    case 5:  // SQLITE_BUSY: the write lock stayed taken past the busy timeout; retry later
    case 6:  // SQLITE_LOCKED
      return 503;
    case 13:  // SQLITE_FULL: the disk (or a quota) is full
      return 507;
    case 7:   // SQLITE_NOMEM
    case 10:  // SQLITE_IOERR
    case 11:  // SQLITE_CORRUPT
    case 14:  // SQLITE_CANTOPEN
    case 26:  // SQLITE_NOTADB
    case 15:  // SQLITE_PROTOCOL
      return 500;
    case 23:  // SQLITE_AUTH: refused by the access rules
      return 403;
    default:
      return HttpStatusOf(code_);
  }
}

std::string Status::ToString() const {
  if (ok()) {
    return "OK";
  }
  return WireCode() + ": " + message_;
}

}  // namespace quarry
