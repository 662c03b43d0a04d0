#pragma once

// How the data API's JSON values map to the columns of a model, both ways.
//
// In (arguments): Integer is a JSON number that is an integer, or a decimal string for values
// past 2^53; Real a number; Text a string; Boolean true/false (stored 0/1); DateTime an ISO-8601
// string (`2024-01-02`, `2024-01-02T03:04:05Z`, with optional fraction and offset); Json any JSON
// (stored as its text); an enum one of its values; Blob {"$base64": "..."}; a list (`Text[]`)
// a JSON array of its element type. Anything else fails with kInvalidArgument naming `path`.
//
// Out (results): OutputExpression is a SQL expression giving the JSON text of a column's value
// (never SQL NULL: a NULL is the text `null`), as results hold it: Integer a number while |n| <
// 2^53 and a decimal string beyond, Boolean true/false, Json and lists nested JSON, Blob
// {"$base64": "..."} (the connection's quarry_base64 function), the rest as stored.

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "query/sql_builder.h"
#include "schema/model.h"

namespace quarry::query {

// Converts `json` to the value stored in a column of `field` (a stored field). A JSON null is
// NULL (whether the field is optional is the caller's check).
Result<storage::Value> ColumnValue(const schema::Schema& schema, const schema::Field& field,
                                   const boost::json::value& json, const std::string& path);

// As ColumnValue for one element of a list field, or the field's own type when it is no list.
Result<storage::Value> ScalarValue(const schema::Schema& schema, const schema::Field& field,
                                   const boost::json::value& json, const std::string& path);

// Appends the SQL giving the JSON text of `alias."column"` of `field` (a stored field).
void OutputExpression(SqlBuilder& sql, const schema::Field& field, std::string_view alias);

// "a string", "an integer", ...: what a field of this type takes, for messages.
std::string ExpectedValue(const schema::Schema& schema, const schema::Field& field);

// A JSON scalar (from claims or the arguments) as a SQL value: numbers, strings, booleans
// (1/0) and null; arrays and objects as their JSON text.
storage::Value JsonScalarValue(const boost::json::value& json);

// The length of UTF-8 `text` in characters (code points).
size_t Utf8Length(std::string_view text);

// The value a request argument gives a parameter whose source is `source` (kind kArg): the one
// conversion both the compiler and a cached plan (plan_cache.h) use, so a plan binds exactly
// what compiling the request again would. Errors name `source.name`.
Result<storage::Value> ArgumentValue(const schema::Schema& schema, const ParamSource& source,
                                     const boost::json::value& json);

// True when `text` reads as ISO-8601: YYYY-MM-DD, optionally followed by T or a space,
// HH:MM[:SS[.fff]] and Z or ±HH:MM.
bool IsIsoDateTime(std::string_view text);

}  // namespace quarry::query
