#include "schema/model.h"

namespace quarry::schema {

std::string SourceLocation::ToString() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const char* ScalarTypeName(ScalarType type) {
  switch (type) {
    case ScalarType::kInteger:
      return "Integer";
    case ScalarType::kReal:
      return "Real";
    case ScalarType::kText:
      return "Text";
    case ScalarType::kBoolean:
      return "Boolean";
    case ScalarType::kDateTime:
      return "DateTime";
    case ScalarType::kJson:
      return "Json";
    case ScalarType::kBlob:
      return "Blob";
  }
  return "?";
}

const char* ReferentialActionName(ReferentialAction action) {
  switch (action) {
    case ReferentialAction::kCascade:
      return "Cascade";
    case ReferentialAction::kSetNull:
      return "SetNull";
    case ReferentialAction::kRestrict:
      return "Restrict";
    case ReferentialAction::kNoAction:
      return "NoAction";
  }
  return "?";
}

bool DefaultValue::in_ddl() const {
  switch (kind) {
    case Kind::kLiteral:
    case Kind::kEnumValue:
    case Kind::kNow:
    case Kind::kUuid:
    case Kind::kUlid:
    case Kind::kAutoincrement:
      return true;
    case Kind::kNanoid:
    case Kind::kAuthClaim:
    case Kind::kField:
      return false;
  }
  return false;
}

const Field* Model::FindField(const std::string& field_name) const {
  for (const auto& field : fields) {
    if (field.name == field_name) return &field;
  }
  return nullptr;
}

const Field* Model::PrimaryKey() const {
  for (const auto& field : fields) {
    if (field.id) return &field;
  }
  return nullptr;
}

const Model* Schema::FindModel(const std::string& model_name) const {
  for (const auto& model : models) {
    if (model.name == model_name) return &model;
  }
  return nullptr;
}

const Enum* Schema::FindEnum(const std::string& enum_name) const {
  for (const auto& e : enums) {
    if (e.name == enum_name) return &e;
  }
  return nullptr;
}

}  // namespace quarry::schema
