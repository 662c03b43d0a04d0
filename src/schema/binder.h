#pragma once

// Turns the syntax trees of a schema's files into the validated model (model.h): resolves
// type names, checks every attribute and its arguments, resolves relations across models and
// binds policy expressions to the fields they name.

#include <string>

#include "common/status.h"
#include "schema/ast.h"
#include "schema/loader.h"
#include "schema/model.h"

namespace quarry::schema {

// At most this many errors are reported by one BindSchema call.
inline constexpr size_t kMaxReportedErrors = 50;

// Validates `program` (all its files form one schema). On failure returns kInvalidArgument
// whose message lists every error found, one per line, each "file:line:column: what is wrong",
// ordered by file (root first) and position.
Result<Schema> BindSchema(const ast::Program& program);

// LoadSchema (loader.h) followed by BindSchema.
Result<Schema> LoadAndBindSchema(const std::string& root_path, const FileReader& reader);

// Parses and binds one self-contained schema file, as the server receives schema text (schema
// routes, migration snapshots) and records it: `text` must not import other files (the server
// reads no files). `path` names it in errors. kInvalidArgument for an import, a syntax error or a
// binding error.
Result<Schema> BindSelfContainedSchema(std::string_view text, const std::string& path);

}  // namespace quarry::schema
