#include "schema/ddl.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace quarry::schema {

namespace {

// An ISO-8601 UTC timestamp with milliseconds, as DateTime values are stored.
constexpr const char* kNowSql = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

// A version-4 UUID from randomblob: 8-4-4-4-12 lowercase hex digits, the version nibble 4 and
// the variant nibble one of 8, 9, a, b.
constexpr const char* kUuidSql =
    "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))";

// A ULID: 10 characters of the millisecond Unix time and 16 random ones, in Crockford's base
// 32. 'now' is fixed within one statement step, so all ten time characters agree.
std::string UlidSql() {
  const std::string alphabet = "'0123456789ABCDEFGHJKMNPQRSTVWXYZ'";
  // julianday('now') holds whole milliseconds; rounding undoes the floating-point error.
  const std::string ms = "CAST((julianday('now') - 2440587.5) * 86400000 + 0.5 AS INTEGER)";
  std::string sql;
  for (int i = 0; i < 10; ++i) {
    if (!sql.empty()) sql += " || ";
    int shift = 45 - 5 * i;
    sql += "substr(" + alphabet + ", 1 + ((" + ms + " >> " + std::to_string(shift) + ") & 31), 1)";
  }
  for (int i = 0; i < 16; ++i) {
    sql += " || substr(" + alphabet + ", 1 + (random() & 31), 1)";
  }
  return sql;
}

boost::json::value LiteralJson(const Literal& lit) {
  switch (lit.kind) {
    case Literal::Kind::kNull:
      return nullptr;
    case Literal::Kind::kBool:
      return lit.bool_value;
    case Literal::Kind::kInteger:
      return lit.int_value;
    case Literal::Kind::kReal:
      return lit.real_value;
    case Literal::Kind::kString:
      return boost::json::value(lit.text);
    case Literal::Kind::kList: {
      boost::json::array array;
      for (const auto& item : lit.items) array.push_back(LiteralJson(item));
      return array;
    }
  }
  return nullptr;
}

std::string LiteralSql(const Literal& lit) {
  switch (lit.kind) {
    case Literal::Kind::kNull:
      return "NULL";
    case Literal::Kind::kBool:
      return lit.bool_value ? "1" : "0";
    case Literal::Kind::kInteger:
      return std::to_string(lit.int_value);
    case Literal::Kind::kReal:
      return lit.text;
    case Literal::Kind::kString:
      return QuoteString(lit.text);
    case Literal::Kind::kList:
      return QuoteString(boost::json::serialize(LiteralJson(lit)));
  }
  return "NULL";
}

const char* ActionSql(ReferentialAction action) {
  switch (action) {
    case ReferentialAction::kCascade:
      return "CASCADE";
    case ReferentialAction::kSetNull:
      return "SET NULL";
    case ReferentialAction::kRestrict:
      return "RESTRICT";
    case ReferentialAction::kNoAction:
      return "NO ACTION";
  }
  return "NO ACTION";
}

std::string Columns(const Model& model, const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& name : fields) {
    if (!out.empty()) out += ", ";
    const Field* field = model.FindField(name);
    out += QuoteIdentifier(field != nullptr ? field->column : name);
  }
  return out;
}

std::string LiveRowsFilter(const Model& model) {
  const Field* deleted_at = model.FindField("deletedAt");
  return " WHERE " + QuoteIdentifier(deleted_at != nullptr ? deleted_at->column : "deletedAt") +
         " IS NULL";
}

}  // namespace

const char* SqlType(const FieldType& type) {
  if (type.list || type.kind == FieldType::Kind::kEnum) return "TEXT";
  switch (type.scalar) {
    case ScalarType::kInteger:
    case ScalarType::kBoolean:
      return "INTEGER";
    case ScalarType::kReal:
      return "REAL";
    case ScalarType::kText:
    case ScalarType::kDateTime:
    case ScalarType::kJson:
      return "TEXT";
    case ScalarType::kBlob:
      return "BLOB";
  }
  return "ANY";
}

std::string DefaultExpression(const DefaultValue& value) {
  switch (value.kind) {
    case DefaultValue::Kind::kLiteral:
      return LiteralSql(value.literal);
    case DefaultValue::Kind::kEnumValue:
      return QuoteString(value.enum_value);
    case DefaultValue::Kind::kNow:
      return std::string("(") + kNowSql + ")";
    case DefaultValue::Kind::kUuid:
      return std::string("(") + kUuidSql + ")";
    case DefaultValue::Kind::kUlid:
      return "(" + UlidSql() + ")";
    case DefaultValue::Kind::kAutoincrement:
    case DefaultValue::Kind::kNanoid:
    case DefaultValue::Kind::kAuthClaim:
    case DefaultValue::Kind::kField:
      return "";
  }
  return "";
}

std::string ColumnDefinition(const Model& model, const Field& field, const Schema& schema) {
  const FieldType& type = field.type;
  std::string column = QuoteIdentifier(field.column);
  std::string sql = column + " " + SqlType(type);
  bool integer_key =
      field.id && type.kind == FieldType::Kind::kScalar && type.scalar == ScalarType::kInteger;
  if (field.id) {
    sql += integer_key ? " PRIMARY KEY" : " NOT NULL PRIMARY KEY";
    if (field.default_value && field.default_value->kind == DefaultValue::Kind::kAutoincrement) {
      sql += " AUTOINCREMENT";
    }
  } else if (!type.optional) {
    sql += " NOT NULL";
  }
  if (field.unique && !field.id && !model.soft_delete) sql += " UNIQUE";
  if (field.default_value) {
    std::string expr = DefaultExpression(*field.default_value);
    if (!expr.empty()) sql += " DEFAULT " + expr;
  }
  if (field.generated) {
    sql += " GENERATED ALWAYS AS (" + field.generated->expression + ")";
    sql += field.generated->stored ? " STORED" : " VIRTUAL";
  }
  if (type.list) {
    sql += " CHECK (json_type(" + column + ") = 'array')";
  } else if (type.kind == FieldType::Kind::kEnum) {
    const Enum* en = schema.FindEnum(type.name);
    std::string values;
    if (en != nullptr) {
      for (const auto& v : en->values) values += (values.empty() ? "" : ", ") + QuoteString(v);
    }
    sql += " CHECK (" + column + " IN (" + values + "))";
  } else if (type.scalar == ScalarType::kBoolean) {
    sql += " CHECK (" + column + " IN (0, 1))";
  } else if (type.scalar == ScalarType::kJson) {
    // json_valid(NULL) is 0 in SQLite 3.40.
    sql += type.optional ? " CHECK (" + column + " IS NULL OR json_valid(" + column + "))"
                         : " CHECK (json_valid(" + column + "))";
  }
  return sql;
}

std::vector<std::string> ModelDdl(const Model& model, const Schema& schema) {
  std::vector<std::string> out;
  if (model.external) return out;
  const std::string table = QuoteIdentifier(model.table);
  std::vector<std::string> lines;
  for (const auto& field : model.fields) {
    if (field.stored()) lines.push_back(ColumnDefinition(model, field, schema));
  }
  for (const auto& field : model.fields) {
    if (!field.relation || !field.relation->owning) continue;
    const Relation& relation = *field.relation;
    const Model* target = schema.FindModel(relation.target_model);
    std::string line = "FOREIGN KEY (" + Columns(model, relation.fields) + ") REFERENCES " +
                       QuoteIdentifier(target != nullptr ? target->table : relation.target_model) +
                       " (" + (target != nullptr ? Columns(*target, relation.references) : "") +
                       ")";
    if (relation.on_delete) line += std::string(" ON DELETE ") + ActionSql(*relation.on_delete);
    lines.push_back(std::move(line));
  }
  std::string create = "CREATE TABLE " + table + " (\n";
  for (size_t i = 0; i < lines.size(); ++i) {
    create += "  " + lines[i] + (i + 1 < lines.size() ? ",\n" : "\n");
  }
  create += model.strict ? ") STRICT" : ")";
  out.push_back(std::move(create));

  // Field @unique on a soft-delete model: a partial unique index over live rows.
  if (model.soft_delete) {
    for (const auto& field : model.fields) {
      if (!field.unique || field.id || !field.stored()) continue;
      out.push_back("CREATE UNIQUE INDEX " +
                    QuoteIdentifier(model.table + "_" + field.column + "_key") + " ON " + table +
                    " (" + QuoteIdentifier(field.column) + ")" + LiveRowsFilter(model));
    }
  }
  for (const auto& index : model.indexes) {
    out.push_back(std::string(index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") +
                  QuoteIdentifier(index.name) + " ON " + table + " (" +
                  Columns(model, index.fields) + ")" +
                  (model.soft_delete ? LiveRowsFilter(model) : ""));
  }

  if (!model.fts_fields.empty()) {
    const Field* key = model.PrimaryKey();
    bool integer_key = key != nullptr && key->type.kind == FieldType::Kind::kScalar &&
                       key->type.scalar == ScalarType::kInteger;
    std::string rowid = integer_key ? key->column : "rowid";
    std::string fts_name = model.table + "_fts";
    std::string fts = QuoteIdentifier(fts_name);
    std::string columns = Columns(model, model.fts_fields);
    out.push_back("CREATE VIRTUAL TABLE " + fts + " USING fts5(" + columns + ", content=" +
                  QuoteString(model.table) + ", content_rowid=" + QuoteString(rowid) + ")");
    auto values = [&](const std::string& row) {
      std::string v = row + "." + QuoteIdentifier(rowid);
      for (const auto& name : model.fts_fields) {
        v += ", " + row + "." + QuoteIdentifier(model.FindField(name)->column);
      }
      return v;
    };
    std::string insert_new =
        "INSERT INTO " + fts + " (rowid, " + columns + ") VALUES (" + values("new") + ");";
    std::string delete_old = "INSERT INTO " + fts + " (" + fts + ", rowid, " + columns +
                             ") VALUES ('delete', " + values("old") + ");";
    out.push_back("CREATE TRIGGER " + QuoteIdentifier(fts_name + "_insert") + " AFTER INSERT ON " +
                  table + " BEGIN\n  " + insert_new + "\nEND");
    out.push_back("CREATE TRIGGER " + QuoteIdentifier(fts_name + "_delete") + " AFTER DELETE ON " +
                  table + " BEGIN\n  " + delete_old + "\nEND");
    out.push_back("CREATE TRIGGER " + QuoteIdentifier(fts_name + "_update") + " AFTER UPDATE ON " +
                  table + " BEGIN\n  " + delete_old + "\n  " + insert_new + "\nEND");
  }
  return out;
}

std::vector<std::string> GenerateDdl(const Schema& schema) {
  std::vector<std::string> out;
  for (const auto& model : schema.models) {
    for (auto& statement : ModelDdl(model, schema)) out.push_back(std::move(statement));
  }
  return out;
}

}  // namespace quarry::schema
