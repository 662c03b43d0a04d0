#pragma once

// The admin API's migration and schema-group routes (see docs/migrations.md):
//
//   GET  /namespaces/<name>/migrations         what the namespace has recorded
//   POST /namespaces/<name>/migrations         apply a folder's pending migrations
//   POST /namespaces/<name>/migrations/down    undo the last N (Quarry format)
//   GET  /groups                               list schema groups
//   POST /groups                               create a group or replace its members
//   GET  /groups/<group>                       its members and what each has recorded
//   DELETE /groups/<group>                     forget the group (namespaces stay)
//   GET  /groups/<group>/migrations            each member's recorded migrations
//   POST /groups/<group>/migrations            apply to every member, all or nothing
//
// The client sends the migration files' contents (the server may be remote); the server never
// reads a migrations folder. Groups live in <data>/groups.db. Thread-safe: applies to one group
// at a time are serialized; migrations run on the calling (worker) thread with the namespace's
// read-write SQL access rules installed on the connection.

#include <filesystem>
#include <memory>
#include <mutex>

#include "schema/migration_groups.h"
#include "server/routes.h"
#include "server/schema_changes.h"
#include "storage/namespace_store.h"

namespace quarry::server {

// The schema groups of one data folder (<data>/groups.db), opened on first use, and the lock
// that lets one group apply run at a time. Owned by the server; thread-safe.
class GroupStores {
 public:
  explicit GroupStores(std::filesystem::path file);
  ~GroupStores();
  Result<schema::GroupStore*> Get();
  std::mutex& apply_mutex() { return apply_mutex_; }

 private:
  const std::filesystem::path file_;
  std::mutex mutex_;
  std::unique_ptr<schema::GroupStore> store_;  // GUARDED_BY(mutex_)
  std::mutex apply_mutex_;
};

// Adds the migration and group routes listed above. A namespace that applied or undid a
// migration is notified to `schema_changes` after it committed.
void AddMigrationRoutes(AdminRoutes& routes, storage::NamespaceStore& store, GroupStores& groups,
                        SchemaChanges& schema_changes);

}  // namespace quarry::server
