#pragma once

// Text-level helpers for migration SQL: splitting a script into statements the way SQLite
// reads it, the "-- down" section of a Quarry migration, drizzle-kit's breakpoint markers, and
// the SHA-256 checksum recorded for every applied migration. Pure functions, thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace quarry::schema {

// Splits `sql` into complete statements, each ending at the ';' where sqlite3_complete() says
// the statement ends (so a CREATE TRIGGER body's inner ';' does not split it). Text after the
// last ';' that holds more than whitespace and comments is returned as a final statement.
// Statements are trimmed of surrounding whitespace and leading comments; comment-only pieces
// are dropped.
std::vector<std::string> SplitStatements(std::string_view sql);

// True when `sql` holds nothing but whitespace, "--" line comments and "/* */" comments.
bool IsBlankSql(std::string_view sql);

// The first keyword of a statement, upper-cased, after leading whitespace and comments.
std::string FirstKeyword(std::string_view sql);

// True for BEGIN, COMMIT, END and ROLLBACK (but not ROLLBACK TO): statements that would end or
// nest the transaction the migrator runs each migration in.
bool IsTransactionControl(std::string_view statement);

// A Quarry migration file split at its "-- down" line: a line holding only "-- down" (any case,
// spaces allowed after "--"). `down` is nullopt when there is no such line or nothing but
// whitespace and comments follows it. More than one "-- down" line is an error naming `source`
// and the line.
struct UpDown {
  std::string up;
  std::optional<std::string> down;
};
Result<UpDown> SplitDownSection(std::string_view text, std::string_view source);

// drizzle-kit's marker between statements.
inline constexpr std::string_view kDrizzleBreakpoint = "--> statement-breakpoint";

// Splits a drizzle-kit migration at its breakpoint markers, then each piece with
// SplitStatements (a piece normally holds one statement).
std::vector<std::string> SplitDrizzleStatements(std::string_view sql);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace quarry::schema
