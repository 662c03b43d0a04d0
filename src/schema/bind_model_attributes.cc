// Binder: model attributes (@@map, @@index, @@unique, @@fts, @@softDelete, @@external,
// @@noStrict, @@shardKey, @@gate, @@allow, @@deny).

#include <set>

#include "schema/binder_internal.h"

namespace quarry::schema::internal {

namespace {

// "4" (all four operations) or "1.3.4.6" (read, create, update, delete), each a digit.
std::optional<std::array<int, 4>> GateLevels(const std::string& text) {
  auto digit = [&](size_t at) { return text[at] >= '0' && text[at] <= '9'; };
  if (text.size() == 1 && digit(0)) {
    int level = text[0] - '0';
    return std::array<int, 4>{level, level, level, level};
  }
  if (text.size() != 7) return std::nullopt;
  std::array<int, 4> levels{};
  for (size_t i = 0; i < 4; ++i) {
    if (!digit(2 * i) || (i < 3 && text[2 * i + 1] != '.')) return std::nullopt;
    levels[i] = text[2 * i] - '0';
  }
  return levels;
}

}  // namespace

void Binder::BindModelAttributes(Model& model, const ast::Model& m, size_t file) {
  std::set<std::string> seen;
  std::set<std::vector<std::string>> index_keys;
  for (const auto& attr : m.attributes) {
    std::string display = "@@" + attr.name;
    static const std::set<std::string> kRepeatable = {"index", "unique", "allow", "deny"};
    static const std::set<std::string> kKnown = {"index", "unique",   "map",      "softDelete",
                                                 "fts",   "external", "noStrict", "shardKey",
                                                 "gate",  "allow",    "deny"};
    if (!kKnown.count(attr.name)) {
      Err(file, attr.pos, "unknown model attribute " + display);
      continue;
    }
    if (!kRepeatable.count(attr.name) && !seen.insert(attr.name).second) {
      Err(file, attr.pos, "duplicate attribute " + display + " on model '" + m.name + "'");
      continue;
    }
    std::vector<const ast::Expr*> args;
    if (attr.name == "index" || attr.name == "unique") {
      if (!MatchArgs(attr, file, display, {"fields"}, 1, args)) continue;
      auto names = NameList(args[0], file, display);
      if (!names) continue;
      Index index;
      index.unique = attr.name == "unique";
      index.location = Loc(file, attr.pos);
      bool ok = true;
      for (const auto& [name, pos] : *names) {
        const Field* field = model.FindField(name);
        if (field == nullptr) {
          Err(file, pos,
              "unknown field '" + name + "' in " + display + " of model '" + m.name + "'");
          ok = false;
        } else if (!field->stored()) {
          Err(file, pos,
              "cannot index relation field '" + name + "'; index its foreign-key fields");
          ok = false;
        }
        index.fields.push_back(name);
      }
      if (!ok) continue;
      std::vector<std::string> key = index.fields;
      key.insert(key.begin(), index.unique ? "unique" : "index");
      if (!index_keys.insert(key).second) {
        Err(file, attr.pos, "duplicate " + display + " on the same fields");
        continue;
      }
      model.indexes.push_back(std::move(index));
    } else if (attr.name == "map") {
      if (!MatchArgs(attr, file, display, {"name"}, 1, args)) continue;
      auto name = StringArg(args[0], file, "the table name");
      if (!name) continue;
      if (name->empty()) {
        Err(file, args[0]->pos, "the table name in @@map cannot be empty");
        continue;
      }
      model.table = *name;
    } else if (attr.name == "softDelete") {
      if (!MatchArgs(attr, file, display, {"mode"}, 0, args)) continue;
      if (args[0] != nullptr) {
        if (args[0]->kind != ast::ExprKind::kIdent || args[0]->text != "cascade") {
          Err(file, args[0]->pos,
              "expected 'cascade' in @@softDelete(...), found " + DescribeExpr(*args[0]));
          continue;
        }
        model.soft_delete_cascade = true;
      }
      const Field* deleted_at = model.FindField("deletedAt");
      if (deleted_at == nullptr) {
        Err(file, attr.pos,
            "@@softDelete needs a field 'deletedAt DateTime?' in model '" + m.name + "'");
        continue;
      }
      if (!IsScalar(deleted_at->type, ScalarType::kDateTime) || deleted_at->type.list ||
          !deleted_at->type.optional) {
        Err(file, attr.pos,
            "@@softDelete needs 'deletedAt' to be DateTime?, not " + TypeText(deleted_at->type));
        continue;
      }
      model.soft_delete = true;
    } else if (attr.name == "fts") {
      if (!MatchArgs(attr, file, display, {"fields"}, 1, args)) continue;
      auto names = NameList(args[0], file, display);
      if (!names) continue;
      bool ok = true;
      for (const auto& [name, pos] : *names) {
        const Field* field = model.FindField(name);
        if (field == nullptr) {
          Err(file, pos, "unknown field '" + name + "' in @@fts of model '" + m.name + "'");
          ok = false;
        } else if (!IsScalar(field->type, ScalarType::kText) || field->type.list) {
          Err(file, pos, "@@fts indexes Text fields; '" + name + "' is " + TypeText(field->type));
          ok = false;
        } else if (field->column == "rank" || field->column == "rowid" ||
                   field->column == model.table + "_fts") {
          Err(file, pos,
              "column '" + field->column +
                  "' cannot be in a full-text index (the "
                  "name is reserved by FTS5)");
          ok = false;
        }
      }
      if (!ok) continue;
      for (const auto& [name, pos] : *names) model.fts_fields.push_back(name);
    } else if (attr.name == "external") {
      if (!MatchArgs(attr, file, display, {}, 0, args)) continue;
      model.external = true;
    } else if (attr.name == "noStrict") {
      if (!MatchArgs(attr, file, display, {}, 0, args)) continue;
      model.strict = false;
    } else if (attr.name == "shardKey") {
      if (!MatchArgs(attr, file, display, {"field"}, 1, args)) continue;
      if (args[0]->kind != ast::ExprKind::kIdent) {
        Err(file, args[0]->pos,
            "expected a field name in @@shardKey, found " + DescribeExpr(*args[0]));
        continue;
      }
      const Field* field = model.FindField(args[0]->text);
      if (field == nullptr) {
        Err(file, args[0]->pos,
            "unknown field '" + args[0]->text + "' in @@shardKey of model '" + m.name + "'");
        continue;
      }
      if (!field->stored() || field->type.list || field->type.optional ||
          IsScalar(field->type, ScalarType::kJson) || IsScalar(field->type, ScalarType::kBlob)) {
        Err(file, args[0]->pos,
            "shard key '" + field->name +
                "' must be a required Integer, Real, Text, Boolean, "
                "DateTime or enum field, not " +
                TypeText(field->type));
        continue;
      }
      model.shard_key = field->name;
    } else if (attr.name == "gate") {
      if (!MatchArgs(attr, file, display, {"levels"}, 1, args)) continue;
      auto levels = StringArg(args[0], file, "the levels (\"R.C.U.D\")");
      if (!levels) continue;
      auto gate = GateLevels(*levels);
      if (!gate) {
        Err(file, args[0]->pos,
            "@@gate needs \"R.C.U.D\": four levels 0-9 for read, create, update and delete "
            "(\"1.3.4.6\"), or one level for all four (\"4\"); found \"" +
                *levels + "\"");
        continue;
      }
      model.gate = *gate;
    } else if (attr.name == "allow" || attr.name == "deny") {
      if (!MatchArgs(attr, file, display, {"operation", "condition", "message"}, 2, args)) {
        continue;
      }
      auto op = StringArg(args[0], file, "the operation");
      if (!op) continue;
      Policy policy;
      policy.allow = attr.name == "allow";
      policy.location = Loc(file, attr.pos);
      static const std::map<std::string, PolicyOperation> kOps = {
          {"read", PolicyOperation::kRead},
          {"create", PolicyOperation::kCreate},
          {"update", PolicyOperation::kUpdate},
          {"delete", PolicyOperation::kDelete},
          {"all", PolicyOperation::kAll}};
      auto it = kOps.find(*op);
      if (it == kOps.end()) {
        Err(file, args[0]->pos,
            "unknown operation '" + *op + "' for " + display +
                "; expected 'read', 'create', 'update', 'delete' or 'all'");
        continue;
      }
      policy.operation = it->second;
      auto condition = BindCondition(*args[1], model, file);
      if (!condition) continue;
      policy.condition = std::move(*condition);
      if (args[2] != nullptr) {
        auto message = StringArg(args[2], file, "the error message");
        if (!message) continue;
        policy.message = *message;
      }
      model.policies.push_back(std::move(policy));
    }
  }
  for (auto& index : model.indexes) {
    index.name = model.table;
    for (const auto& name : index.fields) index.name += "_" + model.FindField(name)->column;
    index.name += index.unique ? "_key" : "_idx";
  }
}

}  // namespace quarry::schema::internal
