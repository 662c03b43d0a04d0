#pragma once

// Migration folders: reading the three folder formats the migrator understands into one
// ordered list of migrations, and writing a new Quarry-format migration file.
//
//   kQuarry   migrations/<YYYYMMDDHHMMSS>_<label>.sql, ordered by timestamp; an optional
//             "-- down" line splits each file into its up part and its down part.
//   kDrizzle  a folder made by `drizzle-kit generate`: meta/_journal.json lists the
//             migrations in order ({idx, tag, when, breakpoints}); <tag>.sql holds statements
//             separated by "--> statement-breakpoint".
//   kPlain    ordered NNNN_<label>.sql files, as `wrangler d1 migrations create` makes them.
//
// A migration's id is its file name without ".sql" (for drizzle-kit, the journal's tag); its
// checksum is the SHA-256 of the file's bytes, so any edit after it was applied is detected.
// Plain values; the functions are thread-safe but read and write the file system.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace quarry::schema {

enum class MigrationFormat { kQuarry, kDrizzle, kPlain };

// "quarry", "drizzle", "plain".
std::string_view FormatName(MigrationFormat format);
// Accepts the names above; kInvalidArgument naming the accepted ones otherwise.
Result<MigrationFormat> ParseFormat(std::string_view name);

struct Migration {
  std::string id;                 // "20240501120000_add_users", "0000_init", "0001_users"
  std::string source;             // where it came from, for messages: a path or "request"
  std::string text;               // the file's contents, as checksummed
  std::string checksum;           // Sha256Hex(text)
  std::vector<std::string> up;    // statements to apply, in order
  std::vector<std::string> down;  // statements that undo it; empty when it has no down part
  bool has_down = false;          // a non-empty "-- down" section exists, or the migration
                                  // only records a schema snapshot (kQuarry only)
  int64_t when_ms = 0;            // kDrizzle: the journal's "when", which drizzle-kit's own
                                  // migrator records as created_at; 0 when unknown
  // kQuarry: the schema snapshot of a migration made from a schema (see migration_sql.h),
  // recorded as the namespace's schema when it applies; nullopt for a plain SQL migration.
  std::optional<std::string> schema;
};

struct MigrationSet {
  MigrationFormat format = MigrationFormat::kQuarry;
  std::vector<Migration> migrations;  // in the order they apply

  // nullptr when no migration has this id.
  const Migration* Find(std::string_view id) const;
};

// Builds one migration of `format` from its text: splits its statements (and, for kQuarry, its
// down section and schema snapshot). `source` names it in errors. Fails on a malformed "-- down"
// section or schema snapshot.
Result<Migration> MakeMigration(MigrationFormat format, std::string id, std::string source,
                                std::string text);

// Reads the folder at `dir`, detecting its format: meta/_journal.json makes it kDrizzle; .sql
// files all named <14 digits>_<label>.sql make it kQuarry; files all named <digits>_<label>.sql
// make it kPlain. Other files (README, snapshots) are ignored. An empty folder is kQuarry with
// no migrations. Errors name the folder or file and say what was expected: a missing folder, a
// .sql file that fits no format, a journal that is not valid JSON or lacks a field, a journal
// entry whose file is missing, duplicate ids.
Result<MigrationSet> ReadMigrationFolder(const std::filesystem::path& dir);

// Builds a set from migrations given as (id, text) pairs in apply order, as the admin API
// receives them. Ids must be non-empty and unique.
struct MigrationSource {
  std::string id;
  std::string text;
};
Result<MigrationSet> MakeMigrationSet(MigrationFormat format,
                                      const std::vector<MigrationSource>& sources);

// "YYYYMMDDHHMMSS" in UTC.
std::string MigrationTimestamp(std::chrono::system_clock::time_point when);

// Writes a new Quarry-format migration <dir>/<timestamp>_<label>.sql holding `up_sql`, then
// `schema`'s snapshot when given (see migration_sql.h), then a "-- down" line and `down_sql`,
// and returns its path. This is the one writer of migration
// files: `quarry migrate create` passes empty SQL for a template; a generator (schema diff)
// passes the SQL it produced. The timestamp is `now`, moved past the newest migration already in
// the folder so the new one always sorts last. `label` is letters, digits, '_' and '-'. Creates
// `dir` when missing; refuses a folder in another format and never overwrites a file.
Result<std::filesystem::path> CreateMigrationFile(
    const std::filesystem::path& dir, std::string_view label, std::string_view up_sql,
    std::string_view down_sql, std::chrono::system_clock::time_point now,
    const std::optional<std::string>& schema = std::nullopt);

}  // namespace quarry::schema
