#pragma once

// Schema groups: named sets of namespaces that share one schema (the tenant-per-database
// shape), and applying migrations to a whole group all-or-nothing.
//
// GroupStore keeps the groups in a SQLite file of their own, <data>/groups.db, owned by this
// code (the namespace metadata is storage's, untouched):
//
//   groups(name TEXT PRIMARY KEY, created_at INTEGER NOT NULL)
//   group_members(group_name TEXT REFERENCES groups(name) ON DELETE CASCADE,
//                 namespace TEXT, PRIMARY KEY (group_name, namespace))
//
// GroupStore is thread-safe. ApplyToGroup and GroupStatus are too, but callers should not run
// two ApplyToGroup calls on overlapping groups at once (the server serializes them).

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "schema/migration_folder.h"
#include "schema/migrator.h"
#include "storage/connection.h"
#include "storage/namespace_store.h"

namespace quarry::schema {

class GroupStore {
 public:
  // Opens (creating) the groups file.
  static Result<std::unique_ptr<GroupStore>> Open(const std::filesystem::path& file);

  // Creates the group, or replaces the member list of an existing one. Names follow the
  // namespace-name rules; the member list is deduplicated and may be empty.
  Status Put(std::string_view name, const std::vector<std::string>& namespaces);
  // The members in name order; kNotFound when there is no such group.
  Result<std::vector<std::string>> Members(std::string_view name);
  std::vector<std::string> List();
  // kNotFound when there is no such group.
  Status Delete(std::string_view name);

 private:
  explicit GroupStore(std::unique_ptr<storage::Connection> conn) : conn_(std::move(conn)) {}

  std::mutex mutex_;
  std::unique_ptr<storage::Connection> conn_;  // GUARDED_BY(mutex_)
};

// Called on each namespace connection before migrating with it (the server installs its SQL
// access rules there). May be empty.
using ConnectionSetup = std::function<void(storage::Connection&)>;

// Where one member of a group stands.
struct NamespaceMigrations {
  std::string ns;
  std::vector<std::string> applied_now;    // applied by this call
  std::vector<MigrationStatus> statuses;   // against the set (empty when none was given)
  std::vector<AppliedMigration> recorded;  // its tracking table
  Status status;                           // this member's error, if it had one
};

struct GroupRun {
  Status status;                 // OK when every member is up to date
  std::string phase;             // where it failed: "try" (nothing applied) or "apply"
  std::string failed_namespace;  // empty when OK
  std::optional<MigrationFailure> failure;
  std::vector<NamespaceMigrations> namespaces;  // every member, in order, after the call
};

// Applies `set`'s pending migrations to every namespace in `members`, all or nothing: first a
// rehearsal on each member (Migrator::Try: everything run, foreign keys checked, rolled back);
// if any member fails, nothing is applied anywhere and the result names the member, the
// migration, the statement and the error. Only when all pass is each member migrated for real.
// A failure in that second phase (a concurrent change between the phases, a full disk) stops
// there; the per-namespace statuses then say which members were migrated.
GroupRun ApplyToGroup(storage::NamespaceStore& store, const std::vector<std::string>& members,
                      const MigrationSet& set, const ApplyOptions& options = {},
                      const ConnectionSetup& setup = {});

// Each member's recorded migrations, and its statuses against `set` when given.
std::vector<NamespaceMigrations> GroupStatus(storage::NamespaceStore& store,
                                             const std::vector<std::string>& members,
                                             const MigrationSet* set = nullptr,
                                             const ConnectionSetup& setup = {});

}  // namespace quarry::schema
