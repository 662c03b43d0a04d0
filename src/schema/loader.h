#pragma once

// Loads a schema that may span several files: parses the root file and every file reached
// through `import "path"`, each once. An import's path is resolved against the directory of the
// file that holds it; cycles are harmless, since a file already loaded is not loaded again.

#include <functional>
#include <string>

#include "common/status.h"
#include "schema/ast.h"

namespace quarry::schema {

// Returns the content of the file at `path`, or a Status whose message says why not (e.g.
// "No such file or directory").
using FileReader = std::function<Result<std::string>(const std::string& path)>;

// Reads files from the local file system.
FileReader DiskFileReader();

// At most this many files make up one schema.
inline constexpr size_t kMaxSchemaFiles = 1000;

// Loads `root_path` and its imports through `reader`. Paths in the Program (and in errors) are
// the root path and, for imports, the importing file's directory joined with the import path,
// lexically normalized. Fails with the first syntax error, or with "file:line:column: cannot
// read imported file ..." at the import that names an unreadable file. A root file that cannot
// be read fails with kNotFound.
Result<ast::Program> LoadSchema(const std::string& root_path, const FileReader& reader);

}  // namespace quarry::schema
