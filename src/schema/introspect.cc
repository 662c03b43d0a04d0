#include "schema/introspect.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <map>
#include <memory>
#include <set>

#include "schema/create_table_text.h"
#include "schema/ddl.h"
#include "storage/statement.h"

namespace quarry::schema {

namespace {

using internal::ColumnText;
using internal::FindKeyword;
using internal::FtsTable;
using internal::ParseColumns;
using internal::ParseFts;
using internal::ParseStringList;
using internal::ReadIdentifier;
using internal::TableItems;
using internal::Upper;

// Reads the rows of one query; its statement is a storage::Statement. Errors are kept and
// reported by status().
class Query {
 public:
  Query(sqlite3* db, const std::string& sql) : db_(db) {
    Result<storage::Statement> prepared = storage::Statement::Prepare(db, sql);
    if (prepared.ok()) {
      stmt_ = std::move(*prepared);
    } else {
      rc_ = SQLITE_ERROR;
    }
  }

  Status status(const std::string& what) const {
    if (rc_ == SQLITE_OK || rc_ == SQLITE_ROW || rc_ == SQLITE_DONE) return Status::Ok();
    return Status(ErrorCode::kSqlite, what + ": " + sqlite3_errmsg(db_));
  }
  void Bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_.get(), index, text.c_str(), -1, SQLITE_TRANSIENT);
  }
  bool Step() {
    if (rc_ != SQLITE_OK && rc_ != SQLITE_ROW) return false;
    rc_ = sqlite3_step(stmt_.get());
    return rc_ == SQLITE_ROW;
  }
  std::string Text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
    return text != nullptr ? reinterpret_cast<const char*>(text) : "";
  }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

 private:
  sqlite3* db_;
  storage::Statement stmt_;
  int rc_ = SQLITE_OK;
};

bool IsIdentifier(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string Capitalized(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "E" + out;
  return out;
}

ScalarType TypeFromDeclared(const std::string& declared) {
  std::string t = Upper(declared);
  if (t.find("INT") != std::string::npos) return ScalarType::kInteger;
  if (t.find("CHAR") != std::string::npos || t.find("CLOB") != std::string::npos ||
      t.find("TEXT") != std::string::npos) {
    return ScalarType::kText;
  }
  if (t.find("BOOL") != std::string::npos) return ScalarType::kBoolean;
  if (t.find("DATE") != std::string::npos || t.find("TIME") != std::string::npos) {
    return ScalarType::kDateTime;
  }
  if (t.find("JSON") != std::string::npos) return ScalarType::kJson;
  if (t.find("BLOB") != std::string::npos || t.empty() || t == "ANY") return ScalarType::kBlob;
  return ScalarType::kReal;  // REAL, FLOAT, DOUBLE, NUMERIC, DECIMAL
}

std::optional<Literal> LiteralFromJson(const boost::json::value& value) {
  Literal lit;
  if (value.is_null()) return lit;
  if (value.is_bool()) {
    lit.kind = Literal::Kind::kBool;
    lit.bool_value = value.get_bool();
  } else if (value.is_int64()) {
    lit.kind = Literal::Kind::kInteger;
    lit.int_value = value.get_int64();
  } else if (value.is_string()) {
    lit.kind = Literal::Kind::kString;
    lit.text = std::string(value.get_string());
  } else if (value.is_array()) {
    lit.kind = Literal::Kind::kList;
    for (const auto& item : value.get_array()) {
      std::optional<Literal> sub = LiteralFromJson(item);
      if (!sub) return std::nullopt;
      lit.items.push_back(*sub);
    }
  } else {
    return std::nullopt;  // reals: their text as written is lost in JSON
  }
  return lit;
}

// The model's default for the pragma's dflt_value text; nullopt when not representable. A list
// default also sets the list's element type.
std::optional<DefaultValue> ParseDefault(const std::string& text, Field& field) {
  DefaultValue value;
  for (auto kind :
       {DefaultValue::Kind::kNow, DefaultValue::Kind::kUuid, DefaultValue::Kind::kUlid}) {
    value.kind = kind;
    // The pragma gives a parenthesised default without its parentheses.
    if (DefaultExpression(value) == text || DefaultExpression(value) == "(" + text + ")") {
      return value;
    }
  }
  value.kind = DefaultValue::Kind::kLiteral;
  Literal& lit = value.literal;
  if (Upper(text) == "NULL") return value;
  if (!text.empty() && text[0] == '\'') {
    std::vector<std::string> items;
    if (!ParseStringList(text, items) || items.size() != 1) return std::nullopt;
    if (field.type.list) {
      boost::system::error_code ec;
      boost::json::value json = boost::json::parse(items[0], ec);
      if (ec || !json.is_array()) return std::nullopt;
      std::optional<Literal> list = LiteralFromJson(json);
      if (!list) return std::nullopt;
      value.literal = *list;
      if (!list->items.empty()) {
        // The element type is not in the DDL; the default's items tell it.
        Literal::Kind kind = list->items[0].kind;
        if (kind == Literal::Kind::kInteger) field.type.scalar = ScalarType::kInteger;
        if (kind == Literal::Kind::kBool) field.type.scalar = ScalarType::kBoolean;
      }
      return value;
    }
    if (field.type.kind == FieldType::Kind::kEnum) {
      value.kind = DefaultValue::Kind::kEnumValue;
      value.enum_value = items[0];
      return value;
    }
    lit.kind = Literal::Kind::kString;
    lit.text = items[0];
    return value;
  }
  size_t i = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (i < text.size() && std::all_of(text.begin() + i, text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    try {
      lit.int_value = std::stoll(text);
    } catch (...) {
      return std::nullopt;
    }
    if (field.type.scalar == ScalarType::kBoolean && (lit.int_value == 0 || lit.int_value == 1)) {
      lit.kind = Literal::Kind::kBool;
      lit.bool_value = lit.int_value == 1;
    } else {
      lit.kind = Literal::Kind::kInteger;
    }
    return value;
  }
  if (i < text.size() && std::all_of(text.begin() + i, text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
               c == '-' || c == '+';
      })) {
    lit.kind = Literal::Kind::kReal;
    lit.text = text;
    lit.real_value = std::strtod(text.c_str(), nullptr);
    return value;
  }
  return std::nullopt;
}

bool IsShadowOf(const std::string& name, const std::set<std::string>& virtual_tables) {
  for (std::string suffix : {"_data", "_idx", "_content", "_docsize", "_config"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix) &&
        virtual_tables.count(name.substr(0, name.size() - suffix.size())) != 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<IntrospectedSchema> IntrospectSchema(sqlite3* db) {
  IntrospectedSchema result;
  Schema& schema = result.schema;

  struct Entry {
    std::string type, name, table, sql;
  };
  std::vector<Entry> entries;
  {
    Query q(db, "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY rowid");
    while (q.Step()) entries.push_back({q.Text(0), q.Text(1), q.Text(2), q.Text(3)});
    QUARRY_RETURN_IF_ERROR(q.status("cannot read sqlite_schema"));
  }
  std::set<std::string> virtual_tables;
  std::map<std::string, FtsTable> fts_by_content;
  for (const Entry& e : entries) {
    if (e.type == "table" && Upper(e.sql).rfind("CREATE VIRTUAL TABLE", 0) == 0) {
      virtual_tables.insert(e.name);
      std::optional<FtsTable> fts = ParseFts(e.name, e.sql);
      if (fts && !fts->content.empty() && fts->name == fts->content + "_fts") {
        fts_by_content[fts->content] = *fts;
      } else {
        result.warnings.push_back(e.name + ": virtual table skipped");
      }
    }
  }
  // Enum value lists already named, to share one enum between columns with the same values.
  std::map<std::vector<std::string>, std::string> enum_names;
  // Tables foreign keys name, with the referenced columns and their types: those missing from
  // the database become @@external models.
  std::vector<std::pair<std::string, std::vector<std::string>>> missing_targets;
  std::vector<ScalarType> missing_target_types;

  for (const Entry& e : entries) {
    if (e.type == "trigger") {
      bool fts_trigger = false;
      for (const auto& [content, fts] : fts_by_content) {
        if (e.name.rfind(fts.name + "_", 0) == 0) fts_trigger = true;
      }
      if (!fts_trigger) result.warnings.push_back(e.name + ": trigger skipped");
      continue;
    }
    if (e.type == "view") {
      result.warnings.push_back(e.name + ": view skipped");
      continue;
    }
    if (e.type != "table" || e.name.rfind("sqlite_", 0) == 0 || e.name.rfind("_quarry_", 0) == 0 ||
        virtual_tables.count(e.name) != 0 || IsShadowOf(e.name, virtual_tables)) {
      continue;
    }
    Model model;
    model.table = e.name;
    model.name = IsIdentifier(e.name) ? e.name : Capitalized(e.name);
    {
      Query q(db, "SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = ?1");
      q.Bind(1, e.name);
      model.strict = q.Step() && q.Int(0) != 0;
      QUARRY_RETURN_IF_ERROR(q.status("cannot read pragma_table_list"));
    }
    std::map<std::string, ColumnText> texts = ParseColumns(e.sql);
    int pk_columns = 0;
    {
      Query q(db,
              "SELECT name, type, \"notnull\", dflt_value, pk, hidden "
              "FROM pragma_table_xinfo(?1) ORDER BY cid");
      q.Bind(1, e.name);
      while (q.Step()) {
        Field field;
        field.column = q.Text(0);
        field.name = IsIdentifier(field.column) ? field.column : Capitalized(field.column);
        const std::string where = e.name + "." + field.column;
        ColumnText& text = texts[field.column];
        field.type.scalar = TypeFromDeclared(q.Text(1));
        field.type.optional = q.Int(2) == 0;
        int64_t hidden = q.Int(5);
        if (q.Int(4) > 0) {
          ++pk_columns;
          field.id = q.Int(4) == 1;
          field.type.optional = false;
        }
        if (hidden == 2 || hidden == 3) {
          field.generated = GeneratedColumn{text.generated, hidden == 3};
        }
        const std::string quoted = QuoteIdentifier(field.column);
        for (const std::string& check : text.checks) {
          std::vector<std::string> values;
          if (check == quoted + " IN (0, 1)") {
            field.type.scalar = ScalarType::kBoolean;
          } else if (check == "json_valid(" + quoted + ")" ||
                     check == quoted + " IS NULL OR json_valid(" + quoted + ")") {
            field.type.scalar = ScalarType::kJson;
          } else if (check == "json_type(" + quoted + ") = 'array'") {
            field.type.list = true;
            field.type.scalar = ScalarType::kText;
          } else if (check.rfind(quoted + " IN (", 0) == 0 && check.back() == ')' &&
                     ParseStringList(
                         check.substr(quoted.size() + 5, check.size() - quoted.size() - 6),
                         values)) {
            auto [it, inserted] = enum_names.emplace(values, "");
            if (inserted) {
              std::string name = Capitalized(field.column);
              auto taken = [&](const std::string& n) {
                return schema.FindEnum(n) != nullptr || n == model.name;
              };
              if (taken(name)) name = Capitalized(e.name) + Capitalized(field.column);
              while (taken(name)) name += "_";
              it->second = name;
              schema.enums.push_back(Enum{name, values, {}});
            }
            field.type.kind = FieldType::Kind::kEnum;
            field.type.name = it->second;
          } else {
            result.warnings.push_back(where + ": CHECK (" + check + ") left out");
          }
        }
        if (text.unique && !field.id) field.unique = true;
        if (field.id && text.autoincrement) {
          field.default_value.emplace().kind = DefaultValue::Kind::kAutoincrement;
        } else if (!q.IsNull(3)) {
          field.default_value = ParseDefault(q.Text(3), field);
          if (!field.default_value) {
            result.warnings.push_back(where + ": DEFAULT " + q.Text(3) + " left out");
          } else if (field.default_value->kind == DefaultValue::Kind::kNow &&
                     field.type.scalar == ScalarType::kText && !field.type.list) {
            field.type.scalar = ScalarType::kDateTime;
          }
        }
        model.fields.push_back(std::move(field));
      }
      QUARRY_RETURN_IF_ERROR(q.status("cannot read the columns of " + e.name));
    }
    if (pk_columns > 1) {
      for (Field& f : model.fields) f.id = false;
      result.warnings.push_back(e.name + ": composite primary key left out");
    } else if (pk_columns == 0) {
      result.warnings.push_back(e.name + ": no primary key");
    }
    auto field_name = [&](const std::string& column) {
      for (const Field& f : model.fields) {
        if (f.column == column) return f.name;
      }
      return column;
    };

    // Indexes made by CREATE INDEX; soft delete shows as their `WHERE "deletedAt" IS NULL`.
    {
      struct IndexInfo {
        Index index;
        std::string where;
      };
      std::vector<IndexInfo> indexes;
      Query q(db,
              "SELECT il.name, il.\"unique\", il.origin, il.partial, "
              "coalesce((SELECT sql FROM sqlite_schema s WHERE s.name = il.name), '') "
              "FROM pragma_index_list(?1) il ORDER BY (SELECT rowid FROM sqlite_schema s "
              "WHERE s.name = il.name)");
      q.Bind(1, e.name);
      while (q.Step()) {
        std::string origin = q.Text(2);
        IndexInfo info;
        info.index.name = q.Text(0);
        info.index.unique = q.Int(1) != 0;
        Query cols(db, "SELECT name FROM pragma_index_info(?1) ORDER BY seqno");
        cols.Bind(1, info.index.name);
        while (cols.Step()) info.index.fields.push_back(field_name(cols.Text(0)));
        QUARRY_RETURN_IF_ERROR(cols.status("cannot read index " + info.index.name));
        if (origin == "u") {
          if (info.index.fields.size() > 1) {
            result.warnings.push_back(e.name + ": table UNIQUE constraint left out");
          }
          continue;
        }
        if (origin != "c") continue;
        if (q.Int(3) != 0) {
          std::string sql = q.Text(4);
          size_t where = FindKeyword(sql, "WHERE");
          info.where = where == std::string::npos ? "" : sql.substr(where);
        }
        indexes.push_back(std::move(info));
      }
      QUARRY_RETURN_IF_ERROR(q.status("cannot read the indexes of " + e.name));
      const std::string live_filter = "WHERE \"deletedAt\" IS NULL";
      bool soft = !indexes.empty() && model.FindField("deletedAt") != nullptr;
      for (const auto& info : indexes) soft = soft && info.where == live_filter;
      model.soft_delete = soft;
      for (auto& info : indexes) {
        if (!info.where.empty() && !soft) {
          result.warnings.push_back(info.index.name + ": partial index condition left out");
        }
        Field* single = info.index.fields.size() == 1
                            ? const_cast<Field*>(model.FindField(info.index.fields[0]))
                            : nullptr;
        if (soft && info.index.unique && single != nullptr &&
            info.index.name == e.name + "_" + single->column + "_key") {
          single->unique = true;
          continue;
        }
        model.indexes.push_back(std::move(info.index));
      }
      if (soft) {
        Field* deleted = const_cast<Field*>(model.FindField("deletedAt"));
        if (deleted->type.scalar == ScalarType::kText) deleted->type.scalar = ScalarType::kDateTime;
      }
    }

    // Foreign keys: one owning relation field each, in declaration order (the pragma lists the
    // last declared first).
    {
      struct Fk {
        std::string table, on_delete;
        std::vector<std::string> from, to;
      };
      std::map<int64_t, Fk> fks;
      Query q(db,
              "SELECT id, \"table\", \"from\", \"to\", on_delete FROM "
              "pragma_foreign_key_list(?1) ORDER BY id, seq");
      q.Bind(1, e.name);
      while (q.Step()) {
        Fk& fk = fks[q.Int(0)];
        fk.table = q.Text(1);
        fk.on_delete = q.Text(4);
        fk.from.push_back(q.Text(2));
        fk.to.push_back(q.IsNull(3) ? "" : q.Text(3));
      }
      QUARRY_RETURN_IF_ERROR(q.status("cannot read the foreign keys of " + e.name));
      // Table-level FOREIGN KEY clauses in declaration order, to tell an explicit
      // ON DELETE NO ACTION from none (the pragma says NO ACTION for both).
      std::vector<bool> explicit_no_action;
      for (const std::string& item : TableItems(e.sql)) {
        if (FindKeyword(item, "FOREIGN") != std::string::npos) {
          explicit_no_action.push_back(FindKeyword(item, "NO") != std::string::npos);
        }
      }
      if (explicit_no_action.size() != fks.size()) explicit_no_action.assign(fks.size(), false);
      size_t declared = 0;
      for (auto it = fks.rbegin(); it != fks.rend(); ++it, ++declared) {
        Fk& fk = it->second;
        Field field;
        Relation relation;
        relation.owning = true;
        relation.target_model = IsIdentifier(fk.table) ? fk.table : Capitalized(fk.table);
        bool optional = true;
        for (size_t i = 0; i < fk.from.size(); ++i) {
          relation.fields.push_back(field_name(fk.from[i]));
          const Field* from = model.FindField(relation.fields.back());
          if (from != nullptr && !from->type.optional) optional = false;
          std::string to = fk.to[i];
          if (to.empty()) {
            Query pk(db, "SELECT name FROM pragma_table_info(?1) WHERE pk = 1");
            pk.Bind(1, fk.table);
            if (pk.Step()) to = pk.Text(0);
          }
          relation.references.push_back(IsIdentifier(to) ? to : Capitalized(to));
        }
        std::string on_delete = Upper(fk.on_delete);
        if (on_delete == "CASCADE") relation.on_delete = ReferentialAction::kCascade;
        if (on_delete == "SET NULL") relation.on_delete = ReferentialAction::kSetNull;
        if (on_delete == "RESTRICT") relation.on_delete = ReferentialAction::kRestrict;
        if (on_delete == "NO ACTION" && explicit_no_action[declared]) {
          relation.on_delete = ReferentialAction::kNoAction;
        }
        missing_targets.emplace_back(fk.table, fk.to);
        for (size_t i = 0; i < fk.from.size(); ++i) {
          const Field* from = model.FindField(relation.fields[i]);
          if (from != nullptr) missing_target_types.push_back(from->type.scalar);
        }
        std::string base = relation.fields.size() == 1 ? relation.fields[0] : relation.target_model;
        if (relation.fields.size() == 1) {
          if (base.size() > 2 && base.ends_with("Id")) {
            base.resize(base.size() - 2);
          } else if (base.size() > 3 && base.ends_with("_id")) {
            base.resize(base.size() - 3);
          } else {
            base = relation.target_model;
          }
        }
        std::string name = base;
        for (int n = 2; model.FindField(name) != nullptr; ++n) name = base + std::to_string(n);
        field.name = name;
        field.type.kind = FieldType::Kind::kModel;
        field.type.name = relation.target_model;
        field.type.optional = optional;
        field.relation = std::move(relation);
        model.fields.push_back(std::move(field));
      }
    }

    if (auto fts = fts_by_content.find(e.name); fts != fts_by_content.end()) {
      for (const std::string& column : fts->second.columns) {
        model.fts_fields.push_back(field_name(column));
      }
    }
    schema.models.push_back(std::move(model));
  }
  size_t type_index = 0;
  for (const auto& [table, columns] : missing_targets) {
    bool present = false;
    for (const Model& m : schema.models) present = present || m.table == table;
    if (present || columns.empty()) {
      type_index += columns.size();
      continue;
    }
    Model external;
    external.table = table;
    external.name = IsIdentifier(table) ? table : Capitalized(table);
    external.external = true;
    for (const std::string& column : columns) {
      Field field;
      field.column = column.empty() ? "id" : column;
      field.name = IsIdentifier(field.column) ? field.column : Capitalized(field.column);
      field.type.scalar = missing_target_types[type_index++];
      field.id = columns.size() == 1;
      external.fields.push_back(std::move(field));
    }
    result.warnings.push_back(table + ": referenced but missing; written as @@external");
    schema.models.push_back(std::move(external));
  }
  return result;
}

}  // namespace quarry::schema
