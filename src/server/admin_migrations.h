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

#include <optional>
#include <string_view>

#include "http/message.h"
#include "storage/namespace_store.h"

namespace quarry::server {

// The response for a migration or group route; nullopt when `path` (after "/admin/v1") is not
// one, so the caller goes on routing. The caller has checked for an admin token.
std::optional<http::Response> HandleMigrationAdmin(const http::Request& request,
                                                   std::string_view path,
                                                   storage::NamespaceStore& store);

}  // namespace quarry::server
