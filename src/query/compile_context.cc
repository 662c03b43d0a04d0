#include "query/compile_context.h"

#include <cstdio>
#include <ctime>

namespace quarry::query {

std::string IsoNow(std::chrono::system_clock::time_point at) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buffer;
}

Status ArgError(const std::string& path, std::string message) {
  std::string text = path.empty() ? std::move(message) : path + ": " + message;
  return Status(ErrorCode::kInvalidArgument, std::move(text)).WithPath(path);
}

std::string JoinPath(const std::string& parent, std::string_view child) {
  if (parent.empty()) {
    return std::string(child);
  }
  std::string path = parent;
  path += '.';
  path += child;
  return path;
}

const schema::Model& Target(const CompileContext& ctx, const schema::Field& relation_field) {
  return *ctx.schema.FindModel(relation_field.relation->target_model);
}

void JoinCondition(const CompileContext& ctx, SqlBuilder& sql, const schema::Model& from,
                   const schema::Field& field, std::string_view from_alias,
                   std::string_view to_alias) {
  const schema::Model& to = Target(ctx, field);
  const schema::Relation& rel = *field.relation;
  // The owning side's fields/references, and which model holds the foreign key.
  const schema::Relation* owning = &rel;
  const schema::Model* fk_model = &from;
  const schema::Model* ref_model = &to;
  std::string_view fk_alias = from_alias;
  std::string_view ref_alias = to_alias;
  if (!rel.owning) {
    const schema::Field* back = to.FindField(rel.back_field);
    owning = &*back->relation;
    fk_model = &to;
    ref_model = &from;
    fk_alias = to_alias;
    ref_alias = from_alias;
  }
  for (size_t i = 0; i < owning->fields.size(); ++i) {
    if (i > 0) {
      sql << " AND ";
    }
    sql.Column(ref_alias, ref_model->FindField(owning->references[i])->column);
    sql << " = ";
    sql.Column(fk_alias, fk_model->FindField(owning->fields[i])->column);
  }
}

const schema::Field* SoftDeleteField(const schema::Model& model) {
  return model.soft_delete ? model.FindField("deletedAt") : nullptr;
}

}  // namespace quarry::query
