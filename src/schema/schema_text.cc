#include "schema/schema_text.h"

namespace quarry::schema {

namespace {

std::string StringText(const std::string& text) {
  char quote =
      text.find('"') != std::string::npos && text.find('\'') == std::string::npos ? '\'' : '"';
  std::string out(1, quote);
  for (char c : text) {
    if (c == quote || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + quote;
}

std::string LiteralText(const Literal& lit) {
  switch (lit.kind) {
    case Literal::Kind::kNull:
      return "null";
    case Literal::Kind::kBool:
      return lit.bool_value ? "true" : "false";
    case Literal::Kind::kInteger:
      return std::to_string(lit.int_value);
    case Literal::Kind::kReal:
      return lit.text;
    case Literal::Kind::kString:
      return StringText(lit.text);
    case Literal::Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < lit.items.size(); ++i) {
        out += (i ? ", " : "") + LiteralText(lit.items[i]);
      }
      return out + "]";
    }
  }
  return "null";
}

std::string NameList(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out + "]";
}

}  // namespace

std::string SchemaText(const Schema& schema) {
  std::string out;
  for (const Enum& en : schema.enums) {
    out += "enum " + en.name + " {";
    for (const std::string& v : en.values) out += " " + v;
    out += " }\n\n";
  }
  for (const Model& model : schema.models) {
    out += "model " + model.name + " {\n";
    for (const Field& field : model.fields) {
      out += "  " + field.name + " ";
      const FieldType& type = field.type;
      if (type.kind == FieldType::Kind::kScalar) {
        out += ScalarTypeName(type.scalar);
      } else {
        out += type.name;
      }
      if (type.list) out += "[]";
      if (type.optional && !type.list) out += "?";
      if (field.id) out += " @id";
      if (field.unique) out += " @unique";
      if (field.default_value) {
        const DefaultValue& d = *field.default_value;
        switch (d.kind) {
          case DefaultValue::Kind::kLiteral:
            out += " @default(" + LiteralText(d.literal) + ")";
            break;
          case DefaultValue::Kind::kEnumValue:
            out += " @default(" + d.enum_value + ")";
            break;
          case DefaultValue::Kind::kNow:
            out += " @default(now())";
            break;
          case DefaultValue::Kind::kUuid:
            out += " @default(uuid())";
            break;
          case DefaultValue::Kind::kUlid:
            out += " @default(ulid())";
            break;
          case DefaultValue::Kind::kAutoincrement:
            out += " @default(autoincrement())";
            break;
          case DefaultValue::Kind::kNanoid:
            out += " @default(nanoid())";
            break;
          case DefaultValue::Kind::kAuthClaim:
            out += " @default(auth()." + d.claim + ")";
            break;
          case DefaultValue::Kind::kField:
            out += " @default(" + d.field + ")";
            break;
        }
      }
      if (field.generated) {
        out += " @generated(" + StringText(field.generated->expression) +
               (field.generated->stored ? ", stored: true)" : ")");
      }
      if (field.relation && field.relation->owning) {
        const Relation& r = *field.relation;
        out +=
            " @relation(fields: " + NameList(r.fields) + ", references: " + NameList(r.references);
        if (r.on_delete) out += std::string(", onDelete: ") + ReferentialActionName(*r.on_delete);
        out += ")";
      }
      if (field.stored() && field.column != field.name) {
        out += " @map(" + StringText(field.column) + ")";
      }
      out += "\n";
    }
    std::vector<std::string> attributes;
    for (const Index& index : model.indexes) {
      attributes.push_back(std::string(index.unique ? "@@unique(" : "@@index(") +
                           NameList(index.fields) + ")");
    }
    if (model.table != model.name) attributes.push_back("@@map(" + StringText(model.table) + ")");
    if (model.soft_delete) attributes.push_back("@@softDelete");
    if (!model.fts_fields.empty())
      attributes.push_back("@@fts(" + NameList(model.fts_fields) + ")");
    if (!model.strict) attributes.push_back("@@noStrict");
    if (model.external) attributes.push_back("@@external");
    if (!attributes.empty()) out += "\n";
    for (const std::string& a : attributes) out += "  " + a + "\n";
    out += "}\n\n";
  }
  return out;
}

}  // namespace quarry::schema
