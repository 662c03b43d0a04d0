#pragma once

// TypeScript declarations of a schema's models for the TypeScript client (clients/js), as
// `quarry types` writes them: per model a row interface (what reads return) and the input
// types of its arguments (Where, OrderBy, Select, Include, Create, Update), a ModelSpec tying
// them together, and a `Database` interface mapping model names to those specs, used as
// `quarry<Database>(...)`. Enums become string-literal unions.
//
// Values follow the data API's JSON mapping (query/values.h): Integer `number` (or `number |
// BigIntString` with integer_strings, for data past 2^53), Real `number`, Text and DateTime
// `string`, Boolean `boolean`, Json `JsonValue`, Blob `BlobValue`, optional `| null`, lists
// arrays. Row types leave out @secret fields (never returned) and make @omit and @guarded
// fields, and relation fields (present with include/select), optional.
//
// Type names are the model and enum names in PascalCase (`blog_posts` -> `BlogPosts`), made
// unique with a `_2` suffix where two would collide. The output depends only on the schema and
// the options, so it can be checked in and compared.

#include <string>

#include "schema/model.h"

namespace quarry::cli {

struct TypeDeclarationOptions {
  std::string source;                            // the schema file, named in the header comment
  std::string client_module = "@quarry/client";  // where the client's types are imported from
  bool integer_strings = false;                  // Integer fields typed `number | BigIntString`
};

// The declarations (a .d.ts module) for `schema`, a bound Schema.
std::string TypeDeclarations(const schema::Schema& schema, const TypeDeclarationOptions& options);

// The PascalCase type name for a schema name: `_` separates words, each word's first letter
// is upper-cased; a name that would start with a digit gets a leading `T`.
std::string PascalCase(const std::string& name);

}  // namespace quarry::cli
