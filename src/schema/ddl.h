#pragma once

// SQL DDL for a validated schema: the statements that create it in an empty SQLite (3.40)
// database. Pure: no I/O. See docs/schema-language.md for what each construct produces.

#include <string>
#include <vector>

#include "common/sql_statement.h"
#include "schema/model.h"

namespace quarry::schema {

// "name" with embedded double quotes doubled.
using sql::QuoteIdentifier;
// 'text' with embedded single quotes doubled.
using sql::QuoteString;

// The column definition of a stored field, as inside CREATE TABLE (and usable in ALTER TABLE
// ADD COLUMN where SQLite allows it): "name" TYPE [NOT NULL] [PRIMARY KEY] [UNIQUE] [DEFAULT]
// [GENERATED ...] [CHECK ...]. Requires field.stored().
std::string ColumnDefinition(const Model& model, const Field& field, const Schema& schema);

// The SQL expression that DEFAULT uses for `value` (e.g. "'member'", "(strftime(...))").
// Empty for kAutoincrement, which is not a DEFAULT, and for the defaults the data API fills in
// (!value.in_ddl(): nanoid(), auth().claim, a sibling field), which have none.
std::string DefaultExpression(const DefaultValue& value);

// The statements for one model, in order: CREATE TABLE, its indexes, its FTS5 table and the
// triggers that keep it in sync. Empty for an @@external model. Statements carry no trailing
// ';'.
std::vector<std::string> ModelDdl(const Model& model, const Schema& schema);

// ModelDdl of every model, in declaration order. Foreign keys may name tables created later:
// SQLite resolves them when rows are written, not when tables are created.
std::vector<std::string> GenerateDdl(const Schema& schema);

// The SQLite storage type of a field's column: INTEGER, REAL, TEXT or BLOB.
const char* SqlType(const FieldType& type);

}  // namespace quarry::schema
