#pragma once

// Hrana values: the five SQLite storage classes and their JSON encoding.
//
//   {"type":"null"}
//   {"type":"integer","value":"-9223372036854775808"}   64-bit integer as a decimal string
//   {"type":"float","value":1.5}                          JSON number
//   {"type":"text","value":"..."}
//   {"type":"blob","base64":"..."}                        standard base64, padding optional

#include <sqlite3.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/value.h"

namespace quarry::protocol {

using storage::Value;

// Parses a Hrana value; `where` names the field for error messages ("args[2]").
Result<Value> ValueFromJson(const boost::json::value& json, std::string_view where);
// Column `col` of the current row of `stmt`. Text that is not valid UTF-8 has each invalid byte
// replaced by U+FFFD (see SanitizeUtf8), so every encoding can carry it as a string.
Value ColumnValue(sqlite3_stmt* stmt, int col);
// Encodes a value as a Hrana JSON value. A float that is infinite is sent as the largest finite
// double of its sign: JSON has no infinity.
boost::json::value ValueToJson(const Value& value);
// JSON has no infinity, but SQLite stores it (e.g. SELECT 1e999): such a value is sent as the
// largest finite double of the same sign, so every response stays valid JSON.
double FiniteForJson(double value);
// ValueToJson(ColumnValue(stmt, col)).
boost::json::value ColumnToJson(sqlite3_stmt* stmt, int col);

// Plain JSON (legacy `POST /` API): integers and floats as numbers, text as strings,
// blobs as {"base64": "..."}.
Result<Value> ValueFromPlainJson(const boost::json::value& json, std::string_view where);
boost::json::value ColumnToPlainJson(sqlite3_stmt* stmt, int col);

// Text that is valid UTF-8 unchanged; otherwise each invalid byte replaced by U+FFFD, so a
// response is always valid JSON even when a TEXT column holds arbitrary bytes.
std::string SanitizeUtf8(std::string_view text);

}  // namespace quarry::protocol
