#include "cli/csv.h"

namespace quarry::cli {

std::string CsvField(std::string_view field) {
  bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) {
    return std::string(field);
  }
  std::string out = "\"";
  for (char c : field) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

Result<std::optional<std::vector<std::string>>> CsvReader::Next() {
  if (pos_ >= text_.size()) {
    return std::optional<std::vector<std::string>>();
  }
  record_line_ = line_;
  std::vector<std::string> record;
  std::string field;
  while (true) {
    if (pos_ < text_.size() && text_[pos_] == '"') {
      int opened_on = line_;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) {
          return Status(ErrorCode::kInvalidArgument,
                        "line " + std::to_string(opened_on) + ": a quoted field is never closed");
        }
        char c = text_[pos_++];
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field += '"';
            ++pos_;
            continue;
          }
          break;
        }
        if (c == '\n') {
          ++line_;
        }
        field += c;
      }
      if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
        return Status(ErrorCode::kInvalidArgument, "line " + std::to_string(line_) +
                                                       ": text after the closing quote of a field");
      }
    } else {
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' &&
             text_[pos_] != '\r') {
        field += text_[pos_++];
      }
    }
    record.push_back(std::move(field));
    field.clear();
    if (pos_ >= text_.size()) {
      break;
    }
    char c = text_[pos_++];
    if (c == ',') {
      continue;
    }
    if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') {
      ++pos_;
    }
    ++line_;
    break;
  }
  return std::optional<std::vector<std::string>>(std::move(record));
}

}  // namespace quarry::cli
