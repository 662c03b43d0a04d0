#pragma once

// Names of SQLite result codes as clients expect them on the wire ("SQLITE_CONSTRAINT",
// "SQLITE_CONSTRAINT_PRIMARYKEY").

#include <string>

namespace quarry {

// The primary code's name for any (extended) result code: 1555 -> "SQLITE_CONSTRAINT".
std::string SqlitePrimaryCodeName(int code);
// The extended code's name: 1555 -> "SQLITE_CONSTRAINT_PRIMARYKEY"; falls back to the primary.
std::string SqliteExtendedCodeName(int code);

}  // namespace quarry
