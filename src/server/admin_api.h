#pragma once

// AdminApi: the admin API under /admin/v1 (docs/http-api.md) as one route table, and the state
// its routes share (the schema groups). Only an admin token for all namespaces may use it: it
// creates and deletes namespaces and mints tokens. A namespace name in the path that cannot
// exist is a 400, before any route runs. Thread-safe once constructed.

#include <string_view>

#include "auth/key_pair.h"
#include "auth/token.h"
#include "http/message.h"
#include "server/admin_migrations.h"
#include "server/routes.h"
#include "server/schema_changes.h"
#include "server/webhooks.h"
#include "storage/namespace_store.h"

namespace quarry::server {

class AdminApi {
 public:
  // `store`, `key`, `schema_changes` and `hooks` must outlive the API; every route that may
  // change a namespace's schema notifies `schema_changes` after it committed. `hooks` null: a
  // server without a change log, whose webhook routes say so.
  AdminApi(storage::NamespaceStore& store, const auth::KeyPair& key, SchemaChanges& schema_changes,
           Webhooks* hooks);

  // Answers one admin request; `path` starts after "/admin/v1".
  http::Response Handle(const http::Request& request, std::string_view path,
                        const auth::Claims& claims) const;

 private:
  GroupStores groups_;
  AdminRoutes routes_;
};

}  // namespace quarry::server
