#pragma once

// JSON text written straight into a string, for answers and records built without a DOM.

#include <boost/json/serializer.hpp>
#include <string>
#include <string_view>

namespace quarry {

// Appends what `sr` (reset to a value, a string or a number) writes.
void AppendSerialized(std::string& out, boost::json::serializer& sr);

// Appends `text` as a JSON string (quoted and escaped by Boost.JSON's serializer, so byte for
// byte what json::serialize gives for it), without allocating beyond `out`'s growth.
void AppendJsonString(std::string& out, std::string_view text);

// Appends a finite `value` as the serializer writes a double (its own formatting routine, so the
// same bytes, without a serializer around it).
void AppendJsonNumber(std::string& out, double value);

// `text` as a JSON string.
std::string JsonString(std::string_view text);

}  // namespace quarry
