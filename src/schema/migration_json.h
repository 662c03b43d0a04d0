#pragma once

// The JSON forms of migrations and their status, as the admin API sends and receives them and
// the CLI reads them (see docs/migrations.md, "Admin API"). Pure functions, thread-safe.
//
//   request   {"format": "quarry"|"drizzle"|"plain", "migrations": [{"id", "sql"}, ...],
//              "force": false}
//   recorded  [{"id", "checksum", "applied_at", "format"}, ...]       applied_at: Unix ms
//   status    [{"id", "state", "checksum", "applied_checksum", "applied_at"}, ...]
//   failure   {"migration", "statement", "sql", "error"}   statement: 1-based, 0 = not one

#include <boost/json.hpp>
#include <vector>

#include "common/status.h"
#include "schema/migration_folder.h"
#include "schema/migration_groups.h"
#include "schema/migrator.h"

namespace quarry::schema {

boost::json::object MigrationRequestJson(const MigrationSet& set, bool force);
// Parses a request body; errors name the field. Sets `force` from "force" when given.
Result<MigrationSet> MigrationSetFromJson(const boost::json::object& body, bool* force);

boost::json::array RecordedJson(const std::vector<AppliedMigration>& applied);
Result<std::vector<AppliedMigration>> RecordedFromJson(const boost::json::value& value);

boost::json::array StatusesJson(const std::vector<MigrationStatus>& statuses);
boost::json::object FailureJson(const MigrationFailure& failure);

// {"name", "applied_now": [...], "recorded": [...], "migrations": [...status],
//  "error": null | {"message", "code"}}
boost::json::object NamespaceMigrationsJson(const NamespaceMigrations& ns);

}  // namespace quarry::schema
