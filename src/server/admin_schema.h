#pragma once

// The admin API's schema routes, which let the CLI compare a schema with a namespace on the
// server (`quarry migrate push|verify|create --schema --db`, `quarry schema introspect --db`;
// see docs/migrations.md):
//
//   GET  /namespaces/<name>/schema        the namespace's schema: the recorded one
//                                         (schema/recorded_schema.h) when there is one, else
//                                         the live database as schema text, plus warnings;
//                                         ?source=live always introspects
//   POST /namespaces/<name>/schema/plan   the plan from the database to a posted schema
//   POST /namespaces/<name>/schema/push   apply that plan and record the posted schema, in one
//                                         transaction; notifies SchemaChanges
//
// POST bodies are {"schema": "<text>", "allow_data_loss": bool}. The text is one
// self-contained schema file: the server follows no imports (the CLI loads the files locally
// and sends them merged into one, schema::FormatProgram). The plan runs on the calling (worker)
// thread with the namespace's read-write SQL access rules installed on the connection.

#include "server/routes.h"
#include "server/schema_changes.h"
#include "storage/namespace_store.h"

namespace quarry::server {

// Adds the schema routes listed above.
void AddSchemaRoutes(AdminRoutes& routes, storage::NamespaceStore& store,
                     SchemaChanges& schema_changes);

}  // namespace quarry::server
