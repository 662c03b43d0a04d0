#pragma once

// SchemaText: the schema-language text of a model (model.h), as `quarry schema introspect`
// writes it for a database. Pure, thread-safe.

#include <string>

#include "schema/model.h"

namespace quarry::schema {

// Schema-language text for `schema` (not yet in canonical layout: pass it through
// FormatSchemaText). Models keep their table names and fields their column names; names that
// are not identifiers get @@map / @map.
std::string SchemaText(const Schema& schema);

}  // namespace quarry::schema
