#pragma once

// Writing a command's output file so that a failure never leaves half of it behind.

#include <string>

#include "common/status.h"

namespace quarry::cli {

// Replaces (or creates) `path` with `text` through a temporary file in the same folder, renamed
// over it at the end: on failure the original is intact and the temporary file removed.
// kInternal naming the file when it cannot be written.
Status WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace quarry::cli

namespace quarry::cli {

// Prints `text` to standard output when `output` is empty, else writes it to `output` (as
// WriteFileAtomically) and says so. Returns the exit code: 0, or 1 after printing
// "<command>: <why>" to standard error.
int EmitOutput(const std::string& command, const std::string& output, const std::string& text);

}  // namespace quarry::cli
