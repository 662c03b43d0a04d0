#pragma once

// CSV as RFC 4180 writes it, for the shell's `.mode csv` and `.import`: fields separated by
// ',', records by CRLF or LF; a field holding ',', '"', CR or LF is quoted, with '"' doubled.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace quarry::cli {

// `field` as one CSV field: quoted when it holds a separator, a quote or a line break (or
// begins or ends with a space, which some readers trim).
std::string CsvField(std::string_view field);

// Reads records from CSV text one at a time. Quoted fields may span lines. Not thread-safe.
class CsvReader {
 public:
  // `text` must outlive the reader.
  explicit CsvReader(std::string_view text) : text_(text) {}

  // The next record, or nullopt at the end of the text. Fails with kInvalidArgument naming
  // the line for a quote left open at the end of the text or text after a closing quote.
  // A blank line is a record with one empty field; a final line break ends the last record.
  Result<std::optional<std::vector<std::string>>> Next();

  // The line (1-based) the last record returned by Next began on.
  int line() const { return record_line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int record_line_ = 0;
};

}  // namespace quarry::cli
