#pragma once

// A JSON Schema (draft 2020-12) document of a schema's models, as `quarry jsonschema` writes it:
// under `$defs`, one definition per enum (its values) and per model (a full row as the data API
// returns it), beside the shared value definitions Integer, DateTime, Json and Blob.
//
// Values follow the data API's JSON mapping (query/values.h): Integer a JSON integer, or a
// decimal string past 2^53; Real a number; Text a string; Boolean true/false; DateTime an
// ISO-8601 string; Json any JSON; an enum one of its values; Blob {"$base64": "..."}; optional
// fields also null; lists arrays. A row definition requires the fields every full row holds:
// @secret fields are left out (never returned), @omit and @guarded fields and relation fields
// (present with include/select) are allowed but not required, and nothing else is allowed.
// The output (2-space indented, definitions in schema order) depends only on the schema.

#include <string>

#include "schema/model.h"

namespace quarry::cli {

// The JSON Schema document for `schema`, a bound Schema; `source` (the schema file) is its
// title.
std::string JsonSchemaDocument(const schema::Schema& schema, const std::string& source);

}  // namespace quarry::cli
