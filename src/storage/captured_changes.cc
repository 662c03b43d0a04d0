#include "storage/captured_changes.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "common/base64.h"
#include "common/json_text.h"

namespace quarry::storage {
namespace json = boost::json;

namespace {

void AppendInteger(std::string& out, int64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, end);
}

void AppendReal(std::string& out, double value) {
  if (std::isinf(value)) {
    out += value < 0 ? "-1e99999" : "1e99999";  // reads back as the infinity it overflows to
  } else {
    AppendJsonNumber(out, value);
  }
}

void AppendBlob(std::string& out, std::string_view bytes) {
  out += "{\"b\":\"";
  out += Base64Encode(bytes);
  out += "\"}";
}

// A TEXT value's bytes as UTF-8. sqlite3_value_text copies a text that is not NUL-terminated
// (as the values of an unpacked record are) to terminate it; sqlite3_value_blob reads the
// stored bytes in place, but marks the value as a blob too, so it is only used (`in_place`) on
// values of a UTF-8 database that are SQLite's own copies: the pre-update hook gives the old
// row and an INSERT's new row unpacked from the record, and an UPDATE's new row copied from the
// registers being written (sqlite3_preupdate_new says why: a caller may change a value's
// encoding).
std::string_view TextOf(sqlite3_value* value, bool in_place) {
  const void* bytes = in_place ? sqlite3_value_blob(value) : sqlite3_value_text(value);
  size_t size = static_cast<size_t>(sqlite3_value_bytes(value));
  return bytes != nullptr ? std::string_view(static_cast<const char*>(bytes), size)
                          : std::string_view();
}

void AppendValueOf(std::string& out, sqlite3_value* value, bool in_place) {
  if (value != nullptr && sqlite3_value_type(value) == SQLITE_TEXT) {
    AppendJsonString(out, TextOf(value, in_place));
  } else {
    AppendImageValue(out, value);
  }
}

// The image of the row `read` (sqlite3_preupdate_old or _new) gives, as a JSON array.
void AppendImage(std::string& out, sqlite3* db, int columns,
                 int (*read)(sqlite3*, int, sqlite3_value**), bool in_place) {
  out += '[';
  for (int i = 0; i < columns; ++i) {
    if (i > 0) {
      out += ',';
    }
    sqlite3_value* value = nullptr;
    read(db, i, &value);
    AppendValueOf(out, value, in_place);
  }
  out += ']';
}

void AppendImage(std::string& out, const std::vector<Value>& values) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    AppendImageValue(out, values[i]);
  }
  out += ']';
}

std::vector<Value> DecodeImage(std::string_view image) {
  std::vector<Value> values;
  if (image.empty()) {
    return values;
  }
  json::parse_options options;
  options.allow_invalid_utf8 = true;  // TEXT values are SQLite's bytes, as stored
  boost::system::error_code ec;
  json::value parsed = json::parse(json::string_view(image.data(), image.size()), ec, {}, options);
  if (ec || !parsed.is_array()) {
    return values;  // not reached: the images are spelled by AppendImage
  }
  values.reserve(parsed.get_array().size());
  for (const json::value& v : parsed.get_array()) {
    values.push_back(DecodeImageValue(v).value_or(Value()));
  }
  return values;
}

}  // namespace

void AppendImageValue(std::string& out, const Value& value) {
  switch (value.type) {
    case Value::Type::kNull:
      out += "null";
      return;
    case Value::Type::kInteger:
      AppendInteger(out, value.integer);
      return;
    case Value::Type::kFloat:
      AppendReal(out, value.real);
      return;
    case Value::Type::kText:
      AppendJsonString(out, value.bytes);
      return;
    case Value::Type::kBlob:
      AppendBlob(out, value.bytes);
      return;
  }
  out += "null";
}

void AppendImageValue(std::string& out, sqlite3_value* value) {
  switch (value != nullptr ? sqlite3_value_type(value) : SQLITE_NULL) {
    case SQLITE_INTEGER:
      AppendInteger(out, sqlite3_value_int64(value));
      return;
    case SQLITE_FLOAT:
      AppendReal(out, sqlite3_value_double(value));
      return;
    case SQLITE_TEXT:
      AppendJsonString(out, TextOf(value, /*in_place=*/false));
      return;
    case SQLITE_BLOB: {
      const auto* blob = static_cast<const char*>(sqlite3_value_blob(value));
      int size = sqlite3_value_bytes(value);
      AppendBlob(out, blob != nullptr && size > 0
                          ? std::string_view(blob, static_cast<size_t>(size))
                          : std::string_view());
      return;
    }
    default:
      out += "null";
  }
}

std::optional<Value> DecodeImageValue(const json::value& v) {
  Value out;
  switch (v.kind()) {
    case json::kind::null:
      return out;
    case json::kind::int64:
      out.type = Value::Type::kInteger;
      out.integer = v.get_int64();
      return out;
    case json::kind::uint64:
      return std::nullopt;
    case json::kind::double_:
      out.type = Value::Type::kFloat;
      out.real = v.get_double();
      return out;
    case json::kind::string:
      out.type = Value::Type::kText;
      out.bytes = std::string(v.get_string());
      return out;
    case json::kind::object: {
      const json::value* b = v.get_object().if_contains("b");
      if (b == nullptr || !b->is_string() || v.get_object().size() != 1) {
        return std::nullopt;
      }
      auto bytes = Base64Decode(b->get_string());
      if (!bytes) {
        return std::nullopt;
      }
      out.type = Value::Type::kBlob;
      out.bytes = std::move(*bytes);
      return out;
    }
    default:
      return std::nullopt;
  }
}

std::string_view CapturedChanges::OldImage(const Change& change) const {
  return std::string_view(images_).substr(change.begin, change.old_bytes);
}

std::string_view CapturedChanges::NewImage(const Change& change) const {
  return std::string_view(images_).substr(change.begin + change.old_bytes, change.new_bytes);
}

void CapturedChanges::Truncate(size_t n) {
  if (n >= changes_.size()) {
    return;
  }
  images_.resize(changes_[n].begin);
  changes_.resize(n);
}

void CapturedChanges::clear() {
  images_.clear();
  changes_.clear();
}

void CapturedChanges::Append(CapturedChanges&& later) {
  if (empty()) {
    *this = std::move(later);
    later.clear();
    return;
  }
  size_t shift = images_.size();
  images_ += later.images_;
  changes_.reserve(changes_.size() + later.changes_.size());
  for (Change& change : later.changes_) {
    change.begin += shift;
    changes_.push_back(std::move(change));
  }
  later.clear();
}

void CapturedChanges::AddFromPreUpdateHook(sqlite3* db, int op, const char* table,
                                           sqlite3_int64 old_rowid, sqlite3_int64 new_rowid,
                                           bool utf8) {
  if (changes_.capacity() == 0) {
    changes_.reserve(8);  // a transaction's first change: room for a group commit's
    images_.reserve(1024);
  }
  Change& change = changes_.emplace_back();
  change.op = op == SQLITE_INSERT   ? RowChange::Op::kInsert
              : op == SQLITE_DELETE ? RowChange::Op::kDelete
                                    : RowChange::Op::kUpdate;
  change.table = table;
  change.begin = images_.size();
  int columns = sqlite3_preupdate_count(db);
  change.values = static_cast<size_t>(columns);
  // The rowid alias (INTEGER PRIMARY KEY) comes back as the row's key from both functions.
  if (op != SQLITE_INSERT) {
    change.old_rowid = old_rowid;
    AppendImage(images_, db, columns, &sqlite3_preupdate_old, /*in_place=*/utf8);
    change.old_bytes = images_.size() - change.begin;
  }
  if (op != SQLITE_DELETE) {
    change.new_rowid = new_rowid;
    AppendImage(images_, db, columns, &sqlite3_preupdate_new, /*in_place=*/utf8);
    change.new_bytes = images_.size() - change.begin - change.old_bytes;
  }
}

void CapturedChanges::Add(const RowChange& row) {
  Change& change = changes_.emplace_back();
  change.op = row.op;
  change.table = row.table;
  change.columns = row.columns;
  change.begin = images_.size();
  change.values = std::max(row.old_values.size(), row.new_values.size());
  if (row.op != RowChange::Op::kInsert) {
    change.old_rowid = row.old_rowid;
    AppendImage(images_, row.old_values);
    change.old_bytes = images_.size() - change.begin;
  }
  if (row.op != RowChange::Op::kDelete) {
    change.new_rowid = row.new_rowid;
    AppendImage(images_, row.new_values);
    change.new_bytes = images_.size() - change.begin - change.old_bytes;
  }
}

std::vector<RowChange> CapturedChanges::Decode() const {
  std::vector<RowChange> out;
  out.reserve(changes_.size());
  for (const Change& change : changes_) {
    RowChange& row = out.emplace_back();
    row.op = change.op;
    row.table = change.table;
    row.old_rowid = change.old_rowid;
    row.new_rowid = change.new_rowid;
    row.old_values = DecodeImage(OldImage(change));
    row.new_values = DecodeImage(NewImage(change));
    row.columns = change.columns;
  }
  return out;
}

}  // namespace quarry::storage
