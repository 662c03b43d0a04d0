#pragma once

// The one JSON shape of an error, in Hrana results and HTTP error bodies:
// {"message": "...", "code": "SQLITE_CONSTRAINT"}.

#include <boost/json/object.hpp>
#include <string>

#include "common/status.h"

namespace quarry::protocol {

boost::json::object ErrorJson(const Status& status);
// The same, serialized: a complete HTTP error body.
std::string ErrorBody(const Status& status);

}  // namespace quarry::protocol
