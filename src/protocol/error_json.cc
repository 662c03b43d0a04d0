#include "protocol/error_json.h"

#include <boost/json.hpp>

#include "common/sqlite_codes.h"
#include "protocol/value.h"

namespace quarry::protocol {

boost::json::object ErrorJson(const Status& status) {
  boost::json::object error;
  // Messages may quote request bytes (a path, a name); the body must stay valid UTF-8 JSON.
  error.emplace("message", SanitizeUtf8(status.message()));
  error.emplace("code", status.WireCode());
  if (status.sqlite_code() != 0) {
    error.emplace("extended_code", SqliteExtendedCodeName(status.sqlite_code()));
    error.emplace("raw_code", status.sqlite_code());
  }
  return error;
}

std::string ErrorBody(const Status& status) { return boost::json::serialize(ErrorJson(status)); }

}  // namespace quarry::protocol
