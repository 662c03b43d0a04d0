#pragma once

// Parsing request bodies into Boost.JSON values.
//
// Boost.JSON 1.81's parser may round a double in the last bit (its `precise` option arrived in
// 1.83), and a database must store exactly the float a client sent. This parser drives
// Boost.JSON's basic_parser and converts number text with std::from_chars, which is exact.

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "common/status.h"

namespace quarry::protocol {

// Parses a complete JSON document (UTF-8 validated, depth <= 64). kInvalidArgument naming the
// problem and its byte offset on error. The value's memory comes from `storage` (the default
// heap when none is given): a request parsed into a monotonic_resource and read once costs no
// allocation per node.
Result<boost::json::value> ParseJsonBody(std::string_view body,
                                         boost::json::storage_ptr storage = {});

}  // namespace quarry::protocol
