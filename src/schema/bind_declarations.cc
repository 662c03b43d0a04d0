// Binder: declarations of models and enums, type names, fields, and the table and column
// names they give (see binder_internal.h).

#include <set>

#include "schema/binder_internal.h"

namespace quarry::schema::internal {

void Binder::CollectDeclarations() {
  std::map<std::string, SourceLocation> names;
  auto declare = [&](const std::string& name, size_t file, ast::Pos pos, const char* what) {
    if (ScalarTypeNamed(name)) {
      Err(file, pos,
          std::string("cannot declare ") + what + " '" + name +
              "': it is the name of a built-in type");
      return false;
    }
    auto [it, inserted] = names.emplace(name, Loc(file, pos));
    if (!inserted) {
      Err(file, pos,
          std::string("duplicate declaration of '") + name + "': already declared at " +
              Where(it->second));
      return false;
    }
    return true;
  };
  // Enums first, so that pointers into schema_.models stay valid once models are added.
  size_t model_count = 0;
  for (size_t f = 0; f < program_.files.size(); ++f) {
    for (const auto& decl : program_.files[f].declarations) {
      if (const auto* e = std::get_if<ast::Enum>(&decl)) {
        if (!declare(e->name, f, e->name_pos, "enum")) continue;
        Enum out;
        out.name = e->name;
        out.location = Loc(f, e->name_pos);
        std::set<std::string> seen;
        for (const auto& value : e->values) {
          if (!seen.insert(value.name).second) {
            Err(f, value.pos, "duplicate value '" + value.name + "' in enum '" + e->name + "'");
            continue;
          }
          out.values.push_back(value.name);
        }
        if (e->values.empty()) {
          Err(f, e->name_pos, "enum '" + e->name + "' has no values");
        }
        schema_.enums.push_back(std::move(out));
      } else if (std::holds_alternative<ast::Model>(decl)) {
        ++model_count;
      }
    }
  }
  schema_.models.reserve(model_count);
  for (size_t f = 0; f < program_.files.size(); ++f) {
    for (const auto& decl : program_.files[f].declarations) {
      if (const auto* m = std::get_if<ast::Model>(&decl)) {
        if (!declare(m->name, f, m->name_pos, "model")) continue;
        Model model;
        model.name = m->name;
        model.table = m->name;
        model.location = Loc(f, m->name_pos);
        schema_.models.push_back(std::move(model));
        models_.push_back(ModelEntry{&schema_.models.back(), m, f});
      }
    }
  }
}

// Resolves a field's type name.
std::optional<FieldType> Binder::ResolveType(const ast::Field& f, size_t file) {
  FieldType type;
  type.optional = f.optional;
  type.list = f.list;
  if (auto scalar = ScalarTypeNamed(f.type_name)) {
    type.kind = FieldType::Kind::kScalar;
    type.scalar = *scalar;
    if (f.list && (*scalar == ScalarType::kJson || *scalar == ScalarType::kBlob)) {
      Err(file, f.type_pos,
          std::string("lists of ") + ScalarTypeName(*scalar) +
              " are not supported; use Json for nested data");
      return std::nullopt;
    }
  } else if (schema_.FindEnum(f.type_name)) {
    type.kind = FieldType::Kind::kEnum;
    type.name = f.type_name;
  } else if (schema_.FindModel(f.type_name)) {
    type.kind = FieldType::Kind::kModel;
    type.name = f.type_name;
  } else {
    Err(file, f.type_pos,
        "unknown type '" + f.type_name +
            "'; expected Integer, Real, Text, Boolean, DateTime, Json, Blob, an enum or a "
            "model");
    return std::nullopt;
  }
  return type;
}

void Binder::BindFields(Model& model, const ast::Model& m, size_t file) {
  std::map<std::string, SourceLocation> names;
  const ast::Field* first_id = nullptr;
  for (const auto& f : m.fields) {
    auto [it, inserted] = names.emplace(f.name, Loc(file, f.pos));
    if (!inserted) {
      Err(file, f.pos,
          "duplicate field '" + f.name + "' in model '" + m.name + "': already declared at " +
              Where(it->second));
      continue;
    }
    auto type = ResolveType(f, file);
    if (!type) continue;
    Field field;
    field.name = f.name;
    field.type = *type;
    field.location = Loc(file, f.pos);
    if (field.stored()) field.column = f.name;
    BindFieldAttributes(field, f, file);
    if (field.id) {
      if (first_id != nullptr) {
        Err(file, f.pos,
            "model '" + m.name + "' has more than one @id field ('" + first_id->name + "' and '" +
                f.name + "'); composite primary keys are not supported");
      }
      first_id = &f;
    }
    model.fields.push_back(std::move(field));
  }
  ResolveSiblingDefaults(model, file);
  bool id_attribute = false;
  for (const auto& f : m.fields) {
    for (const auto& attr : f.attributes) id_attribute = id_attribute || attr.name == "id";
  }
  if (first_id == nullptr && !id_attribute && names.size() == m.fields.size()) {
    Err(file, m.name_pos, "model '" + m.name + "' has no @id field");
  }
}

void Binder::CheckTables() {
  std::map<std::string, SourceLocation> tables;
  for (auto& [model, m, file] : models_) {
    std::string lower = model->table;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.rfind("sqlite_", 0) == 0) {
      Err(file, m->name_pos,
          "table name '" + model->table +
              "' is reserved: names starting with 'sqlite_' belong to SQLite");
      continue;
    }
    if (model->external) continue;
    // SQLite compares table names case-insensitively.
    auto [it, inserted] = tables.emplace(lower, Loc(file, m->name_pos));
    if (!inserted) {
      Err(file, m->name_pos,
          "model '" + model->name + "' uses table '" + model->table + "', already used at " +
              Where(it->second));
    }
    if (!model->fts_fields.empty()) {
      std::string fts = lower + "_fts";
      auto [fit, finserted] = tables.emplace(fts, Loc(file, m->name_pos));
      if (!finserted) {
        Err(file, m->name_pos,
            "the full-text table '" + model->table + "_fts' of model '" + model->name +
                "' clashes with the table declared at " + Where(fit->second));
      }
    }
    std::map<std::string, std::string> columns;
    for (const auto& field : model->fields) {
      if (!field.stored()) continue;
      std::string column = field.column;
      for (auto& c : column) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto [cit, cinserted] = columns.emplace(column, field.name);
      if (!cinserted) {
        Err(file, ast::Pos{field.location.line, field.location.column},
            "field '" + field.name + "' uses column '" + field.column +
                "', already used by field '" + cit->second + "'");
      }
    }
  }
}

}  // namespace quarry::schema::internal
