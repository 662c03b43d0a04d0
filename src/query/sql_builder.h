#pragma once

// SqlBuilder: SQL text and its bound parameters, built together so that every value reaches
// SQLite as a parameter (never spliced into the text) and parameters stay in textual order.
// Fragments built separately are appended whole, text and parameters at once.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/value.h"

namespace quarry::schema {
struct Field;
}

namespace quarry::query {

// Where a bound parameter's value comes from, so a cached plan (plan_cache.h) can bind a new
// request's values without compiling it again. kUnknown marks a value the plan cannot recompute:
// a statement holding one is not cached. kSlot is a value the statement's issuer computes itself
// (a write's prepared column values, primary keys found by an earlier statement, stamps) and
// supplies each time it issues the statement: the `slot`-th of those values.
struct ParamSource {
  enum class Kind {
    kUnknown,
    kConstant,  // the same for every request of the shape (a schema literal)
    kClaim,     // the caller's claim `name` (NULL when missing)
    kNow,       // the request's now()
    kArg,       // computed from the argument at `path` by `transform`
    kSlot,      // the issuer's value number `slot`
  };
  enum class Transform {
    kColumn,        // ColumnValue of `field`
    kJsonScalar,    // JsonScalarValue (values inside a Json field, claims)
    kJsonText,      // the JSON text of the value (a whole Json field)
    kInListColumn,  // the JSON array for IN (SELECT value FROM json_each(?)), from `field`
    kInListJsonScalar,
    kInListJsonText,
    kLikePattern,  // `like`: 0 contains, 1 startsWith, 2 endsWith
    kText,         // the string itself
    kUtf8Length,   // its length in characters
    kCount,        // a non-negative integer (limit, offset)
  };
  Kind kind = Kind::kUnknown;
  std::string name;  // kArg: the argument's dotted path; kClaim: the claim
  Transform transform = Transform::kColumn;
  const schema::Field* field = nullptr;
  int like = 0;
  int64_t missing = -1;  // kCount: the value when the argument is absent
  size_t slot = 0;       // kSlot: which of the issuer's values
};

storage::Value NullValue();
storage::Value IntValue(int64_t v);
storage::Value RealValue(double v);
storage::Value TextValue(std::string v);
storage::Value BlobValue(std::string v);

class SqlBuilder {
 public:
  SqlBuilder& operator<<(std::string_view text) {
    sql_ += text;
    return *this;
  }
  // Appends `?` and binds `value` to it; `source` says where the value came from.
  SqlBuilder& Param(storage::Value value, ParamSource source = {}) {
    sql_ += '?';
    params_.push_back(std::move(value));
    sources_.push_back(std::move(source));
    return *this;
  }
  // Appends `?` for the issuer's value number `slot` (ParamSource::kSlot); the value is bound
  // when the statement is issued (plan_cache.h, CompileStatement), never while building it.
  SqlBuilder& Slot(size_t slot) {
    ParamSource source;
    source.kind = ParamSource::Kind::kSlot;
    source.slot = slot;
    return Param(NullValue(), std::move(source));
  }
  // Appends a quoted identifier.
  SqlBuilder& Ident(std::string_view name);
  // Appends `alias."column"`.
  SqlBuilder& Column(std::string_view alias, std::string_view column);
  // Appends SQL text that carries its own `?` placeholders, with the values they bind.
  SqlBuilder& Raw(std::string_view text, std::vector<storage::Value> values) {
    sql_ += text;
    for (auto& v : values) {
      params_.push_back(std::move(v));
      sources_.emplace_back();
    }
    return *this;
  }
  SqlBuilder& Append(SqlBuilder other) {
    sql_ += other.sql_;
    for (auto& p : other.params_) {
      params_.push_back(std::move(p));
    }
    for (auto& s : other.sources_) {
      sources_.push_back(std::move(s));
    }
    return *this;
  }
  bool empty() const { return sql_.empty(); }
  const std::string& sql() const { return sql_; }
  const std::vector<storage::Value>& params() const { return params_; }
  std::string TakeSql() { return std::move(sql_); }
  std::vector<storage::Value> TakeParams() { return std::move(params_); }
  std::vector<ParamSource> TakeSources() { return std::move(sources_); }

 private:
  std::string sql_;
  std::vector<storage::Value> params_;
  std::vector<ParamSource> sources_;  // one per parameter
};

}  // namespace quarry::query
