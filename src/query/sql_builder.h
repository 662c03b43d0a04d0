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

namespace quarry::query {

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
  // Appends `?` and binds `value` to it.
  SqlBuilder& Param(storage::Value value) {
    sql_ += '?';
    params_.push_back(std::move(value));
    return *this;
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
    }
    return *this;
  }
  SqlBuilder& Append(SqlBuilder other) {
    sql_ += other.sql_;
    for (auto& p : other.params_) {
      params_.push_back(std::move(p));
    }
    return *this;
  }
  bool empty() const { return sql_.empty(); }
  const std::string& sql() const { return sql_; }
  const std::vector<storage::Value>& params() const { return params_; }
  std::string TakeSql() { return std::move(sql_); }
  std::vector<storage::Value> TakeParams() { return std::move(params_); }

 private:
  std::string sql_;
  std::vector<storage::Value> params_;
};

}  // namespace quarry::query
