#include "schema/diff.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "schema/ddl.h"
#include "schema/introspect.h"
#include "storage/statement.h"

namespace quarry::schema {

namespace {

// A table as its DDL shows it.
struct TableShape {
  std::vector<std::string> columns;         // SQL names, in order
  std::map<std::string, std::string> defs;  // column -> its definition
  std::vector<std::string> foreign_keys;    // FOREIGN KEY lines
  bool strict = true;
  std::map<std::string, std::string> indexes;  // name -> CREATE INDEX statement
  std::vector<std::string> fts;                // FTS table and trigger statements
};

// The name at the start of `def`, written by QuoteIdentifier.
std::string LeadingIdentifier(const std::string& def) {
  std::string out;
  for (size_t i = 1; i < def.size(); ++i) {
    if (def[i] == '"') {
      if (i + 1 < def.size() && def[i + 1] == '"') {
        out += '"';
        ++i;
        continue;
      }
      break;
    }
    out += def[i];
  }
  return out;
}

TableShape ShapeOf(const Model& model, const Schema& schema) {
  TableShape shape;
  std::vector<std::string> ddl = ModelDdl(model, schema);
  for (size_t s = 0; s < ddl.size(); ++s) {
    const std::string& statement = ddl[s];
    if (s == 0) {
      size_t begin = 0;
      std::vector<std::string> lines;
      for (size_t end; (end = statement.find('\n', begin)) != std::string::npos; begin = end + 1) {
        lines.push_back(statement.substr(begin, end - begin));
      }
      shape.strict = statement.substr(begin) == ") STRICT";
      for (size_t i = 1; i < lines.size(); ++i) {
        std::string line = lines[i].substr(2);
        if (!line.empty() && line.back() == ',') line.pop_back();
        if (line.rfind("FOREIGN KEY", 0) == 0) {
          const std::string no_action = " ON DELETE NO ACTION";
          if (line.ends_with(no_action)) line.resize(line.size() - no_action.size());
          shape.foreign_keys.push_back(line);
        } else {
          std::string name = LeadingIdentifier(line);
          shape.columns.push_back(name);
          shape.defs[name] = line;
        }
      }
    } else if (statement.rfind("CREATE INDEX ", 0) == 0 ||
               statement.rfind("CREATE UNIQUE INDEX ", 0) == 0) {
      size_t at = statement.find("INDEX ") + 6;
      shape.indexes[LeadingIdentifier(statement.substr(at))] = statement;
    } else {
      shape.fts.push_back(statement);
    }
  }
  return shape;
}

const Field* FieldByColumn(const Model& model, const std::string& column) {
  for (const Field& f : model.fields) {
    if (f.stored() && f.column == column) return &f;
  }
  return nullptr;
}

bool ExpressionDefault(const Field& field) {
  if (!field.default_value) return false;
  auto kind = field.default_value->kind;
  return kind == DefaultValue::Kind::kNow || kind == DefaultValue::Kind::kUuid ||
         kind == DefaultValue::Kind::kUlid;
}

// A default in the DDL: the ones the data API fills in (nanoid(), auth().claim, a sibling
// field) are not there, so for SQLite the column has none.
bool HasSqlDefault(const Field& field) {
  return field.default_value && field.default_value->in_ddl();
}

bool HasNonNullDefault(const Field& field) {
  return HasSqlDefault(field) && !(field.default_value->kind == DefaultValue::Kind::kLiteral &&
                                   field.default_value->literal.kind == Literal::Kind::kNull);
}

bool UniqueColumn(const Model& model, const Field& field) {
  return field.unique && !field.id && !model.soft_delete;
}

// SQLite's rules for ALTER TABLE ADD COLUMN.
bool CanAddColumn(const Model& model, const Field& field) {
  if (field.id || UniqueColumn(model, field) || ExpressionDefault(field)) return false;
  if (field.generated) return !field.generated->stored && field.type.optional;
  return field.type.optional || HasNonNullDefault(field);
}

// SQLite's rules for ALTER TABLE DROP COLUMN, as far as the model tells.
bool CanDropColumn(const Model& model, const Field& field) {
  if (field.id || UniqueColumn(model, field)) return false;
  for (const Field& f : model.fields) {
    if (f.generated) return false;  // might refer to it
  }
  return true;
}

// A count from `db`, or nullopt without one (or when the query fails).
std::optional<int64_t> Count(sqlite3* db, const std::string& sql) {
  if (db == nullptr) return std::nullopt;
  Result<storage::Statement> stmt = storage::Statement::Prepare(db, sql);
  if (!stmt.ok() || sqlite3_step(stmt->get()) != SQLITE_ROW) {
    return std::nullopt;
  }
  return sqlite3_column_int64(stmt->get(), 0);
}

// "1 row", "5 rows".
std::string Rows(int64_t n) { return std::to_string(n) + (n == 1 ? " row" : " rows"); }

class Planner {
 public:
  Planner(const Schema& live, const Schema& target, sqlite3* db)
      : live_(live), target_(target), db_(db) {}

  Result<MigrationPlan> Run(const DiffOptions& options) {
    std::set<std::string> target_tables;
    for (const Model& m : target_.models) target_tables.insert(m.table);
    for (const Model& m : live_.models) {
      if (target_tables.count(m.table) != 0) continue;
      DropTable(m);
    }
    for (const Model& m : target_.models) {
      if (m.external) continue;
      const Model* old = nullptr;
      for (const Model& l : live_.models) {
        if (l.table == m.table) old = &l;
      }
      if (old == nullptr) {
        for (auto& statement : ModelDdl(m, target_)) plan_.statements.push_back(statement);
        plan_.changes.push_back("create table " + m.table);
      } else {
        ChangeTable(*old, m);
      }
    }
    if (!problems_.empty()) {
      std::string message = "the schema cannot be applied to this database:";
      for (const auto& p : problems_) message += "\n  " + p;
      return Status(ErrorCode::kInvalidArgument, message);
    }
    if (!plan_.destructive.empty() && !options.allow_data_loss) {
      std::string message = "the migration would lose data; refusing without --allow-data-loss:";
      for (const auto& d : plan_.destructive) message += "\n  " + d;
      return Status(ErrorCode::kInvalidArgument, message);
    }
    return plan_;
  }

 private:
  void DropTable(const Model& m) {
    if (!m.fts_fields.empty()) {
      plan_.statements.push_back("DROP TABLE " + QuoteIdentifier(m.table + "_fts"));
    }
    plan_.statements.push_back("DROP TABLE " + QuoteIdentifier(m.table));
    plan_.changes.push_back("drop table " + m.table);
    std::optional<int64_t> n = Count(db_, "SELECT count(*) FROM " + QuoteIdentifier(m.table));
    plan_.destructive.push_back("drop table " + m.table + (n ? " (" + Rows(*n) + ")" : ""));
  }

  void DropColumn(const Model& m, const std::string& column) {
    std::optional<int64_t> n = Count(db_, "SELECT count(*) FROM " + QuoteIdentifier(m.table) +
                                              " WHERE " + QuoteIdentifier(column) + " IS NOT NULL");
    std::string what = "drop column " + m.table + "." + column;
    plan_.destructive.push_back(
        what + (n ? " (" + Rows(*n) + (*n == 1 ? " has" : " have") + " a value)" : ""));
  }

  // CREATE TRIGGER statements on `table` other than the FTS sync triggers Quarry manages.
  std::vector<std::string> UserTriggers(const std::string& table) {
    std::vector<std::string> out;
    if (db_ == nullptr) {
      return out;
    }
    Result<storage::Statement> prepared = storage::Statement::Prepare(
        db_,
        "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND "
        "tbl_name = ?1 AND sql IS NOT NULL ORDER BY name");
    if (!prepared.ok()) {
      return out;
    }
    sqlite3_stmt* stmt = prepared->get();
    sqlite3_bind_text(stmt, 1, table.c_str(), -1, SQLITE_TRANSIENT);
    std::string fts_prefix = table + "_fts_";
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string name = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      if (name.rfind(fts_prefix, 0) == 0) {
        continue;
      }
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
    }
    return out;
  }

  void DropFts(const Model& old) {
    std::string fts = old.table + "_fts";
    for (const char* suffix : {"_insert", "_delete", "_update"}) {
      plan_.statements.push_back("DROP TRIGGER IF EXISTS " + QuoteIdentifier(fts + suffix));
    }
    plan_.statements.push_back("DROP TABLE IF EXISTS " + QuoteIdentifier(fts));
  }

  void CreateFts(const Model& m, const TableShape& shape) {
    for (const auto& statement : shape.fts) plan_.statements.push_back(statement);
    std::string fts = QuoteIdentifier(m.table + "_fts");
    plan_.statements.push_back("INSERT INTO " + fts + " (" + fts + ") VALUES ('rebuild')");
  }

  void ChangeTable(const Model& old, const Model& m) {
    TableShape from = ShapeOf(old, live_);
    TableShape to = ShapeOf(m, target_);
    std::vector<std::string> dropped, added, common_from, common_to, changed;
    for (const auto& c : from.columns) {
      (to.defs.count(c) ? common_from : dropped).push_back(c);
    }
    for (const auto& c : to.columns) {
      (from.defs.count(c) ? common_to : added).push_back(c);
    }
    for (const auto& c : common_to) {
      if (from.defs[c] != to.defs[c]) changed.push_back(c);
    }
    bool reordered = common_from != common_to;
    bool appended = std::equal(common_to.begin(), common_to.end(), to.columns.begin());
    std::vector<std::string> reasons;
    for (const auto& c : changed) reasons.push_back("column " + c + " changed");
    if (reordered || !appended) reasons.push_back("columns reordered");
    if (from.foreign_keys != to.foreign_keys) reasons.push_back("foreign keys changed");
    if (from.strict != to.strict) reasons.push_back(to.strict ? "now STRICT" : "no longer STRICT");
    for (const auto& c : added) {
      if (!CanAddColumn(m, *FieldByColumn(m, c))) {
        reasons.push_back("column " + c + " cannot be added by ALTER TABLE");
      }
    }
    for (const auto& c : dropped) {
      if (!CanDropColumn(old, *FieldByColumn(old, c))) {
        reasons.push_back("column " + c + " cannot be dropped by ALTER TABLE");
      }
    }
    for (const auto& c : dropped) DropColumn(old, c);
    bool fts_changed = from.fts != to.fts;
    const std::string table = QuoteIdentifier(m.table);

    if (!reasons.empty()) {
      std::string why;
      for (const auto& r : reasons) why += (why.empty() ? "" : ", ") + r;
      plan_.changes.push_back("rebuild table " + m.table + " (" + why + ")");
      for (const auto& c : added) {
        const Field* f = FieldByColumn(m, c);
        bool required = !f->type.optional && !HasSqlDefault(*f) && !f->generated &&
                        !(f->id && f->type.scalar == ScalarType::kInteger);
        if (!required) continue;
        std::optional<int64_t> n = Count(db_, "SELECT count(*) FROM " + table);
        if (n && *n > 0) {
          problems_.push_back("cannot add required column " + m.table + "." + c +
                              " without a default: the table has " + Rows(*n));
        }
      }
      if (!from.fts.empty()) DropFts(old);
      Model staged = m;
      staged.table = "_quarry_new_" + m.table;
      staged.indexes.clear();
      staged.fts_fields.clear();
      staged.soft_delete = false;
      std::string create = ModelDdl(m, target_)[0];
      create = "CREATE TABLE " + QuoteIdentifier(staged.table) +
               create.substr(std::string("CREATE TABLE ").size() + table.size());
      plan_.statements.push_back(create);
      std::string columns;
      std::string selects;
      for (const auto& c : common_to) {
        const Field* a = FieldByColumn(old, c);
        const Field* b = FieldByColumn(m, c);
        if (b->generated) {
          // The new column computes its values: what the old one stored is replaced.
          if (!a->generated) {
            std::optional<int64_t> n = Count(db_, "SELECT count(*) FROM " + table + " WHERE " +
                                                      QuoteIdentifier(c) + " IS NOT NULL");
            plan_.destructive.push_back(
                "replace column " + m.table + "." + c + " by a generated column" +
                (n ? " (" + Rows(*n) + (*n == 1 ? " has" : " have") + " a stored value)" : ""));
          }
          continue;
        }
        // A column that was generated is copied too: its values can be selected.
        std::string source = QuoteIdentifier(c);
        std::string new_type = SqlType(b->type);
        if (!a->generated && new_type != SqlType(a->type)) {
          // A type change loses the values the conversion changes (1.5 -> 1, 'abc' -> 0);
          // comparing with the column's affinity lets lossless ones ('42' -> 42) through.
          std::string cast = "CAST(" + source + " AS " + new_type + ")";
          std::optional<int64_t> n =
              Count(db_, "SELECT count(*) FROM " + table + " WHERE " + cast + " IS NOT " + source);
          if (n && *n > 0) {
            plan_.destructive.push_back("change column " + m.table + "." + c + " from " +
                                        SqlType(a->type) + " to " + new_type + " (" + Rows(*n) +
                                        (*n == 1 ? " changes" : " change") + " value)");
            source = cast;  // applied only with --allow-data-loss
          }
        }
        columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(c);
        selects += (selects.empty() ? "" : ", ") + source;
      }
      if (!columns.empty()) {
        plan_.statements.push_back("INSERT INTO " + QuoteIdentifier(staged.table) + " (" + columns +
                                   ") SELECT " + selects + " FROM " + table);
      }
      if (create.find("AUTOINCREMENT") != std::string::npos) {
        // DROP TABLE forgets the AUTOINCREMENT counter; keep the higher one so ids of deleted
        // rows are never handed out again.
        std::string staged_name = QuoteString(staged.table);
        std::string old_name = QuoteString(m.table);
        plan_.statements.push_back(
            "INSERT INTO sqlite_sequence (name, seq) SELECT " + staged_name +
            ", seq FROM sqlite_sequence WHERE name = " + old_name +
            " AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = " + staged_name + ")");
        plan_.statements.push_back(
            "UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence "
            "WHERE name = " +
            old_name + "), 0)) WHERE name = " + staged_name);
      }
      // DROP TABLE also drops the table's triggers: recreate the ones Quarry does not manage.
      std::vector<std::string> triggers = UserTriggers(m.table);
      plan_.statements.push_back("DROP TABLE " + table);
      // Without legacy_alter_table the rename re-parses every view and trigger that names the
      // table, which fails while the old table is gone (SQLite's documented rebuild procedure).
      plan_.statements.push_back("PRAGMA legacy_alter_table = ON");
      plan_.statements.push_back("ALTER TABLE " + QuoteIdentifier(staged.table) + " RENAME TO " +
                                 table);
      plan_.statements.push_back("PRAGMA legacy_alter_table = OFF");
      for (const auto& [name, statement] : to.indexes) plan_.statements.push_back(statement);
      if (!to.fts.empty()) CreateFts(m, to);
      for (auto& trigger : triggers) plan_.statements.push_back(std::move(trigger));
      return;
    }

    if (fts_changed && !from.fts.empty()) DropFts(old);
    for (const auto& [name, statement] : from.indexes) {
      auto it = to.indexes.find(name);
      if (it == to.indexes.end() || it->second != statement) {
        plan_.statements.push_back("DROP INDEX " + QuoteIdentifier(name));
        if (it == to.indexes.end()) plan_.changes.push_back("drop index " + name);
      }
    }
    for (const auto& c : dropped) {
      plan_.statements.push_back("ALTER TABLE " + table + " DROP COLUMN " + QuoteIdentifier(c));
      plan_.changes.push_back("drop column " + m.table + "." + c);
    }
    for (const auto& c : added) {
      plan_.statements.push_back("ALTER TABLE " + table + " ADD COLUMN " + to.defs[c]);
      plan_.changes.push_back("add column " + m.table + "." + c);
    }
    for (const auto& [name, statement] : to.indexes) {
      auto it = from.indexes.find(name);
      if (it == from.indexes.end() || it->second != statement) {
        plan_.statements.push_back(statement);
        plan_.changes.push_back(std::string(it == from.indexes.end() ? "create" : "recreate") +
                                " index " + name);
      }
    }
    if (fts_changed && !to.fts.empty()) {
      CreateFts(m, to);
      plan_.changes.push_back("recreate full-text table " + m.table + "_fts");
    } else if (fts_changed) {
      plan_.changes.push_back("drop full-text table " + m.table + "_fts");
    }
  }

  const Schema& live_;
  const Schema& target_;
  sqlite3* db_;
  MigrationPlan plan_;
  std::vector<std::string> problems_;
};

Status Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    return Status(ErrorCode::kSqlite, message);
  }
  return Status::Ok();
}

}  // namespace

Result<MigrationPlan> DiffSchemas(const Schema& live, const Schema& target,
                                  const DiffOptions& options, sqlite3* db) {
  return Planner(live, target, db).Run(options);
}

namespace {

// Runs the plan's statements and the foreign-key check inside the caller's transaction.
Status RunPlanStatements(sqlite3* db, const MigrationPlan& plan) {
  for (size_t i = 0; i < plan.statements.size(); ++i) {
    Status s = Exec(db, plan.statements[i]);
    if (!s.ok()) {
      return Status(ErrorCode::kSqlite, "statement " + std::to_string(i + 1) + " failed: " +
                                            s.message() + "\n  " + plan.statements[i]);
    }
  }
  std::optional<int64_t> violations = Count(db, "SELECT count(*) FROM pragma_foreign_key_check");
  if (violations && *violations > 0) {
    return Status(ErrorCode::kSqlite,
                  "foreign key check failed: " + std::to_string(*violations) + " rows violate");
  }
  return Status::Ok();
}

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT with foreign keys off (SQLite's rebuild
// procedure), rolling back on any failure and restoring the foreign-key setting on every path.
Status InWriteTransaction(sqlite3* db, const std::function<Status()>& body) {
  if (sqlite3_get_autocommit(db) == 0) {
    return Status(ErrorCode::kInvalidArgument, "the connection is already in a transaction");
  }
  std::optional<int64_t> foreign_keys = Count(db, "PRAGMA foreign_keys");
  QUARRY_RETURN_IF_ERROR(Exec(db, "PRAGMA foreign_keys = OFF"));
  Status status = Exec(db, "BEGIN IMMEDIATE");
  if (status.ok()) status = body();
  if (status.ok()) status = Exec(db, "COMMIT");
  if (!status.ok() && sqlite3_get_autocommit(db) == 0) Exec(db, "ROLLBACK").PermitUncheckedError();
  if (foreign_keys && *foreign_keys != 0) {
    Exec(db, "PRAGMA foreign_keys = ON").PermitUncheckedError();
  }
  return status;
}

}  // namespace

Status ApplyPlan(sqlite3* db, const MigrationPlan& plan) {
  return InWriteTransaction(db, [&] { return RunPlanStatements(db, plan); });
}

Result<MigrationPlan> PushSchema(sqlite3* db, const Schema& target, const DiffOptions& options,
                                 std::vector<std::string>* warnings,
                                 const std::function<Status()>& before_commit) {
  MigrationPlan plan;
  Status status = InWriteTransaction(db, [&]() -> Status {
    // Introspected under the write lock: nobody changes the schema between plan and apply.
    QUARRY_ASSIGN_OR_RETURN(IntrospectedSchema live, IntrospectSchema(db));
    if (warnings != nullptr) {
      *warnings = std::move(live.warnings);
    }
    QUARRY_ASSIGN_OR_RETURN(plan, DiffSchemas(live.schema, target, options, db));
    QUARRY_RETURN_IF_ERROR(RunPlanStatements(db, plan));
    return before_commit ? before_commit() : Status::Ok();
  });
  if (!status.ok()) {
    return status;
  }
  return plan;
}

}  // namespace quarry::schema
