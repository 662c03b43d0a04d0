#include "query/sql_builder.h"

#include "common/sql_statement.h"

namespace quarry::query {

storage::Value NullValue() { return {}; }
storage::Value IntValue(int64_t v) {
  storage::Value value;
  value.type = storage::Value::Type::kInteger;
  value.integer = v;
  return value;
}
storage::Value RealValue(double v) {
  storage::Value value;
  value.type = storage::Value::Type::kFloat;
  value.real = v;
  return value;
}
storage::Value TextValue(std::string v) {
  storage::Value value;
  value.type = storage::Value::Type::kText;
  value.bytes = std::move(v);
  return value;
}
storage::Value BlobValue(std::string v) {
  storage::Value value;
  value.type = storage::Value::Type::kBlob;
  value.bytes = std::move(v);
  return value;
}

SqlBuilder& SqlBuilder::Ident(std::string_view name) {
  sql_ += sql::QuoteIdentifier(name);
  return *this;
}

SqlBuilder& SqlBuilder::Column(std::string_view alias, std::string_view column) {
  sql_ += alias;
  sql_ += '.';
  sql_ += sql::QuoteIdentifier(column);
  return *this;
}

}  // namespace quarry::query
