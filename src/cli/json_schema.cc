#include "cli/json_schema.h"

#include <boost/json.hpp>

namespace quarry::cli {
namespace {

namespace json = boost::json;
using schema::Field;
using schema::FieldType;
using schema::ScalarType;

constexpr const char* kIsoPattern =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T "
    "][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})"
    "?)?$";

json::object Ref(const std::string& name) { return {{"$ref", "#/$defs/" + name}}; }

json::object Type(const char* type) { return {{"type", type}}; }

// The value definitions rows refer to.
void AddValueDefinitions(json::object& defs) {
  defs["Integer"] = {
      {"description",
       "An Integer: a JSON integer while |n| < 2^53, a decimal string beyond "
       "(\"9007199254740993\")"},
      {"anyOf", json::array{Type("integer"), {{"type", "string"}, {"pattern", "^-?[0-9]+$"}}}}};
  defs["DateTime"] = {
      {"description", "A DateTime: ISO-8601 text, such as 2024-01-02T03:04:05.678Z"},
      {"type", "string"},
      {"pattern", kIsoPattern}};
  defs["Json"] = {{"description", "A Json field: any JSON value"}};
  defs["Blob"] = {
      {"description", "A Blob: its bytes in standard base64"},
      {"type", "object"},
      {"properties", {{"$base64", {{"type", "string"}, {"contentEncoding", "base64"}}}}},
      {"required", json::array{"$base64"}},
      {"additionalProperties", false}};
}

json::object Element(const Field& f) {
  if (f.type.kind != FieldType::Kind::kScalar) {
    return Ref(f.type.name);
  }
  switch (f.type.scalar) {
    case ScalarType::kInteger:
      return Ref("Integer");
    case ScalarType::kReal:
      return Type("number");
    case ScalarType::kText:
      return Type("string");
    case ScalarType::kBoolean:
      return Type("boolean");
    case ScalarType::kDateTime:
      return Ref("DateTime");
    case ScalarType::kJson:
      return Ref("Json");
    case ScalarType::kBlob:
      return Ref("Blob");
  }
  return {};
}

// `schema` or null: a "type" list where the schema is a plain type, else anyOf.
json::object OrNull(json::object schema) {
  if (schema.size() == 1 && schema.contains("type") && schema["type"].is_string()) {
    return {{"type", json::array{schema["type"], "null"}}};
  }
  return {{"anyOf", json::array{std::move(schema), Type("null")}}};
}

json::object FieldSchema(const Field& f) {
  if (!f.stored()) {
    if (f.type.list) {
      return {{"type", "array"}, {"items", Ref(f.type.name)}};
    }
    return OrNull(Ref(f.type.name));  // null also when the related row is not readable
  }
  json::object schema = Element(f);
  if (f.type.list) {
    schema = {{"type", "array"}, {"items", std::move(schema)}};
  }
  return f.type.optional ? OrNull(std::move(schema)) : schema;
}

std::string Note(const Field& f) {
  if (!f.stored()) {
    return "relation to " + f.type.name + ": present when included or selected";
  }
  std::string note;
  if (f.omit == Field::Omit::kDefault) {
    note = "@omit: left out of findMany/findFirst results unless selected";
  } else if (f.omit == Field::Omit::kAll) {
    note = "@omit(all): left out of every result unless selected";
  }
  if (f.guarded != Field::Guard::kNone) {
    note += std::string(note.empty() ? "" : "; ") +
            (f.guarded == Field::Guard::kAll ? "@guarded(all)" : "@guarded") +
            ": never returned to end-user tokens";
  }
  return note;
}

json::object ModelDefinition(const schema::Model& m) {
  json::object properties;
  json::array required;
  json::object counts;
  for (const Field& f : m.fields) {
    if (f.secret) {
      continue;
    }
    json::object schema = FieldSchema(f);
    if (std::string note = Note(f); !note.empty()) {
      json::object described{{"description", note}};
      for (auto& [k, v] : schema) {
        described[k] = v;
      }
      schema = std::move(described);
    }
    properties[f.name] = std::move(schema);
    bool always = f.stored() && f.omit == Field::Omit::kNone && f.guarded == Field::Guard::kNone;
    if (always) {
      required.emplace_back(f.name);
    }
    if (!f.stored() && f.type.list) {
      counts[f.name] = Type("integer");
    }
  }
  if (!counts.empty()) {
    properties["_count"] = {{"description", "counts of to-many relations, when asked for"},
                            {"type", "object"},
                            {"properties", std::move(counts)},
                            {"additionalProperties", false}};
  }
  return {{"description", "A row of model " + m.name + " as the data API returns it"},
          {"type", "object"},
          {"properties", std::move(properties)},
          {"required", std::move(required)},
          {"additionalProperties", false}};
}

void Pretty(std::string& out, const json::value& v, int indent) {
  auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<size_t>(level) * 2, ' ');
  };
  if (v.is_object() && !v.get_object().empty()) {
    out += '{';
    bool first = true;
    for (const auto& [key, member] : v.get_object()) {
      out += first ? "" : ",";
      first = false;
      newline(indent + 1);
      out += json::serialize(json::value(key)) + ": ";
      Pretty(out, member, indent + 1);
    }
    newline(indent);
    out += '}';
    return;
  }
  if (v.is_array() && !v.get_array().empty()) {
    const json::array& items = v.get_array();
    bool scalars = true;
    for (const auto& item : items) {
      scalars = scalars && !item.is_object() && !item.is_array();
    }
    if (scalars) {  // ["a", "b"] on one line
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        out += (i ? ", " : "") + json::serialize(items[i]);
      }
      out += ']';
      return;
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      out += i ? "," : "";
      newline(indent + 1);
      Pretty(out, items[i], indent + 1);
    }
    newline(indent);
    out += ']';
    return;
  }
  out += json::serialize(v);
}

}  // namespace

std::string JsonSchemaDocument(const schema::Schema& schema, const std::string& source) {
  json::object defs;
  AddValueDefinitions(defs);
  for (const schema::Enum& e : schema.enums) {
    json::array values;
    for (const std::string& v : e.values) {
      values.emplace_back(v);
    }
    defs[e.name] = {
        {"description", "Enum " + e.name}, {"type", "string"}, {"enum", std::move(values)}};
  }
  for (const schema::Model& m : schema.models) {
    defs[m.name] = ModelDefinition(m);
  }
  json::object document{
      {"$schema", "https://json-schema.org/draft/2020-12/schema"},
      {"title", "Rows of " + source},
      {"description", "Generated by `quarry jsonschema` from " + source +
                          ": one definition per model row and enum, in the data API's JSON "
                          "value mapping"},
      {"$defs", std::move(defs)}};
  std::string out;
  Pretty(out, document, 0);
  return out + "\n";
}

}  // namespace quarry::cli
