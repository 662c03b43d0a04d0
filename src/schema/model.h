#pragma once

// The validated, typed schema: what the binder (binder.h) produces from the syntax tree and
// what every later stage reads (DDL, migrations, the data API, policies, realtime, sharding).
// A Schema that came out of BindSchema holds these invariants:
//   - model, enum and field names are unique (fields within their model), and so are table
//     names and column names within a table;
//   - every field type names a scalar, an enum or a model of the schema;
//   - every model has exactly one @id field, which is stored, required and not a list;
//   - every relation's fields/references exist, match in count and type, and the references
//     are the target's primary key or a full (non-partial) unique constraint;
//   - defaults match their field's type, and a kField default names a stored sibling;
//   - policy expressions only name fields that exist; a kCheck's `name` is a relation field
//     of its model and `model` the model that field's type names;
//   - a @secret field is guarded kAll; relation fields carry no default, @updatedBy, @omit,
//     @guarded or @secret.
// Names are the schema's names; `table` and `column` are the SQL names (after @@map/@map).
// A Schema is a plain value: copyable, no pointers into itself.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quarry::schema {

// Where a declaration was written: "file:line:column" when printed.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string ToString() const;
};

enum class ScalarType { kInteger, kReal, kText, kBoolean, kDateTime, kJson, kBlob };

// "Integer", "Real", ...
const char* ScalarTypeName(ScalarType type);

struct FieldType {
  enum class Kind {
    kScalar,  // `scalar` holds the type
    kEnum,    // `name` is the enum's name
    kModel,   // a relation field: `name` is the related model's name; no column
  };
  Kind kind = Kind::kScalar;
  ScalarType scalar = ScalarType::kText;
  std::string name;
  bool optional = false;  // `Type?`: nullable
  bool list = false;      // `Type[]`: a JSON array in a TEXT column (scalars and enums), or the
                          // many side of a relation (models)
};

// A literal value written in the schema.
struct Literal {
  enum class Kind { kNull, kBool, kInteger, kReal, kString, kList };
  Kind kind = Kind::kNull;
  bool bool_value = false;
  int64_t int_value = 0;
  double real_value = 0;
  std::string text;            // kString: the value; kReal: the number as written
  std::vector<Literal> items;  // kList
};

// A field's @default. The first six kinds are in the DDL (a column DEFAULT, or AUTOINCREMENT),
// so SQLite applies them to any insert; the data API fills in the others itself on create,
// when the request does not give the field, and no SQL sees them (in_ddl() is false).
struct DefaultValue {
  enum class Kind {
    kLiteral,        // `literal`
    kEnumValue,      // `enum_value`, a member of the field's enum
    kNow,            // now(): the current UTC time as ISO-8601 text with milliseconds
    kUuid,           // uuid(): a random (version 4) UUID, lowercase with dashes
    kUlid,           // ulid(): a ULID (26 characters, Crockford base 32)
    kAutoincrement,  // autoincrement(): on an Integer @id; rowids are never reused
    kNanoid,         // nanoid(): 21 random characters of A-Za-z0-9_- (URL-safe), on a
                     // non-list Text field; data API only
    kAuthClaim,      // auth().claim: the caller's `claim`, on a non-list, non-Blob field; data
                     // API only. A caller without the claim gets NULL (an error when required)
    kField,          // a sibling: the value that stored field `field` of the same model gets in
                     // the same create (the request's, else its own default, which the data
                     // API then computes itself); data API only. The sibling is not the field
                     // itself, not generated, not an Integer @id, has no kField default, and
                     // has the same type (an Integer into a Real also fits); an optional one
                     // only into an optional field
  };
  Kind kind = Kind::kLiteral;
  Literal literal;
  std::string enum_value;
  std::string claim;  // kAuthClaim: the claim's name ("id" for auth().id)
  std::string field;  // kField: the sibling's field name (not its column)

  // Whether the DDL carries this default: false for kNanoid, kAuthClaim and kField, which the
  // DDL, introspection and the migration diff treat as no default at all.
  bool in_ddl() const;
};

// A rule the data API checks on create and update.
struct Validator {
  enum class Kind { kEmail, kUrl, kLength, kGt, kGte, kLt, kLte, kRegex };
  Kind kind = Kind::kEmail;
  std::optional<int64_t> min_length;  // kLength
  std::optional<int64_t> max_length;  // kLength
  double bound = 0;                   // kGt .. kLte
  std::string pattern;                // kRegex (ECMAScript syntax)
};

// A rewrite the data API applies to a value before validating and writing it.
enum class Transform { kTrim, kLower, kUpper };

enum class ReferentialAction { kCascade, kSetNull, kRestrict, kNoAction };

// "Cascade", "SetNull", ...
const char* ReferentialActionName(ReferentialAction action);

// Carried by a relation field. The owning side (the one with @relation(fields, references))
// holds the foreign key; the other side names the owning field of the target model.
struct Relation {
  std::string target_model;
  bool owning = false;
  std::vector<std::string> fields;      // owning: this model's foreign-key fields
  std::vector<std::string> references;  // owning: the target model's referenced fields
  std::optional<ReferentialAction> on_delete;
  std::string back_field;  // not owning: the target's field whose @relation points here
};

// The condition of a policy, resolved against its model (inside a kCheck, against the related
// model).
struct PolicyExpr {
  enum class Kind {
    kLiteral,    // literal (null, bool, integer, real, string)
    kField,      // name: a stored field of the model
    kAuth,       // auth(): the current identity (null when anonymous)
    kAuthField,  // auth().name: a claim of the current identity
    kNow,        // now()
    kNot,        // operands[0]
    kAnd,        // operands[0] && operands[1]
    kOr,         // operands[0] || operands[1]
    kCompare,    // operands[0] <op> operands[1]
    kCheck,      // check(name, operands[0]): `name` is a relation field of the model (to-one or
                 // to-many) and `model` its target; true when at least one related row
                 // satisfies operands[0] (SQL EXISTS), which is resolved against `model`:
                 // its kField names are fields of `model`, and nested kChecks start there.
                 // The related model's own policies do not apply inside
  };
  enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };
  Kind kind = Kind::kLiteral;
  CompareOp op = CompareOp::kEq;
  Literal literal;
  std::string name;   // kField: the field; kAuthField: the claim; kCheck: the relation field
  std::string model;  // kCheck: the related model's name (a Model::name of the Schema)
  std::vector<PolicyExpr> operands;
  SourceLocation location;
};

enum class PolicyOperation { kRead, kCreate, kUpdate, kDelete, kAll };
// Model::gate is indexed by the first four.
static_assert(static_cast<int>(PolicyOperation::kRead) == 0 &&
              static_cast<int>(PolicyOperation::kDelete) == 3);

// @@allow / @@deny: a row-level rule.
struct Policy {
  bool allow = true;  // false: @@deny, which wins over any allow
  PolicyOperation operation = PolicyOperation::kAll;
  PolicyExpr condition;
  std::optional<std::string> message;  // shown to the client when the policy refuses
  SourceLocation location;
};

// Field @allow: the field is visible ('read'), writable ('write') or both ('all') only when
// the condition holds.
struct FieldPolicy {
  enum class Operation { kRead, kWrite, kAll };
  Operation operation = Operation::kAll;
  PolicyExpr condition;
  SourceLocation location;
};

struct GeneratedColumn {
  std::string expression;  // SQL, as written in @generated("...")
  bool stored = false;     // @generated("...", stored: true)
};

struct Field {
  // @omit: results leave the field out unless the query selects it by name. Applies to every
  // caller, service tokens included; filters and writes may still name the field.
  enum class Omit {
    kNone,
    kDefault,  // @omit: left out of findMany/findFirst results
    kAll,      // @omit(all): left out of every result, including the rows writes return
  };
  // @guarded: hidden from callers that are not the system (a service token; an end-user
  // token never is). Service tokens see and write the field as any other.
  enum class Guard {
    kNone,
    kDefault,  // @guarded: never in a result returned to a non-system caller, even when
               // selected by name, nor usable by them in a filter, an ordering or an
               // aggregate; they may still write it
    kAll,      // @guarded(all): non-system callers cannot name the field anywhere (select,
               // filters, ordering, aggregates, realtime events) nor write it
  };

  std::string name;
  std::string column;  // @map, else the name; empty for relation fields
  FieldType type;
  bool id = false;
  bool unique = false;
  bool updated_at = false;  // @updatedAt: the data API sets it to now() on every update
  // @updatedBy / @updatedBy(auth().claim): the claim ("id" for a bare @updatedBy) that the
  // data API writes into the field on create and on every update, replacing any value the
  // request gives. Only on non-list Integer and Text fields, never the @id or a generated
  // field; the claim's value must fit the column at run time. For a caller without the claim
  // (anonymous, most service tokens) the field is an ordinary one.
  std::optional<std::string> updated_by_claim;
  Omit omit = Omit::kNone;       // @omit, @omit(all); kNone on relation fields
  Guard guarded = Guard::kNone;  // @guarded, @guarded(all), @secret; kNone on relation fields
  // @secret: guarded is kAll, and the data API never returns the value to anyone, service
  // tokens included (they may still write it and filter on it, e.g. to look a key up), and
  // never writes it to a log, an error message or a change event. Not encrypted: the column
  // holds the plain value, which raw SQL reads. Never on the @id field.
  bool secret = false;
  std::optional<DefaultValue> default_value;
  std::optional<GeneratedColumn> generated;
  std::vector<Validator> validators;
  std::vector<Transform> transforms;
  std::vector<FieldPolicy> policies;
  std::optional<Relation> relation;  // exactly for relation fields
  SourceLocation location;

  // False for relation fields, which have no column.
  bool stored() const { return type.kind != FieldType::Kind::kModel; }
};

// @@index or @@unique (field @unique is Field::unique, not an Index).
struct Index {
  std::string name;                 // SQL name: <table>_<col>_..._idx or ..._key
  std::vector<std::string> fields;  // field names, in order
  bool unique = false;
  SourceLocation location;
};

// The access levels of @@gate (Model::gate), lowest first. A caller may run an operation on a
// gated model when its own level is at least the gate's level for that operation: anonymous
// callers are kGateStranger, an end user's token gives a level from kGateVisitor to
// kGateSysadmin, a service token is kGateSystem, and no caller is kGateLocked.
inline constexpr int kGateStranger = 0;
inline constexpr int kGateVisitor = 1;
inline constexpr int kGateReader = 2;
inline constexpr int kGateCreator = 3;
inline constexpr int kGateUser = 4;
inline constexpr int kGateAdministrator = 5;
inline constexpr int kGateOwner = 6;
inline constexpr int kGateSysadmin = 7;
inline constexpr int kGateSystem = 8;  // service tokens only
inline constexpr int kGateLocked = 9;  // nobody, not even service tokens

struct Model {
  std::string name;
  std::string table;  // @@map, else the name
  std::vector<Field> fields;
  std::vector<Index> indexes;
  std::vector<Policy> policies;
  bool soft_delete = false;              // @@softDelete: has `deletedAt DateTime?`
  bool soft_delete_cascade = false;      // @@softDelete(cascade)
  std::vector<std::string> fts_fields;   // @@fts([...]): Text fields, empty when none
  bool external = false;                 // @@external: queried, never migrated
  bool strict = true;                    // false with @@noStrict
  std::optional<std::string> shard_key;  // @@shardKey(field)
  // @@gate("R.C.U.D"): the level (kGateStranger..kGateLocked) a caller needs to read, create,
  // update and delete, indexed by static_cast<int>(PolicyOperation) (kRead..kDelete);
  // @@gate("4") sets all four. Checked before row policies, which still apply; nullopt: no
  // gate. Service tokens bypass policies, not a gate of kGateLocked.
  std::optional<std::array<int, 4>> gate;
  SourceLocation location;

  const Field* FindField(const std::string& name) const;
  // The @id field. Never null in a bound Schema.
  const Field* PrimaryKey() const;
};

struct Enum {
  std::string name;
  std::vector<std::string> values;
  SourceLocation location;
};

struct Schema {
  std::vector<Enum> enums;    // in declaration order, root file first
  std::vector<Model> models;  // in declaration order, root file first

  const Model* FindModel(const std::string& name) const;
  const Enum* FindEnum(const std::string& name) const;
};

}  // namespace quarry::schema
