#include "query/write.h"

#include <sqlite3.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <regex>

#include "common/random.h"
#include "query/plan_cache.h"
#include "query/policy_sql.h"
#include "query/read.h"
#include "query/values.h"
#include "query/where.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

std::string Quoted(std::string_view table) {
  std::string q = "\"";
  for (char c : table) {
    q += c;
    if (c == '"') {
      q += '"';
    }
  }
  return q + "\"";
}

bool IsNumeric(const schema::Field& f) {
  return !f.type.list && f.type.kind == schema::FieldType::Kind::kScalar &&
         (f.type.scalar == schema::ScalarType::kInteger ||
          f.type.scalar == schema::ScalarType::kReal);
}

bool IsText(const schema::Field& f) {
  return !f.type.list && f.type.kind == schema::FieldType::Kind::kScalar &&
         f.type.scalar == schema::ScalarType::kText;
}

Status Refuse(const std::string& path, const schema::Field& field, const std::string& rule) {
  return Status(ErrorCode::kValidationFailed, path + ": '" + field.name + "' " + rule)
      .WithPath(path);
}

std::string Nanoid() {
  static constexpr char kAlphabet[] =
      "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";
  std::string bytes = RandomBytes(21);
  std::string id;
  for (char b : bytes) {
    id += kAlphabet[static_cast<unsigned char>(b) & 63];
  }
  return id;
}

// The white space of \s in the validators' patterns (std::regex in the C locale).
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool HasSpace(std::string_view s) { return std::any_of(s.begin(), s.end(), IsSpace); }

// std::regex (libstdc++) recurses about once per character of the subject, so a long value
// overflows the stack and takes the server down: @email and @url are checked by hand, in one
// pass, and a @regex only on values up to this size (where its recursion needs about 1 MiB of
// stack with a pattern such as ^(a|b)*$).
constexpr size_t kMaxRegexInputBytes = 2048;

// @email: ^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$ -- one '@' after a non-empty local part, then two or
// more non-empty labels separated by dots, and no white space.
bool IsEmail(std::string_view s) {
  size_t at = s.find('@');
  if (at == 0 || at == std::string_view::npos || HasSpace(s)) {
    return false;
  }
  std::string_view domain = s.substr(at + 1);
  if (domain.find('@') != std::string_view::npos) {
    return false;
  }
  size_t labels = 0;
  for (size_t start = 0;;) {
    size_t dot = domain.find('.', start);
    size_t end = dot == std::string_view::npos ? domain.size() : dot;
    if (end == start) {
      return false;  // an empty label
    }
    ++labels;
    if (dot == std::string_view::npos) {
      return labels >= 2;
    }
    start = dot + 1;
  }
}

// @url: ^https?://[^\s/?#]+([/?#][^\s]*)?$, case-insensitive -- http:// or https://, a non-empty
// host that does not start the path, query or fragment, and no white space.
bool IsHttpUrl(std::string_view s) {
  auto starts_with = [&](std::string_view prefix) {
    if (s.size() < prefix.size()) {
      return false;
    }
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) {
        return false;
      }
    }
    return true;
  };
  size_t scheme = starts_with("https://") ? 8 : starts_with("http://") ? 7 : 0;
  if (scheme == 0 || scheme == s.size() || HasSpace(s)) {
    return false;
  }
  char first = s[scheme];
  return first != '/' && first != '?' && first != '#';
}

// Transforms, then validators, of a value a caller wrote to `field`.
Status ApplyRules(const schema::Field& field, storage::Value& value, const std::string& path) {
  if (value.type == storage::Value::Type::kText && IsText(field)) {
    for (schema::Transform t : field.transforms) {
      std::string& s = value.bytes;
      switch (t) {
        case schema::Transform::kTrim: {
          size_t b = s.find_first_not_of(" \t\r\n\f\v");
          size_t e = s.find_last_not_of(" \t\r\n\f\v");
          s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
          break;
        }
        case schema::Transform::kLower:
          for (char& c : s) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          }
          break;
        case schema::Transform::kUpper:
          for (char& c : s) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          }
          break;
      }
    }
  }
  if (value.type == storage::Value::Type::kNull) {
    return Status::Ok();
  }
  for (const schema::Validator& v : field.validators) {
    using Kind = schema::Validator::Kind;
    switch (v.kind) {
      case Kind::kEmail: {
        if (!IsEmail(value.bytes)) {
          return Refuse(path, field, "must be an email address (@email)");
        }
        break;
      }
      case Kind::kUrl: {
        if (!IsHttpUrl(value.bytes)) {
          return Refuse(path, field, "must be an http(s) URL (@url)");
        }
        break;
      }
      case Kind::kLength: {
        size_t n = Utf8Length(value.bytes);
        if ((v.min_length && static_cast<int64_t>(n) < *v.min_length) ||
            (v.max_length && static_cast<int64_t>(n) > *v.max_length)) {
          std::string rule = "must be ";
          if (v.min_length && v.max_length) {
            rule += "between " + std::to_string(*v.min_length) + " and " +
                    std::to_string(*v.max_length);
          } else if (v.min_length) {
            rule += "at least " + std::to_string(*v.min_length);
          } else {
            rule += "at most " + std::to_string(*v.max_length);
          }
          return Refuse(path, field, rule + " characters long (@length), got " + std::to_string(n));
        }
        break;
      }
      case Kind::kRegex: {
        if (value.bytes.size() > kMaxRegexInputBytes) {
          return Refuse(path, field,
                        "is longer than the " + std::to_string(kMaxRegexInputBytes) +
                            " bytes a @regex is checked on");
        }
        try {
          std::regex re(v.pattern, std::regex::ECMAScript);
          if (!std::regex_search(value.bytes, re)) {
            return Refuse(path, field, "must match /" + v.pattern + "/ (@regex)");
          }
        } catch (const std::regex_error&) {
          return Refuse(path, field, "has a @regex this server cannot evaluate");
        }
        break;
      }
      case Kind::kGt:
      case Kind::kGte:
      case Kind::kLt:
      case Kind::kLte: {
        double x = value.type == storage::Value::Type::kInteger ? static_cast<double>(value.integer)
                                                                : value.real;
        bool ok = v.kind == Kind::kGt    ? x > v.bound
                  : v.kind == Kind::kGte ? x >= v.bound
                  : v.kind == Kind::kLt  ? x < v.bound
                                         : x <= v.bound;
        if (!ok) {
          const char* op = v.kind == Kind::kGt    ? "greater than"
                           : v.kind == Kind::kGte ? "at least"
                           : v.kind == Kind::kLt  ? "less than"
                                                  : "at most";
          const char* name = v.kind == Kind::kGt    ? "@gt"
                             : v.kind == Kind::kGte ? "@gte"
                             : v.kind == Kind::kLt  ? "@lt"
                                                    : "@lte";
          std::string bound = json::serialize(json::value(v.bound));
          return Refuse(path, field,
                        std::string("must be ") + op + " " + bound + " (" + name + ")");
        }
        break;
      }
    }
  }
  return Status::Ok();
}

// A SQL constraint failure as the data API reports it: 409 for unique and foreign-key
// conflicts (naming the field when SQLite's message names its column), 400 for the rest.
Status MapWriteError(const schema::Model& model, Status status, const std::string& data_path) {
  if (status.code() != ErrorCode::kSqlite || (status.sqlite_code() & 0xff) != SQLITE_CONSTRAINT) {
    return status;
  }
  int code = status.sqlite_code();
  std::string path = data_path;
  std::string message = status.message();
  size_t colon = message.rfind(": ");
  std::string field_name;
  if (colon != std::string::npos) {
    std::string cols = message.substr(colon + 2);
    size_t dot = cols.find('.');
    size_t comma = cols.find(',');
    std::string first = dot == std::string::npos
                            ? ""
                            : cols.substr(dot + 1, comma == std::string::npos ? std::string::npos
                                                                              : comma - dot - 1);
    for (const schema::Field& f : model.fields) {
      if (f.stored() && f.column == first) {
        field_name = f.name;
      }
    }
  }
  if (!field_name.empty()) {
    path = JoinPath(data_path, field_name);
  }
  if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Status(ErrorCode::kConflict,
                  "a " + model.name + " row with this " +
                      (field_name.empty() ? std::string("key") : "'" + field_name + "'") +
                      " already exists (" + message + ")")
        .WithPath(path);
  }
  if (code == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return Status(ErrorCode::kConflict,
                  "a foreign key of " + model.name +
                      " does not match a row, or rows still refer to this one (" + message + ")")
        .WithPath(data_path);
  }
  if (code == SQLITE_CONSTRAINT_NOTNULL) {
    return Status(ErrorCode::kInvalidArgument,
                  (field_name.empty() ? "a required field" : "'" + field_name + "'") +
                      std::string(" is required (") + message + ")")
        .WithPath(path);
  }
  return Status(ErrorCode::kInvalidArgument, "the row breaks a constraint: " + message)
      .WithPath(data_path);
}

struct Assignment {
  const schema::Field* field = nullptr;
  storage::Value value;      // the new value, or an atomic update's operand
  const char* op = nullptr;  // an atomic update's operator (" + ", ...); null: `value` itself
};

// A relation write to do after the row exists (children that point at it).
struct Nested {
  const schema::Field* relation = nullptr;
  const json::value* spec = nullptr;
  std::string path;
};

struct Prepared {
  std::vector<Assignment> columns;
  std::vector<Nested> after;
  bool writes_policy_fields = false;  // some written field has a conditional write policy
};

// The JSON array of primary keys for `IN (SELECT value FROM json_each(?))`.
std::string KeyList(const std::vector<storage::Value>& pks) {
  json::array list;
  for (const storage::Value& pk : pks) {
    if (pk.type == storage::Value::Type::kInteger) {
      list.emplace_back(pk.integer);
    } else {
      list.emplace_back(json::string_view(pk.bytes));
    }
  }
  return json::serialize(list);
}

// What the text of a statement writing `prepared.columns` depends on besides its place: the
// fields in order, with their atomic-update operators (the plan cache's site, plan_cache.h).
std::string ColumnsSite(const Prepared& prepared) {
  std::string site;
  for (const Assignment& a : prepared.columns) {
    site += a.field->name;
    site += a.op != nullptr ? a.op : "";
    site += ',';
  }
  return site;
}

// The columns' values, slot i for column i (SqlBuilder::Slot).
std::vector<storage::Value> ColumnSlots(const Prepared& prepared) {
  std::vector<storage::Value> slots;
  slots.reserve(prepared.columns.size());
  for (const Assignment& a : prepared.columns) {
    slots.push_back(a.value);
  }
  return slots;
}

// Appends column i's new value: slot i, or `"table"."column" <op> slot i` for atomic updates.
void AppendValue(SqlBuilder& sql, const schema::Model& model, const Prepared& prepared, size_t i) {
  const Assignment& a = prepared.columns[i];
  if (a.op != nullptr) {
    sql.Column(Quoted(model.table), a.field->column);
    sql << a.op;
  }
  sql.Slot(i);
}

// Appends `"column" = <value>, ...` for the prepared columns.
void AppendAssignments(SqlBuilder& sql, const schema::Model& model, const Prepared& prepared) {
  for (size_t i = 0; i < prepared.columns.size(); ++i) {
    sql << (i ? ", " : "");
    sql.Ident(prepared.columns[i].field->column);
    sql << " = ";
    AppendValue(sql, model, prepared, i);
  }
}

// `<verb> "table" (columns) VALUES (slots)`, or DEFAULT VALUES.
void AppendInsert(SqlBuilder& sql, std::string_view verb, const schema::Model& model,
                  const Prepared& prepared) {
  sql << verb;
  sql.Ident(model.table);
  if (prepared.columns.empty()) {
    sql << " DEFAULT VALUES";
    return;
  }
  sql << " (";
  for (size_t i = 0; i < prepared.columns.size(); ++i) {
    sql << (i ? ", " : "");
    sql.Ident(prepared.columns[i].field->column);
  }
  sql << ") VALUES (";
  for (size_t i = 0; i < prepared.columns.size(); ++i) {
    sql << (i ? ", " : "");
    AppendValue(sql, model, prepared, i);
  }
  sql << ")";
}

// The argument subtrees a statement's text depends on (StatementShape::args).
using Trees = std::vector<std::pair<std::string, const json::value*>>;

class Writer {
 public:
  Writer(CompileContext& ctx, SqlRunner& runner) : ctx_(ctx), runner_(runner) {}

  Result<std::string> Run(const schema::Model& model, WriteOp op, const json::object& args) {
    args_ = &args;
    switch (op) {
      case WriteOp::kCreate:
        return Create(model, args);
      case WriteOp::kCreateMany:
        return CreateMany(model, args);
      case WriteOp::kUpdate:
        return Update(model, args);
      case WriteOp::kUpdateMany:
        return UpdateMany(model, args);
      case WriteOp::kUpsert:
        return Upsert(model, args);
      case WriteOp::kUpsertMany:
        return UpsertMany(model, args);
      case WriteOp::kDelete:
        return Delete(model, args, /*soft=*/false);
      case WriteOp::kRemove:
        return Delete(model, args, /*soft=*/model.soft_delete);
      case WriteOp::kDeleteMany:
        return DeleteMany(model, args, false);
      case WriteOp::kRemoveMany:
        return DeleteMany(model, args, model.soft_delete);
      case WriteOp::kRestore:
        return Restore(model, args);
    }
    return Status(ErrorCode::kInternal, "unknown write");
  }

 private:
  // Runs one statement of this write on `model`, built by `build` or taken from the plan cache
  // (plan_cache.h, CompileStatement): `site` names its place in the writer with whatever else
  // its text depends on beyond `trees` (the argument subtrees it reads); `slots` are the values
  // `build` binds with SqlBuilder::Slot. SQL errors are reported against `data_path`.
  Result<std::vector<Row>> Exec(const schema::Model& model, std::string_view site, Trees trees,
                                const std::vector<storage::Value>& slots,
                                const std::string& data_path, const StatementBuilder& build) {
    StatementShape shape{model.name + "|" + std::string(site), std::move(trees)};
    QUARRY_ASSIGN_OR_RETURN(CompiledStatement statement,
                            CompileStatement(ctx_, shape, *args_, slots, build));
    auto rows = runner_.Run(statement.sql, statement.params);
    if (!rows.ok()) {
      return MapWriteError(model, rows.status(), data_path);
    }
    return std::move(*rows);
  }

  // --- data ----------------------------------------------------------------------------------

  Result<Assignment> CallerValue(const schema::Model& model, const schema::Field& field,
                                 const json::value& value, bool update, const std::string& path) {
    QUARRY_RETURN_IF_ERROR(CheckFieldWritable(ctx_, field, path));
    Assignment a;
    a.field = &field;
    if (update && value.is_object() && IsNumeric(field)) {
      const json::object& o = value.get_object();
      if (o.size() != 1) {
        return ArgError(path,
                        "an atomic update takes one of increment, decrement, multiply, "
                        "divide, set");
      }
      std::string key(o.begin()->key());
      const json::value& operand = o.begin()->value();
      std::string sub = JoinPath(path, key);
      if (key == "set") {
        return CallerValue(model, field, operand, false, sub);
      }
      const char* op = key == "increment"   ? " + "
                       : key == "decrement" ? " - "
                       : key == "multiply"  ? " * "
                       : key == "divide"    ? " / "
                                            : nullptr;
      if (op == nullptr) {
        return ArgError(sub, "unknown atomic update '" + key +
                                 "' (increment, decrement, multiply, divide, set)");
      }
      if (!operand.is_number()) {
        return ArgError(sub, key + " takes a number");
      }
      QUARRY_ASSIGN_OR_RETURN(a.value, ScalarValue(ctx_.schema, field, operand, sub));
      a.op = op;
      return a;
    }
    if (value.is_null() && !field.type.optional) {
      return ArgError(path, "'" + field.name + "' is required and cannot be null");
    }
    QUARRY_ASSIGN_OR_RETURN(storage::Value v, ColumnValue(ctx_.schema, field, value, path));
    QUARRY_RETURN_IF_ERROR(ApplyRules(field, v, path));
    a.value = std::move(v);
    return a;
  }

  static Assignment Known(const schema::Field& field, storage::Value v) {
    Assignment a;
    a.field = &field;
    a.value = std::move(v);
    return a;
  }

  Result<storage::Value> ClaimValue(const schema::Field& field, const std::string& claim,
                                    const std::string& path) {
    auto it = ctx_.identity.claims.find(claim);
    if (it == ctx_.identity.claims.end() || it->value().is_null()) {
      return NullValue();
    }
    auto v = ScalarValue(ctx_.schema, field, it->value(), path);
    if (!v.ok()) {
      return Status(ErrorCode::kInvalidArgument, path + ": the caller's claim '" + claim +
                                                     "' does not fit field '" + field.name +
                                                     "': " + v.status().message())
          .WithPath(path);
    }
    return v;
  }

  // The referenced fields' values of the row of `model` with primary key `pk`.
  Result<Row> ReferencedValues(const schema::Model& model, const std::vector<std::string>& refs,
                               const storage::Value& pk) {
    std::string site = "refs:";
    for (const std::string& ref : refs) {
      site += ref + ",";
    }
    auto build = [&](SqlBuilder& sql) {
      sql << "SELECT ";
      for (size_t i = 0; i < refs.size(); ++i) {
        sql << (i ? ", " : "");
        sql.Ident(model.FindField(refs[i])->column);
      }
      sql << " FROM ";
      sql.Ident(model.table);
      sql << " WHERE ";
      sql.Ident(model.PrimaryKey()->column);
      sql << " = ";
      sql.Slot(0);
      return Status::Ok();
    };
    QUARRY_ASSIGN_OR_RETURN(std::vector<Row> rows, Exec(model, site, {}, {pk}, "", build));
    if (rows.empty()) {
      return Status(ErrorCode::kInternal, "a row just written is missing");
    }
    return std::move(rows[0]);
  }

  // Resolves `connect` (a where naming one row of `target` the caller may read) to its
  // primary key. The lookup reads `target` (whether a row matches is an answer): its read
  // @@gate applies first.
  Result<storage::Value> ConnectTarget(const schema::Model& target, const json::value& where,
                                       const std::string& path) {
    QUARRY_RETURN_IF_ERROR(CheckReadGate(ctx_, target));
    if (!where.is_object()) {
      return ArgError(path, "connect takes a where naming one row, such as {\"id\": 5}");
    }
    auto build = [&](SqlBuilder& sql) {
      std::string alias = ctx_.NewAlias();
      sql << "SELECT ";
      sql.Column(alias, target.PrimaryKey()->column);
      sql << " FROM ";
      sql.Ident(target.table);
      sql << " AS " << alias << " WHERE ";
      AppendReadScope(ctx_, sql, target, alias);
      sql << " AND ";
      QUARRY_RETURN_IF_ERROR(AppendWhere(ctx_, sql, target, alias, &where, path));
      sql << " LIMIT 2";
      return Status::Ok();
    };
    QUARRY_ASSIGN_OR_RETURN(std::vector<Row> rows,
                            Exec(target, "connect", {{path, &where}}, {}, path, build));
    if (rows.size() != 1) {
      return Status(ErrorCode::kNotFound, path + ": " + (rows.empty() ? "no " : "more than one ") +
                                              target.name + " row matches the connect")
          .WithPath(path);
    }
    return std::move(rows[0][0]);
  }

  // Fills `prepared` from `data`. Owning to-one relations are resolved now (connect, or a
  // nested create of the parent first); to-many and back-side relations are left in `after`.
  Status PrepareData(const schema::Model& model, const json::object& data, bool create,
                     const std::string& path, Prepared& prepared,
                     const std::vector<Assignment>* forced) {
    std::vector<std::string> forced_names;
    if (forced != nullptr) {
      for (const Assignment& a : *forced) {
        forced_names.push_back(a.field->name);
      }
    }
    auto is_forced = [&](const std::string& name) {
      return std::find(forced_names.begin(), forced_names.end(), name) != forced_names.end();
    };
    for (const auto& [key_view, value] : data) {
      std::string key(key_view);
      std::string sub = JoinPath(path, key);
      const schema::Field* field = model.FindField(key);
      if (field == nullptr) {
        return ArgError(sub, "unknown field '" + key + "' of model '" + model.name + "'");
      }
      if (is_forced(key)) {
        return ArgError(sub, "'" + key + "' is set by the relation this row is created through");
      }
      if (field->stored()) {
        QUARRY_ASSIGN_OR_RETURN(Assignment a, CallerValue(model, *field, value, !create, sub));
        prepared.writes_policy_fields =
            prepared.writes_policy_fields || HasFieldWritePolicy(ctx_, *field);
        prepared.columns.push_back(std::move(a));
        continue;
      }
      if (!value.is_object()) {
        return ArgError(sub, "a relation write takes {create: ...} or {connect: ...}");
      }
      const json::object& spec = value.get_object();
      QUARRY_RETURN_IF_ERROR(
          CheckKeys(spec, {"create", "connect", "disconnect"}, sub, "a relation write"));
      if (field->type.list || !field->relation->owning) {
        prepared.after.push_back({field, &value, sub});
        continue;
      }
      // Owning to-one: the foreign key is this row's.
      const schema::Model& target = Target(ctx_, *field);
      const schema::Relation& rel = *field->relation;
      if (spec.size() != 1) {
        return ArgError(sub, "give one of create, connect or disconnect");
      }
      std::optional<storage::Value> target_pk;
      if (const json::value* c = spec.if_contains("create")) {
        if (!c->is_object()) {
          return ArgError(JoinPath(sub, "create"), "expected the related row's data object");
        }
        QUARRY_ASSIGN_OR_RETURN(
            target_pk, CreateRow(target, c->get_object(), JoinPath(sub, "create"), nullptr));
      } else if (const json::value* c = spec.if_contains("connect")) {
        QUARRY_ASSIGN_OR_RETURN(target_pk, ConnectTarget(target, *c, JoinPath(sub, "connect")));
      } else {
        const json::value& d = spec.at("disconnect");
        if (!(d.is_bool() && d.get_bool())) {
          return ArgError(JoinPath(sub, "disconnect"), "expected true");
        }
        for (const std::string& fk : rel.fields) {
          const schema::Field* f = model.FindField(fk);
          if (!f->type.optional) {
            return ArgError(sub, "cannot disconnect a required relation");
          }
          prepared.columns.push_back(Known(*f, NullValue()));
        }
        continue;
      }
      QUARRY_ASSIGN_OR_RETURN(Row refs, ReferencedValues(target, rel.references, *target_pk));
      for (size_t i = 0; i < rel.fields.size(); ++i) {
        const schema::Field* f = model.FindField(rel.fields[i]);
        if (data.contains(f->name)) {
          return ArgError(sub, "'" + f->name + "' is also set by this relation write");
        }
        prepared.columns.push_back(Known(*f, refs[i]));
      }
    }
    if (forced != nullptr) {
      for (const Assignment& a : *forced) {
        prepared.columns.push_back(Known(*a.field, a.value));
      }
    }
    auto written = [&](const schema::Field& f) {
      return std::any_of(prepared.columns.begin(), prepared.columns.end(),
                         [&](const Assignment& a) { return a.field == &f; });
    };
    // Stamps and the defaults the database cannot compute.
    for (const schema::Field& f : model.fields) {
      if (!f.stored() || written(f)) {
        continue;
      }
      std::string sub = JoinPath(path, f.name);
      if (f.updated_at) {
        prepared.columns.push_back(Known(f, TextValue(ctx_.now)));
        continue;
      }
      if (f.updated_by_claim) {
        QUARRY_ASSIGN_OR_RETURN(storage::Value v, ClaimValue(f, *f.updated_by_claim, sub));
        if (v.type != storage::Value::Type::kNull || f.type.optional) {
          prepared.columns.push_back(Known(f, std::move(v)));
        }
        continue;
      }
      if (!create || !f.default_value) {
        continue;
      }
      using Kind = schema::DefaultValue::Kind;
      if (f.default_value->kind == Kind::kNanoid) {
        prepared.columns.push_back(Known(f, TextValue(Nanoid())));
      } else if (f.default_value->kind == Kind::kAuthClaim) {
        QUARRY_ASSIGN_OR_RETURN(storage::Value v, ClaimValue(f, f.default_value->claim, sub));
        prepared.columns.push_back(Known(f, std::move(v)));
      }
    }
    if (create) {
      for (const schema::Field& f : model.fields) {
        if (!f.stored() || written(f) || !f.default_value ||
            f.default_value->kind != schema::DefaultValue::Kind::kField) {
          continue;
        }
        const schema::Field* sibling = model.FindField(f.default_value->field);
        const Assignment* given = nullptr;
        for (const Assignment& a : prepared.columns) {
          if (a.field == sibling) {
            given = &a;
          }
        }
        std::optional<storage::Value> value;
        if (given != nullptr && given->op == nullptr) {
          value = given->value;
        } else if (given == nullptr) {
          // The sibling takes its own default, computed here so both fields get the same value.
          QUARRY_ASSIGN_OR_RETURN(value, DefaultOf(*sibling));
          if (value) {
            prepared.columns.push_back(Known(*sibling, *value));
          }
        }
        prepared.columns.push_back(Known(f, value.value_or(NullValue())));
      }
      for (const schema::Field& f : model.fields) {
        bool auto_id = f.id && f.type.kind == schema::FieldType::Kind::kScalar &&
                       f.type.scalar == schema::ScalarType::kInteger;
        if (f.stored() && !f.type.optional && !f.default_value && !f.generated && !auto_id &&
            !written(f)) {
          return ArgError(JoinPath(path, f.name), "'" + f.name + "' is required");
        }
      }
    }
    return Status::Ok();
  }

  // The value a field's SQL default would give it, computed here; nullopt when it has none.
  Result<std::optional<storage::Value>> DefaultOf(const schema::Field& f) {
    using Kind = schema::DefaultValue::Kind;
    if (!f.default_value) {
      return std::optional<storage::Value>();
    }
    const schema::DefaultValue& d = *f.default_value;
    switch (d.kind) {
      case Kind::kLiteral: {
        json::value literal;
        switch (d.literal.kind) {
          case schema::Literal::Kind::kNull:
            return std::optional<storage::Value>(NullValue());
          case schema::Literal::Kind::kBool:
            return std::optional<storage::Value>(IntValue(d.literal.bool_value ? 1 : 0));
          case schema::Literal::Kind::kInteger:
            return std::optional<storage::Value>(IntValue(d.literal.int_value));
          case schema::Literal::Kind::kReal:
            return std::optional<storage::Value>(RealValue(d.literal.real_value));
          case schema::Literal::Kind::kString:
            return std::optional<storage::Value>(TextValue(d.literal.text));
          case schema::Literal::Kind::kList:
            return std::optional<storage::Value>();
        }
        return std::optional<storage::Value>();
      }
      case Kind::kEnumValue:
        return std::optional<storage::Value>(TextValue(d.enum_value));
      case Kind::kNow:
        return std::optional<storage::Value>(TextValue(ctx_.now));
      case Kind::kNanoid:
        return std::optional<storage::Value>(TextValue(Nanoid()));
      case Kind::kAuthClaim: {
        QUARRY_ASSIGN_OR_RETURN(storage::Value v, ClaimValue(f, d.claim, f.name));
        return std::optional<storage::Value>(std::move(v));
      }
      default:
        // uuid(), ulid(): the database computes them; a sibling copy of one is not supported
        // by the binder.
        return std::optional<storage::Value>();
    }
  }

  // One row of a bulk create (`op`): its data prepared for an insert; nested relation writes
  // are refused (bulk operations write one table).
  Status PrepareBulkRow(const schema::Model& model, const json::value& row, const std::string& path,
                        std::string_view op, Prepared& prepared) {
    if (!row.is_object()) {
      return ArgError(path, "expected an object of field values");
    }
    QUARRY_RETURN_IF_ERROR(PrepareData(model, row.get_object(), true, path, prepared, nullptr));
    if (!prepared.after.empty()) {
      return ArgError(JoinPath(path, prepared.after[0].relation->name),
                      std::string(op) + " does not take nested relation writes; use create");
    }
    return Status::Ok();
  }

  // Appends RETURNING checks: the create policy (when `create`) and the write policies of the
  // fields written, each as a column after the primary key.
  int AppendChecks(SqlBuilder& sql, const schema::Model& model, const Prepared& prepared,
                   bool create) {
    const std::string self = Quoted(model.table);
    int checks = 0;
    if (create && HasRowPolicy(ctx_, model, RowOperation::kCreate)) {
      sql << ", ";
      AppendRowPolicy(ctx_, sql, model, self, RowOperation::kCreate);
      ++checks;
    }
    if (prepared.writes_policy_fields) {
      for (const Assignment& a : prepared.columns) {
        if (HasFieldWritePolicy(ctx_, *a.field)) {
          sql << ", ";
          AppendFieldWriteCondition(ctx_, sql, model, *a.field, self);
          ++checks;
        }
      }
    }
    return checks;
  }

  // Fails with 403 when a RETURNING check of some row is false.
  Status VerifyChecks(const schema::Model& model, const std::vector<Row>& rows, size_t first,
                      bool create, const Prepared& prepared, const std::string& path) {
    for (const Row& row : rows) {
      for (size_t i = first; i < row.size(); ++i) {
        if (row[i].type == storage::Value::Type::kInteger && row[i].integer != 0) {
          continue;
        }
        size_t index = i - first;
        bool create_check = create && HasRowPolicy(ctx_, model, RowOperation::kCreate);
        if (create_check && index == 0) {
          return Status(ErrorCode::kForbidden, RefusalMessage(model, RowOperation::kCreate))
              .WithPath(path);
        }
        size_t field_index = index - (create_check ? 1 : 0);
        for (const Assignment& a : prepared.columns) {
          if (HasFieldWritePolicy(ctx_, *a.field) && field_index-- == 0) {
            std::string sub = JoinPath(path, a.field->name);
            return Status(ErrorCode::kForbidden,
                          sub + ": the caller may not write field '" + a.field->name + "'")
                .WithPath(sub);
          }
        }
        return Status(ErrorCode::kForbidden, "a policy refuses this write").WithPath(path);
      }
    }
    return Status::Ok();
  }

  // Inserts one row (and its nested relation writes); returns its primary key.
  Result<storage::Value> CreateRow(const schema::Model& model, const json::object& data,
                                   const std::string& path, const std::vector<Assignment>* forced) {
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model, RowOperation::kCreate));
    Prepared prepared;
    QUARRY_RETURN_IF_ERROR(PrepareData(model, data, true, path, prepared, forced));
    auto build = [&](SqlBuilder& sql) {
      AppendInsert(sql, "INSERT INTO ", model, prepared);
      sql << " RETURNING ";
      sql.Column(Quoted(model.table), model.PrimaryKey()->column);
      AppendChecks(sql, model, prepared, true);
      return Status::Ok();
    };
    QUARRY_ASSIGN_OR_RETURN(std::vector<Row> rows, Exec(model, "insert:" + ColumnsSite(prepared),
                                                        {}, ColumnSlots(prepared), path, build));
    QUARRY_RETURN_IF_ERROR(VerifyChecks(model, rows, 1, true, prepared, path));
    storage::Value pk = rows.at(0).at(0);
    QUARRY_RETURN_IF_ERROR(RunNested(model, pk, prepared.after));
    return pk;
  }

  // Relation writes that point at the row `pk` of `model`: children created with their
  // foreign key set, or connected (their foreign key updated).
  Status RunNested(const schema::Model& model, const storage::Value& pk,
                   const std::vector<Nested>& nested) {
    for (const Nested& n : nested) {
      const schema::Model& child = Target(ctx_, *n.relation);
      const schema::Field* back = child.FindField(n.relation->relation->back_field);
      const schema::Relation& rel = *back->relation;
      QUARRY_ASSIGN_OR_RETURN(Row refs, ReferencedValues(model, rel.references, pk));
      std::vector<Assignment> forced;
      for (size_t i = 0; i < rel.fields.size(); ++i) {
        forced.push_back(Known(*child.FindField(rel.fields[i]), refs[i]));
      }
      const json::object& spec = n.spec->get_object();
      if (const json::value* c = spec.if_contains("create")) {
        std::vector<const json::value*> items;
        if (c->is_array()) {
          for (const json::value& item : c->get_array()) {
            items.push_back(&item);
          }
        } else {
          items.push_back(c);
        }
        if (!n.relation->type.list && items.size() != 1) {
          return ArgError(JoinPath(n.path, "create"), "a to-one relation creates one row");
        }
        for (size_t i = 0; i < items.size(); ++i) {
          std::string sub = c->is_array() ? JoinPath(JoinPath(n.path, "create"), std::to_string(i))
                                          : JoinPath(n.path, "create");
          if (!items[i]->is_object()) {
            return ArgError(sub, "expected the related row's data object");
          }
          QUARRY_ASSIGN_OR_RETURN(storage::Value child_pk,
                                  CreateRow(child, items[i]->get_object(), sub, &forced));
          (void)child_pk;
        }
      }
      if (const json::value* c = spec.if_contains("connect")) {
        std::vector<const json::value*> items;
        if (c->is_array()) {
          for (const json::value& item : c->get_array()) {
            items.push_back(&item);
          }
        } else {
          items.push_back(c);
        }
        for (size_t i = 0; i < items.size(); ++i) {
          std::string sub = c->is_array() ? JoinPath(JoinPath(n.path, "connect"), std::to_string(i))
                                          : JoinPath(n.path, "connect");
          // The update gate before the lookup: a refused caller learns nothing of the rows.
          QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, child, RowOperation::kUpdate));
          QUARRY_ASSIGN_OR_RETURN(storage::Value child_pk, ConnectTarget(child, *items[i], sub));
          std::string site = "connectUpdate:";
          std::vector<storage::Value> slots;
          for (const Assignment& a : forced) {
            site += a.field->name + ",";
            slots.push_back(a.value);
          }
          slots.push_back(child_pk);
          auto build = [&](SqlBuilder& sql) {
            const std::string self = Quoted(child.table);
            sql << "UPDATE " << self << " SET ";
            for (size_t k = 0; k < forced.size(); ++k) {
              sql << (k ? ", " : "");
              sql.Ident(forced[k].field->column);
              sql << " = ";
              sql.Slot(k);
            }
            sql << " WHERE ";
            sql.Column(self, child.PrimaryKey()->column);
            sql << " = ";
            sql.Slot(forced.size());
            sql << " AND ";
            AppendRowPolicy(ctx_, sql, child, self, RowOperation::kUpdate);
            return Status::Ok();
          };
          QUARRY_RETURN_IF_ERROR(Exec(child, site, {}, slots, sub, build).status());
          if (runner_.Changes() != 1) {
            return Status(ErrorCode::kForbidden,
                          sub + ": " + RefusalMessage(child, RowOperation::kUpdate))
                .WithPath(sub);
          }
        }
      }
      if (spec.contains("disconnect")) {
        return ArgError(JoinPath(n.path, "disconnect"),
                        "disconnect applies to the side that holds the foreign key");
      }
    }
    return Status::Ok();
  }

  // The row `pk` of `model` as the caller reads it, shaped by args' select/include.
  Result<std::string> ReadBack(const schema::Model& model, const storage::Value& pk,
                               const json::object& args, bool with_deleted) {
    const json::value* select = args.if_contains("select");
    if (select != nullptr && select->is_bool() && !select->get_bool()) {
      return std::string("null");
    }
    if (select != nullptr && !select->is_object() && !select->is_null()) {
      return ArgError("select", "expected an object, or false for no result");
    }
    const json::value* include = args.if_contains("include");
    if (include != nullptr && !include->is_object() && !include->is_null()) {
      return ArgError("include", "expected an object");
    }
    auto build = [&](SqlBuilder& sql) {
      std::string alias = ctx_.NewAlias();
      sql << "SELECT ";
      QUARRY_RETURN_IF_ERROR(AppendRowJson(
          ctx_, sql, model, alias, select && select->is_object() ? &select->get_object() : nullptr,
          include && include->is_object() ? &include->get_object() : nullptr, false, ""));
      sql << " FROM ";
      sql.Ident(model.table);
      sql << " AS " << alias << " WHERE ";
      sql.Column(alias, model.PrimaryKey()->column);
      sql << " = ";
      sql.Slot(0);
      sql << " AND ";
      AppendReadScope(ctx_, sql, model, alias, with_deleted);
      return Status::Ok();
    };
    QUARRY_ASSIGN_OR_RETURN(std::vector<Row> rows,
                            Exec(model, with_deleted ? "readback:deleted" : "readback",
                                 {{"select", select}, {"include", include}}, {pk}, "", build));
    return rows.empty() ? std::string("null") : std::move(rows[0][0].bytes);
  }

  static bool NoResult(const json::object& args) {
    const json::value* select = args.if_contains("select");
    return select != nullptr && select->is_bool() && !select->get_bool();
  }

  Result<const json::object*> DataArg(const json::object& args, std::string_view key) {
    const json::value* data = args.if_contains(key);
    if (data == nullptr || !data->is_object()) {
      return ArgError(std::string(key), "expected an object of field values");
    }
    return &data->get_object();
  }

  // The where of a single-row operation must name one row: the primary key or every field of
  // a unique constraint, by equality.
  Status CheckUniqueWhere(const schema::Model& model, const json::object& args) {
    const json::value* where = args.if_contains("where");
    if (where == nullptr || !where->is_object()) {
      return ArgError("where", "expected a where naming the primary key or a unique field");
    }
    const json::object& w = where->get_object();
    auto has = [&](const std::string& name) {
      const json::value* v = w.if_contains(name);
      return v != nullptr && (!v->is_object() || v->get_object().contains("equals"));
    };
    if (has(model.PrimaryKey()->name)) {
      return Status::Ok();
    }
    for (const schema::Field& f : model.fields) {
      if (f.unique && has(f.name)) {
        return Status::Ok();
      }
    }
    for (const schema::Index& index : model.indexes) {
      if (index.unique && std::all_of(index.fields.begin(), index.fields.end(), has)) {
        return Status::Ok();
      }
    }
    return ArgError("where", "a single-row operation's where must name the primary key ('" +
                                 model.PrimaryKey()->name + "') or a unique field of " +
                                 model.name);
  }

  // Primary keys of the rows of `model` matching args.where that the caller may `op`.
  Result<std::vector<storage::Value>> Targets(const schema::Model& model, const json::object& args,
                                              RowOperation op, std::optional<int64_t> limit,
                                              bool deleted_rows) {
    const json::value* where = args.if_contains("where");
    auto build = [&](SqlBuilder& sql) {
      std::string alias = ctx_.NewAlias();
      sql << "SELECT ";
      sql.Column(alias, model.PrimaryKey()->column);
      sql << " FROM ";
      sql.Ident(model.table);
      sql << " AS " << alias << " WHERE ";
      AppendRowPolicy(ctx_, sql, model, alias, op);
      if (const schema::Field* deleted_at = SoftDeleteField(model)) {
        sql << " AND ";
        sql.Column(alias, deleted_at->column);
        sql << (deleted_rows ? " IS NOT NULL" : " IS NULL");
      }
      sql << " AND ";
      QUARRY_RETURN_IF_ERROR(AppendWhere(ctx_, sql, model, alias, where, "where"));
      if (limit) {
        sql << " LIMIT ";
        sql.Slot(0);
      }
      return Status::Ok();
    };
    std::string site = std::string("targets:") + RowOperationName(op) +
                       (deleted_rows ? ":deleted" : "") + (limit ? ":limit" : "");
    std::vector<storage::Value> slots;
    if (limit) {
      slots.push_back(IntValue(*limit));
    }
    QUARRY_ASSIGN_OR_RETURN(std::vector<Row> rows,
                            Exec(model, site, {{"where", where}}, slots, "where", build));
    std::vector<storage::Value> pks;
    for (Row& r : rows) {
      pks.push_back(std::move(r[0]));
    }
    return pks;
  }

  // --- operations ----------------------------------------------------------------------------

  Result<std::string> Create(const schema::Model& model, const json::object& args) {
    QUARRY_RETURN_IF_ERROR(CheckKeys(args, {"data", "select", "include"}, "", "create"));
    QUARRY_ASSIGN_OR_RETURN(const json::object* data, DataArg(args, "data"));
    QUARRY_ASSIGN_OR_RETURN(storage::Value pk, CreateRow(model, *data, "data", nullptr));
    return ReadBack(model, pk, args, false);
  }

  Result<std::string> CreateMany(const schema::Model& model, const json::object& args) {
    QUARRY_RETURN_IF_ERROR(CheckKeys(args, {"data", "skipDuplicates"}, "", "createMany"));
    const json::value* data = args.if_contains("data");
    if (data == nullptr || !data->is_array()) {
      return ArgError("data", "expected an array of rows");
    }
    QUARRY_ASSIGN_OR_RETURN(bool skip, BoolArg(args, "skipDuplicates", false, ""));
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model, RowOperation::kCreate));
    int64_t count = 0;
    const json::array& rows = data->get_array();
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string path = JoinPath("data", std::to_string(i));
      Prepared prepared;
      QUARRY_RETURN_IF_ERROR(PrepareBulkRow(model, rows[i], path, "createMany", prepared));
      auto build = [&](SqlBuilder& sql) {
        AppendInsert(sql, skip ? "INSERT OR IGNORE INTO " : "INSERT INTO ", model, prepared);
        SqlBuilder checks;
        if (AppendChecks(checks, model, prepared, true) > 0) {
          sql << " RETURNING 1";
          sql.Append(std::move(checks));
        }
        return Status::Ok();
      };
      std::string site = (skip ? "insertMany:ignore:" : "insertMany:") + ColumnsSite(prepared);
      QUARRY_ASSIGN_OR_RETURN(std::vector<Row> result,
                              Exec(model, site, {}, ColumnSlots(prepared), path, build));
      QUARRY_RETURN_IF_ERROR(VerifyChecks(model, result, 1, true, prepared, path));
      count += runner_.Changes();
    }
    return "{\"count\":" + std::to_string(count) + "}";
  }

  // UPDATE of the rows `pks` with `data`; returns how many changed.
  Result<int64_t> UpdateRows(const schema::Model& model, const std::vector<storage::Value>& pks,
                             const json::object& data, const std::string& path) {
    if (pks.empty()) {
      return 0;
    }
    Prepared prepared;
    QUARRY_RETURN_IF_ERROR(PrepareData(model, data, false, path, prepared, nullptr));
    const std::string self = Quoted(model.table);
    int64_t changed = 0;
    if (!prepared.columns.empty()) {
      std::vector<storage::Value> slots = ColumnSlots(prepared);
      slots.push_back(TextValue(KeyList(pks)));
      auto build = [&](SqlBuilder& sql) {
        sql << "UPDATE " << self << " SET ";
        AppendAssignments(sql, model, prepared);
        sql << " WHERE ";
        sql.Column(self, model.PrimaryKey()->column);
        sql << " IN (SELECT value FROM json_each(";
        sql.Slot(prepared.columns.size());
        sql << "))";
        SqlBuilder checks;
        if (AppendChecks(checks, model, prepared, false) > 0) {
          sql << " RETURNING 1";
          sql.Append(std::move(checks));
        }
        return Status::Ok();
      };
      QUARRY_ASSIGN_OR_RETURN(
          std::vector<Row> result,
          Exec(model, "update:" + ColumnsSite(prepared), {}, slots, path, build));
      QUARRY_RETURN_IF_ERROR(VerifyChecks(model, result, 1, false, prepared, path));
      changed = runner_.Changes();
    } else {
      changed = static_cast<int64_t>(pks.size());
    }
    for (const storage::Value& pk : pks) {
      QUARRY_RETURN_IF_ERROR(RunNested(model, pk, prepared.after));
    }
    return changed;
  }

  Result<std::string> Update(const schema::Model& model, const json::object& args) {
    QUARRY_RETURN_IF_ERROR(CheckKeys(args, {"where", "data", "select", "include"}, "", "update"));
    QUARRY_RETURN_IF_ERROR(CheckUniqueWhere(model, args));
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model, RowOperation::kUpdate));
    QUARRY_ASSIGN_OR_RETURN(const json::object* data, DataArg(args, "data"));
    QUARRY_ASSIGN_OR_RETURN(std::vector<storage::Value> pks,
                            Targets(model, args, RowOperation::kUpdate, 1, false));
    if (pks.empty()) {
      return std::string("null");
    }
    QUARRY_RETURN_IF_ERROR(UpdateRows(model, pks, *data, "data").status());
    return ReadBack(model, pks[0], args, false);
  }

  Result<std::string> UpdateMany(const schema::Model& model, const json::object& args) {
    QUARRY_RETURN_IF_ERROR(CheckKeys(args, {"where", "data"}, "", "updateMany"));
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model, RowOperation::kUpdate));
    QUARRY_ASSIGN_OR_RETURN(const json::object* data, DataArg(args, "data"));
    // One UPDATE over the matching rows the caller may update.
    Prepared prepared;
    QUARRY_RETURN_IF_ERROR(PrepareData(model, *data, false, "data", prepared, nullptr));
    if (!prepared.after.empty()) {
      return ArgError(JoinPath("data", prepared.after[0].relation->name),
                      "updateMany does not take nested relation writes");
    }
    if (prepared.columns.empty()) {
      return std::string("{\"count\":0}");
    }
    const json::value* where = args.if_contains("where");
    auto build = [&](SqlBuilder& sql) {
      const std::string self = Quoted(model.table);
      sql << "UPDATE " << self << " SET ";
      AppendAssignments(sql, model, prepared);
      sql << " WHERE ";
      AppendRowPolicy(ctx_, sql, model, self, RowOperation::kUpdate);
      if (const schema::Field* deleted_at = SoftDeleteField(model)) {
        sql << " AND ";
        sql.Column(self, deleted_at->column);
        sql << " IS NULL";
      }
      sql << " AND ";
      QUARRY_RETURN_IF_ERROR(AppendWhere(ctx_, sql, model, self, where, "where"));
      SqlBuilder checks;
      if (AppendChecks(checks, model, prepared, false) > 0) {
        sql << " RETURNING 1";
        sql.Append(std::move(checks));
      }
      return Status::Ok();
    };
    QUARRY_ASSIGN_OR_RETURN(std::vector<Row> result,
                            Exec(model, "updateMany:" + ColumnsSite(prepared), {{"where", where}},
                                 ColumnSlots(prepared), "data", build));
    QUARRY_RETURN_IF_ERROR(VerifyChecks(model, result, 1, false, prepared, "data"));
    return "{\"count\":" + std::to_string(runner_.Changes()) + "}";
  }

  Result<std::string> Upsert(const schema::Model& model, const json::object& args) {
    QUARRY_RETURN_IF_ERROR(
        CheckKeys(args, {"where", "create", "update", "select", "include"}, "", "upsert"));
    QUARRY_RETURN_IF_ERROR(CheckUniqueWhere(model, args));
    QUARRY_ASSIGN_OR_RETURN(const json::object* create, DataArg(args, "create"));
    QUARRY_ASSIGN_OR_RETURN(const json::object* update, DataArg(args, "update"));
    // Whether the row exists at all (not only for this caller): an existing row the caller
    // may not update is left alone and answered as null, never created twice.
    CompileContext system_ctx{ctx_.schema, system_identity_, ctx_.now, ctx_.sign_cursor,
                              ctx_.next_alias};
    system_ctx.plans = ctx_.plans;
    system_ctx.schema_generation = ctx_.schema_generation;
    Writer probe(system_ctx, runner_);
    probe.args_ = args_;
    QUARRY_ASSIGN_OR_RETURN(std::vector<storage::Value> existing,
                            probe.Targets(model, args, RowOperation::kRead, 1, false));
    ctx_.next_alias = system_ctx.next_alias;
    if (existing.empty()) {
      QUARRY_ASSIGN_OR_RETURN(storage::Value pk, CreateRow(model, *create, "create", nullptr));
      return ReadBack(model, pk, args, false);
    }
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model, RowOperation::kUpdate));
    QUARRY_ASSIGN_OR_RETURN(std::vector<storage::Value> pks,
                            Targets(model, args, RowOperation::kUpdate, 1, false));
    if (pks.empty()) {
      return std::string("null");
    }
    QUARRY_RETURN_IF_ERROR(UpdateRows(model, pks, *update, "update").status());
    return ReadBack(model, pks[0], args, false);
  }

  // Whether `fields` are exactly the fields of one unique key of `model`: its @id, a @unique
  // field or a @@unique (in any order), which is what ON CONFLICT can name.
  static bool IsUniqueKey(const schema::Model& model,
                          const std::vector<const schema::Field*>& fields) {
    if (fields.size() == 1 && (fields[0]->id || fields[0]->unique)) {
      return true;
    }
    std::vector<std::string> names;
    for (const schema::Field* f : fields) {
      names.push_back(f->name);
    }
    std::sort(names.begin(), names.end());
    for (const schema::Index& index : model.indexes) {
      std::vector<std::string> key = index.fields;
      std::sort(key.begin(), key.end());
      if (index.unique && key == names) {
        return true;
      }
    }
    return false;
  }

  Result<std::string> UpsertMany(const schema::Model& model, const json::object& args) {
    QUARRY_RETURN_IF_ERROR(CheckKeys(args, {"data", "conflictTarget", "update"}, "", "upsertMany"));
    const json::value* data = args.if_contains("data");
    if (data == nullptr || !data->is_array()) {
      return ArgError("data", "expected an array of rows");
    }
    std::vector<const schema::Field*> target;
    const json::value* ct = args.if_contains("conflictTarget");
    if (ct == nullptr) {
      target.push_back(model.PrimaryKey());
    } else {
      std::vector<const json::value*> names;
      if (ct->is_array()) {
        for (const json::value& n : ct->get_array()) {
          names.push_back(&n);
        }
      } else {
        names.push_back(ct);
      }
      for (const json::value* n : names) {
        const schema::Field* f =
            n->is_string() ? model.FindField(std::string(n->get_string())) : nullptr;
        if (f == nullptr || !f->stored()) {
          return ArgError("conflictTarget",
                          "expected field names of a unique key of " + model.name);
        }
        target.push_back(f);
      }
      if (!IsUniqueKey(model, target)) {
        return ArgError("conflictTarget", "expected the fields of a unique key of " + model.name +
                                              " (its @id, a @unique field or a @@unique)");
      }
    }
    // A @unique or @@unique key of a @@softDelete model is a partial index over live rows: the
    // conflict target names that index's condition, so only live rows conflict (a removed row
    // with the same key stays removed and the new row is inserted beside it).
    const schema::Field* live_only =
        target.size() == 1 && target[0]->id ? nullptr : SoftDeleteField(model);
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model, RowOperation::kCreate));
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model, RowOperation::kUpdate));
    int64_t count = 0;
    const json::array& rows = data->get_array();
    const std::string self = Quoted(model.table);
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string path = JoinPath("data", std::to_string(i));
      Prepared prepared;
      QUARRY_RETURN_IF_ERROR(PrepareBulkRow(model, rows[i], path, "upsertMany", prepared));
      // Which columns an existing row takes from the new one.
      std::vector<const schema::Field*> updated;
      const json::value* update = args.if_contains("update");
      for (const Assignment& a : prepared.columns) {
        bool in_target = std::find(target.begin(), target.end(), a.field) != target.end();
        if (in_target) {
          continue;
        }
        bool chosen = update == nullptr || (update->is_bool() && update->get_bool());
        if (update != nullptr && update->is_array()) {
          for (const json::value& n : update->get_array()) {
            chosen = chosen || (n.is_string() && n.get_string() == a.field->name);
          }
        }
        if (chosen) {
          updated.push_back(a.field);
        }
      }
      auto build = [&](SqlBuilder& sql) {
        AppendInsert(sql, "INSERT INTO ", model, prepared);
        sql << " ON CONFLICT (";
        for (size_t k = 0; k < target.size(); ++k) {
          sql << (k ? ", " : "");
          sql.Ident(target[k]->column);
        }
        sql << ")";
        if (live_only != nullptr) {
          sql << " WHERE ";
          sql.Ident(live_only->column);
          sql << " IS NULL";
        }
        if (updated.empty()) {
          sql << " DO NOTHING";
        } else {
          sql << " DO UPDATE SET ";
          for (size_t k = 0; k < updated.size(); ++k) {
            sql << (k ? ", " : "");
            sql.Ident(updated[k]->column);
            sql << " = excluded.";
            sql.Ident(updated[k]->column);
          }
          sql << " WHERE ";
          AppendRowPolicy(ctx_, sql, model, self, RowOperation::kUpdate);
        }
        SqlBuilder checks;
        if (AppendChecks(checks, model, prepared, true) > 0) {
          sql << " RETURNING 1";
          sql.Append(std::move(checks));
        }
        return Status::Ok();
      };
      std::string site = "upsertMany:" + ColumnsSite(prepared) + "|on:";
      for (const schema::Field* f : target) {
        site += f->name + ",";
      }
      site += "|set:";
      for (const schema::Field* f : updated) {
        site += f->name + ",";
      }
      QUARRY_ASSIGN_OR_RETURN(std::vector<Row> result,
                              Exec(model, site, {}, ColumnSlots(prepared), path, build));
      QUARRY_RETURN_IF_ERROR(VerifyChecks(model, result, 1, true, prepared, path));
      count += runner_.Changes();
    }
    return "{\"count\":" + std::to_string(count) + "}";
  }

  // Soft-deletes (or restores) rows `pks` of `model` and, with @@softDelete(cascade), the
  // live (or, restoring, the same-instant removed) rows of models whose foreign keys point at
  // them.
  Status SoftDelete(const schema::Model& model, const std::vector<storage::Value>& pks,
                    bool restore, const storage::Value& stamp, int depth = 0) {
    if (pks.empty() || depth > 16) {
      return Status::Ok();
    }
    const schema::Field* deleted_at = SoftDeleteField(model);
    const std::string self = Quoted(model.table);
    const storage::Value pk_list = TextValue(KeyList(pks));
    auto build = [&](SqlBuilder& sql) {
      sql << "UPDATE " << self << " SET ";
      sql.Ident(deleted_at->column);
      sql << " = ";
      sql.Slot(0);
      sql << " WHERE ";
      sql.Column(self, model.PrimaryKey()->column);
      sql << " IN (SELECT value FROM json_each(";
      sql.Slot(1);
      sql << "))";
      return Status::Ok();
    };
    QUARRY_RETURN_IF_ERROR(
        Exec(model, "softDelete", {}, {restore ? NullValue() : stamp, pk_list}, "", build)
            .status());
    if (!model.soft_delete_cascade) {
      return Status::Ok();
    }
    for (const schema::Model& child : ctx_.schema.models) {
      const schema::Field* child_deleted = SoftDeleteField(child);
      if (child_deleted == nullptr) {
        continue;
      }
      for (const schema::Field& f : child.fields) {
        if (f.stored() || !f.relation || !f.relation->owning ||
            f.relation->target_model != model.name) {
          continue;
        }
        auto build = [&](SqlBuilder& find) {
          std::string alias = ctx_.NewAlias();
          std::string parent = ctx_.NewAlias();
          find << "SELECT ";
          find.Column(alias, child.PrimaryKey()->column);
          find << " FROM ";
          find.Ident(child.table);
          find << " AS " << alias << " JOIN ";
          find.Ident(model.table);
          find << " AS " << parent << " ON ";
          JoinCondition(ctx_, find, child, f, alias, parent);
          find << " WHERE ";
          find.Column(parent, model.PrimaryKey()->column);
          find << " IN (SELECT value FROM json_each(";
          find.Slot(0);
          find << ")) AND ";
          find.Column(alias, child_deleted->column);
          if (restore) {
            find << " = ";
            find.Slot(1);
          } else {
            find << " IS NULL";
          }
          return Status::Ok();
        };
        std::string site = "cascade:" + model.name + "." + f.name + (restore ? ":restore" : "");
        QUARRY_ASSIGN_OR_RETURN(std::vector<Row> rows,
                                Exec(child, site, {}, {pk_list, stamp}, "", build));
        std::vector<storage::Value> child_pks;
        for (Row& r : rows) {
          child_pks.push_back(std::move(r[0]));
        }
        QUARRY_RETURN_IF_ERROR(SoftDelete(child, child_pks, restore, stamp, depth + 1));
      }
    }
    return Status::Ok();
  }

  Status HardDelete(const schema::Model& model, const std::vector<storage::Value>& pks) {
    auto build = [&](SqlBuilder& sql) {
      sql << "DELETE FROM ";
      sql.Ident(model.table);
      sql << " WHERE ";
      sql.Ident(model.PrimaryKey()->column);
      sql << " IN (SELECT value FROM json_each(";
      sql.Slot(0);
      sql << "))";
      return Status::Ok();
    };
    return Exec(model, "delete", {}, {TextValue(KeyList(pks))}, "where", build).status();
  }

  Result<std::string> Delete(const schema::Model& model, const json::object& args, bool soft) {
    QUARRY_RETURN_IF_ERROR(CheckKeys(args, {"where", "select", "include"}, "", "delete"));
    QUARRY_RETURN_IF_ERROR(CheckUniqueWhere(model, args));
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model, RowOperation::kDelete));
    QUARRY_ASSIGN_OR_RETURN(std::vector<storage::Value> pks,
                            Targets(model, args, RowOperation::kDelete, 1, false));
    if (pks.empty()) {
      return std::string("null");
    }
    if (soft) {
      QUARRY_RETURN_IF_ERROR(SoftDelete(model, pks, false, TextValue(ctx_.now)));
      return ReadBack(model, pks[0], args, true);
    }
    QUARRY_ASSIGN_OR_RETURN(std::string row, ReadBack(model, pks[0], args, true));
    QUARRY_RETURN_IF_ERROR(HardDelete(model, pks));
    return row;
  }

  Result<std::string> DeleteMany(const schema::Model& model, const json::object& args, bool soft) {
    QUARRY_RETURN_IF_ERROR(CheckKeys(args, {"where"}, "", soft ? "removeMany" : "deleteMany"));
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model, RowOperation::kDelete));
    QUARRY_ASSIGN_OR_RETURN(std::vector<storage::Value> pks,
                            Targets(model, args, RowOperation::kDelete, std::nullopt, false));
    if (!pks.empty()) {
      if (soft) {
        QUARRY_RETURN_IF_ERROR(SoftDelete(model, pks, false, TextValue(ctx_.now)));
      } else {
        QUARRY_RETURN_IF_ERROR(HardDelete(model, pks));
      }
    }
    return "{\"count\":" + std::to_string(pks.size()) + "}";
  }

  Result<std::string> Restore(const schema::Model& model, const json::object& args) {
    QUARRY_RETURN_IF_ERROR(CheckKeys(args, {"where", "select", "include"}, "", "restore"));
    if (!model.soft_delete) {
      return ArgError("", "restore applies to @@softDelete models; " + model.name + " is not one");
    }
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx_, model, RowOperation::kUpdate));
    QUARRY_ASSIGN_OR_RETURN(std::vector<storage::Value> pks,
                            Targets(model, args, RowOperation::kUpdate, std::nullopt, true));
    std::string out = "[";
    // Each row restores its own cascade: children removed at the row's own instant.
    for (size_t i = 0; i < pks.size(); ++i) {
      auto build = [&](SqlBuilder& sql) {
        sql << "SELECT ";
        sql.Ident(SoftDeleteField(model)->column);
        sql << " FROM ";
        sql.Ident(model.table);
        sql << " WHERE ";
        sql.Ident(model.PrimaryKey()->column);
        sql << " = ";
        sql.Slot(0);
        return Status::Ok();
      };
      QUARRY_ASSIGN_OR_RETURN(std::vector<Row> stamp,
                              Exec(model, "stamp", {}, {pks[i]}, "", build));
      QUARRY_RETURN_IF_ERROR(SoftDelete(model, {pks[i]}, true, stamp.at(0).at(0)));
    }
    for (size_t i = 0; i < pks.size(); ++i) {
      QUARRY_ASSIGN_OR_RETURN(std::string row, ReadBack(model, pks[i], args, false));
      if (row != "null") {
        out += (out.size() > 1 ? "," : "") + row;
      }
    }
    return out + "]";
  }

  CompileContext& ctx_;
  SqlRunner& runner_;
  const json::object* args_ = nullptr;  // the operation's arguments (Run's)
  const Identity system_identity_ = Identity::Service(true);
};

}  // namespace

Result<std::string> RunWrite(CompileContext& ctx, const schema::Model& model, WriteOp op,
                             const json::object& args, SqlRunner& runner) {
  if (ctx.identity.system() && !ctx.identity.can_write) {
    return Status(ErrorCode::kForbidden, "a read-only token cannot write");
  }
  Writer writer(ctx, runner);
  return writer.Run(model, op, args);
}

}  // namespace quarry::query
