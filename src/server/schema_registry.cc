#include "server/schema_registry.h"

#include <atomic>

#include "schema/binder.h"
#include "schema/introspect.h"

namespace quarry::server {
namespace {

Result<int64_t> SchemaVersion(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &stmt, nullptr) != SQLITE_OK) {
    return Status(ErrorCode::kSqlite, sqlite3_errmsg(db), sqlite3_extended_errcode(db));
  }
  int64_t version = 0;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    version = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return version;
}

// Introspection gives each foreign key its owning relation field only. The data API also serves
// the other side, so `include: {posts: true}` works on users: a to-many (or, for a unique
// foreign key, to-one) field on the referenced model, named after the referencing model (then
// `<model>_<field>` when that name is taken or several relations come from one model).
void AddBackRelations(schema::Schema& schema) {
  struct Back {
    std::string target;
    schema::Field field;
  };
  std::vector<Back> backs;
  for (const schema::Model& m : schema.models) {
    int from_here = 0;
    for (const schema::Field& f : m.fields) {
      from_here += f.relation && f.relation->owning ? 1 : 0;
    }
    for (const schema::Field& f : m.fields) {
      if (!f.relation || !f.relation->owning) {
        continue;
      }
      const schema::Model* target = schema.FindModel(f.relation->target_model);
      if (target == nullptr) {
        continue;
      }
      std::string name = m.name;
      if (from_here > 1 || target->FindField(name) != nullptr) {
        name = m.name + "_" + f.name;
      }
      if (target->FindField(name) != nullptr) {
        continue;
      }
      bool unique_fk =
          f.relation->fields.size() == 1 && m.FindField(f.relation->fields[0]) &&
          (m.FindField(f.relation->fields[0])->unique || m.FindField(f.relation->fields[0])->id);
      schema::Field back;
      back.name = name;
      back.type.kind = schema::FieldType::Kind::kModel;
      back.type.name = m.name;
      back.type.list = !unique_fk;
      back.type.optional = unique_fk;
      back.relation = schema::Relation{};
      back.relation->target_model = m.name;
      back.relation->owning = false;
      back.relation->back_field = f.name;
      backs.push_back({target->name, std::move(back)});
    }
  }
  for (Back& b : backs) {
    for (schema::Model& m : schema.models) {
      if (m.name == b.target) {
        m.fields.push_back(std::move(b.field));
      }
    }
  }
}

}  // namespace

SchemaRegistry::SchemaRegistry(storage::NamespaceStore& store, RecordedSchemaLoader load_recorded)
    : store_(store), load_recorded_(std::move(load_recorded)) {}

Result<std::shared_ptr<const ServedSchema>> SchemaRegistry::Get(const std::string& ns,
                                                                storage::Connection& conn) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(ns);
    if (it != entries_.end()) {
      if (it->second->recorded) {
        return it->second;
      }
      QUARRY_ASSIGN_OR_RETURN(int64_t version, SchemaVersion(conn.handle()));
      if (version == it->second->schema_version) {
        return it->second;
      }
    }
  }
  QUARRY_ASSIGN_OR_RETURN(std::shared_ptr<const ServedSchema> loaded, Load(ns));
  std::lock_guard<std::mutex> lock(mutex_);
  entries_[ns] = loaded;
  return loaded;
}

void SchemaRegistry::Invalidate(const std::string& ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.erase(ns);
}

Result<std::shared_ptr<const ServedSchema>> SchemaRegistry::Load(const std::string& ns) {
  QUARRY_ASSIGN_OR_RETURN(std::shared_ptr<storage::Database> db, store_.Get(ns));
  QUARRY_ASSIGN_OR_RETURN(storage::ConnectionLease lease,
                          db->Acquire(storage::AccessMode::kSystem));
  static std::atomic<uint64_t> generations{0};
  auto served = std::make_shared<ServedSchema>();
  served->generation = ++generations;
  QUARRY_ASSIGN_OR_RETURN(served->schema_version, SchemaVersion(lease->handle()));
  std::optional<std::string> recorded;
  if (load_recorded_) {
    QUARRY_ASSIGN_OR_RETURN(recorded, load_recorded_(lease->handle()));
  }
  if (recorded) {
    const std::string path = ns + ".schema";
    auto bound = schema::LoadAndBindSchema(path, [&](const std::string& p) -> Result<std::string> {
      if (p != path) {
        return Status(ErrorCode::kNotFound, "a recorded schema has no imports");
      }
      return *recorded;
    });
    if (!bound.ok()) {
      return Status(ErrorCode::kInternal, "the recorded schema of namespace '" + ns +
                                              "' no longer binds: " + bound.status().message());
    }
    served->schema = std::move(*bound);
    served->recorded = true;
    return std::shared_ptr<const ServedSchema>(std::move(served));
  }
  QUARRY_ASSIGN_OR_RETURN(schema::IntrospectedSchema introspected,
                          schema::IntrospectSchema(lease->handle()));
  served->schema = std::move(introspected.schema);
  // Introspection finds tables the model cannot serve (no primary key): leave them out.
  std::erase_if(served->schema.models,
                [](const schema::Model& m) { return m.PrimaryKey() == nullptr; });
  for (schema::Model& m : served->schema.models) {
    std::erase_if(m.fields, [&](const schema::Field& f) {
      return f.relation && served->schema.FindModel(f.relation->target_model) == nullptr;
    });
  }
  AddBackRelations(served->schema);
  return std::shared_ptr<const ServedSchema>(std::move(served));
}

}  // namespace quarry::server
