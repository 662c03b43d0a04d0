#pragma once

// Values and names written as SQL text, for the shell's `.dump`: reading the output back into
// SQLite gives the same values and types.

#include <string>
#include <string_view>

#include "client/client.h"
#include "common/sql_statement.h"

namespace quarry::cli {

// NULL, 42, 1.5 (always with '.' or an exponent, so it reads back as REAL; infinities as
// 1e999 and -1e999), 'text' with '' for a quote, X'00ff' for a blob.
std::string SqlLiteral(const client::Value& value);

// "name" with "" for a quote: a safe identifier whatever `name` holds.
using sql::QuoteIdentifier;

}  // namespace quarry::cli
