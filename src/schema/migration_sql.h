#pragma once

// Text-level helpers for migration SQL: splitting a script into statements the way SQLite
// reads it, the "-- down" section of a Quarry migration, drizzle-kit's breakpoint markers, and
// the SHA-256 checksum recorded for every applied migration. Pure functions, thread-safe.
// Reading SQL text (tokens, statement ends, transaction control) is common/sql_statement.h's.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace quarry::schema {

// Splits `sql` into complete statements at the ';' where sqlite3_complete() says each ends
// (sql::SplitCompleteStatements: a ';' in a string, a comment or a CREATE TRIGGER body does
// not split). Text after the last ';' that holds more than space and comments is returned as a
// final statement. Statements are trimmed of surrounding whitespace and leading comments;
// blank pieces (comments, a lone ';') are dropped.
std::vector<std::string> SplitStatements(std::string_view sql);

// A Quarry migration file split at its "-- down" line: a line holding only "-- down" (any case,
// spaces allowed after "--"). `down` is nullopt when there is no such line or nothing but
// whitespace and comments follows it. More than one "-- down" line is an error naming `source`
// and the line.
struct UpDown {
  std::string up;
  std::optional<std::string> down;
};
Result<UpDown> SplitDownSection(std::string_view text, std::string_view source);

// The schema snapshot of a Quarry migration made from a schema (`quarry migrate create
// --schema`): the schema the migration brings the database to, one self-contained schema file,
// kept as SQL comments at the end of the migration's up section, so that it is checksummed with
// the file and travels wherever the file goes. Applying the migration records it as the
// namespace's schema (recorded_schema.h):
//
//   -- quarry:schema
//   --| model users {
//   --|   id Integer @id
//   --| }
//   -- end quarry:schema
//
// Each line of the schema follows "--| " ("--|" alone for an empty line), so no schema line can
// be read as a "-- down" marker.
inline constexpr std::string_view kSchemaSnapshotBegin = "-- quarry:schema";
inline constexpr std::string_view kSchemaSnapshotEnd = "-- end quarry:schema";

// The comment block above for `schema`, ending with a newline.
std::string SchemaSnapshotComment(std::string_view schema);

// The schema snapshot in `up` (a Quarry migration's up section); nullopt when it has none.
// Marker lines count only between statements (not inside a string or a block comment).
// kInvalidArgument naming `source` and the line for a begin line without its end line, a line
// between them that does not start with "--|", or a second snapshot.
Result<std::optional<std::string>> ExtractSchemaSnapshot(std::string_view up,
                                                         std::string_view source);

// drizzle-kit's marker between statements.
inline constexpr std::string_view kDrizzleBreakpoint = "--> statement-breakpoint";

// Splits a drizzle-kit migration at its breakpoint markers, then each piece with
// SplitStatements (a piece normally holds one statement).
std::vector<std::string> SplitDrizzleStatements(std::string_view sql);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace quarry::schema
