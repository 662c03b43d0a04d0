// Binder: relations between models: the owning side's fields and references, the
// back-relations, and the keys they point at.

#include <set>

#include "schema/binder_internal.h"

namespace quarry::schema::internal {
namespace {

// The field of `model` that was bound from `f` (nullptr when binding it failed).
Field* BoundField(Model& model, const ast::Field& f) {
  Field* field = nullptr;
  for (auto& candidate : model.fields) {
    if (candidate.name == f.name && candidate.location.line == f.pos.line &&
        candidate.location.column == f.pos.column) {
      field = &candidate;
    }
  }
  return field;
}

}  // namespace

// Whether `fields` of `target` are its primary key or carry a full unique constraint.
bool Binder::IsUniqueKey(const Model& target, const std::vector<std::string>& fields) {
  std::set<std::string> wanted(fields.begin(), fields.end());
  if (fields.size() == 1) {
    const Field* f = target.FindField(fields[0]);
    if (f != nullptr && f->id) return true;
    if (f != nullptr && f->unique && !target.soft_delete) return true;
  }
  if (target.soft_delete) return false;
  for (const auto& index : target.indexes) {
    if (index.unique && std::set<std::string>(index.fields.begin(), index.fields.end()) == wanted) {
      return true;
    }
  }
  return false;
}

void Binder::BindRelations() {
  // Owning sides first: the back sides look them up.
  for (auto& [model, m, file] : models_) {
    for (const auto& f : m->fields) {
      Field* field = BoundField(*model, f);
      if (field == nullptr || !field->relation || !field->relation->owning) continue;
      for (const auto& attr : f.attributes) {
        if (attr.name == "relation") BindOwningRelation(*model, *field, attr, file);
      }
    }
  }
  for (auto& [model, m, file] : models_) {
    for (const auto& f : m->fields) {
      Field* field = BoundField(*model, f);
      if (field == nullptr || field->stored() || field->relation) continue;
      const Model* target = schema_.FindModel(field->type.name);
      std::vector<const Field*> owners;
      for (const auto& candidate : target->fields) {
        if (candidate.relation && candidate.relation->owning &&
            candidate.relation->target_model == model->name && &candidate != field) {
          owners.push_back(&candidate);
        }
      }
      if (owners.empty()) {
        Err(file, f.pos,
            "relation field '" + f.name +
                "' needs @relation(fields: [...], "
                "references: [...]) here or on a field of model '" +
                target->name + "' of type '" + model->name + "'");
        continue;
      }
      if (owners.size() > 1) {
        Err(file, f.pos,
            "relation field '" + f.name + "' is ambiguous: model '" + target->name +
                "' has several relations to '" + model->name + "' ('" + owners[0]->name + "', '" +
                owners[1]->name + "')");
        continue;
      }
      if (!field->type.list && !field->type.optional) {
        Err(file, f.pos,
            "the back side of a one-to-one relation must be optional: write '" + f.name + " " +
                field->type.name + "?'");
        continue;
      }
      Relation relation;
      relation.target_model = target->name;
      relation.back_field = owners[0]->name;
      field->relation = std::move(relation);
    }
  }
}

void Binder::BindOwningRelation(Model& model, Field& field, const ast::Attribute& attr,
                                size_t file) {
  Relation& relation = *field.relation;
  std::vector<const ast::Expr*> args;
  if (!MatchArgs(attr, file, "@relation", {"fields", "references", "onDelete"}, 0, args)) {
    return;
  }
  if (args[0] == nullptr || args[1] == nullptr) {
    Err(file, attr.pos, "@relation needs fields: [...] and references: [...]");
    return;
  }
  if (field.type.list) {
    Err(file, attr.pos,
        "the side of a relation that holds @relation(fields, references) "
        "cannot be a list; put it on the other model's field");
    return;
  }
  const Model* target = schema_.FindModel(field.type.name);
  auto fields = NameList(args[0], file, "@relation fields");
  auto references = NameList(args[1], file, "@relation references");
  if (!fields || !references) {
    return;
  }
  bool ok = true;
  std::vector<const Field*> local_fields, target_fields;
  for (const auto& [name, pos] : *fields) {
    const Field* f = model.FindField(name);
    if (f == nullptr) {
      Err(file, pos,
          "unknown field '" + name + "' in @relation fields of model '" + model.name + "'");
      ok = false;
    } else if (!f->stored() || f->type.list) {
      Err(file, pos,
          "@relation fields must be scalar or enum fields; '" + name + "' is " +
              (f->stored() ? TypeText(f->type) : "a relation field"));
      ok = false;
    }
    local_fields.push_back(f);
  }
  for (const auto& [name, pos] : *references) {
    const Field* f = target->FindField(name);
    if (f == nullptr) {
      Err(file, pos,
          "unknown field '" + name + "' in @relation references: model '" + target->name +
              "' has no such field");
      ok = false;
    } else if (!f->stored() || f->type.list) {
      Err(file, pos,
          "@relation references must be scalar or enum fields; '" + name + "' is " +
              TypeText(f->type));
      ok = false;
    }
    target_fields.push_back(f);
  }
  if (!ok) {
    return;
  }
  if (fields->size() != references->size()) {
    Err(file, args[1]->pos,
        "@relation has " + std::to_string(fields->size()) + " field" +
            (fields->size() == 1 ? "" : "s") + " but " + std::to_string(references->size()) +
            " reference" + (references->size() == 1 ? "" : "s"));
    return;
  }
  for (size_t i = 0; i < local_fields.size(); ++i) {
    if (!SameValueType(local_fields[i]->type, target_fields[i]->type)) {
      Err(file, (*fields)[i].second,
          "@relation field '" + local_fields[i]->name + "' is " + TypeText(local_fields[i]->type) +
              " but references '" + target->name + "." + target_fields[i]->name + "' of type " +
              TypeText(target_fields[i]->type));
      ok = false;
    }
  }
  if (!ok) {
    return;
  }
  std::vector<std::string> reference_names;
  for (const auto& [name, pos] : *references) reference_names.push_back(name);
  if (!IsUniqueKey(*target, reference_names)) {
    Err(file, args[1]->pos,
        "@relation references must be the @id of model '" + target->name +
            "' or fields with a unique constraint" +
            (target->soft_delete ? " (unique constraints of a @@softDelete model cover live "
                                   "rows only, so only its @id can be referenced)"
                                 : ""));
    return;
  }
  if (args[2] != nullptr) {
    static const std::map<std::string, ReferentialAction> kActions = {
        {"Cascade", ReferentialAction::kCascade},
        {"SetNull", ReferentialAction::kSetNull},
        {"Restrict", ReferentialAction::kRestrict},
        {"NoAction", ReferentialAction::kNoAction}};
    auto it =
        args[2]->kind == ast::ExprKind::kIdent ? kActions.find(args[2]->text) : kActions.end();
    if (it == kActions.end()) {
      Err(file, args[2]->pos,
          "expected Cascade, SetNull, Restrict or NoAction for onDelete, "
          "found " +
              DescribeExpr(*args[2]));
      return;
    }
    if (it->second == ReferentialAction::kSetNull) {
      for (const auto* f : local_fields) {
        if (!f->type.optional) {
          Err(file, args[2]->pos,
              "onDelete: SetNull needs optional fields, but '" + f->name + "' is required");
          return;
        }
      }
    }
    relation.on_delete = it->second;
  }
  for (const auto& [name, pos] : *fields) relation.fields.push_back(name);
  relation.references = std::move(reference_names);
}

}  // namespace quarry::schema::internal
