#pragma once

// How the shell prints a statement's result: an aligned table (default), JSON, CSV or one
// "column = value" line per column.

#include <string>

#include "client/client.h"

namespace quarry::cli {

enum class OutputMode { kTable, kJson, kCsv, kLine };

// A value as a table cell: NULL, 42, 1.5 (floats always show a '.' or exponent), text as is,
// blobs as x'00ff'.
std::string CellText(const client::Value& value);

// The text printed for a result: nothing for a statement without columns; in table mode the
// table and "(N rows)"; in JSON mode an array of objects (blobs as {"base64": ...}), one line;
// in CSV mode a header record and one record per row (NULL as an empty field, see csv.h); in
// line mode each row as "name = value" lines, names right-aligned, rows separated by a blank
// line.
std::string FormatResult(const client::ResultSet& result, OutputMode mode);

}  // namespace quarry::cli
