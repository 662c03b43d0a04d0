#pragma once

// SchemaRegistry: the schema the data API serves for each namespace, bound once and shared.
//
// A namespace with a recorded schema (quarry migrate push / apply, see
// schema/recorded_schema.h) serves that schema, with its policies; the entry stays until
// Invalidate (called whenever a schema is recorded, a namespace is deleted or forked). A
// namespace without one serves its tables as introspected, to service tokens only; that entry
// is re-read whenever the database's schema changes (PRAGMA schema_version), so DDL sent over
// Hrana is seen at once. Thread-safe.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "schema/model.h"
#include "storage/namespace_store.h"

namespace quarry::server {

struct ServedSchema {
  schema::Schema schema;
  bool recorded = false;  // false: introspected tables, no policies, service tokens only
  int64_t schema_version = 0;
  uint64_t generation = 0;  // unique per load: what cached plans are keyed by
};

class SchemaRegistry {
 public:
  // Reads a namespace's recorded schema text (nullopt when none) through a system connection.
  using RecordedSchemaLoader = std::function<Result<std::optional<std::string>>(sqlite3*)>;

  SchemaRegistry(storage::NamespaceStore& store, RecordedSchemaLoader load_recorded);

  // The schema namespace `ns` serves. `conn` is a connection of `ns` the caller holds (used to
  // check an introspected entry is current).
  Result<std::shared_ptr<const ServedSchema>> Get(const std::string& ns, storage::Connection& conn);
  void Invalidate(const std::string& ns);

 private:
  Result<std::shared_ptr<const ServedSchema>> Load(const std::string& ns);

  storage::NamespaceStore& store_;
  RecordedSchemaLoader load_recorded_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const ServedSchema>> entries_;  // GUARDED_BY
};

}  // namespace quarry::server
