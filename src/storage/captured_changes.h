#pragma once

// CapturedChanges: the row changes of one transaction as the pre-update hook takes them, with
// each row image already spelled as the change log keeps it (a JSON array, one value per
// column), all images in one buffer. Spelling them once, as the hook reads the values, spares
// the committing thread a copy of every value and a second pass that would spell them for the
// log; observers that need the values (the live dispatcher, tests) decode them (Decode).
//
// An image value is null, an integer, a double (Boost.JSON's spelling; an infinity as an
// overflowing literal, since Boost.JSON writes "Infinity" and does not read it), a string (the
// TEXT's bytes as stored, escaped as JSON) or {"b": "<base64>"} for a BLOB.

#include <sqlite3.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/value.h"

namespace quarry::storage {

// One row change with its values: what CapturedChanges::Decode gives.
struct RowChange {
  enum class Op { kInsert, kUpdate, kDelete };
  Op op = Op::kInsert;
  std::string table;
  int64_t old_rowid = 0;          // kUpdate, kDelete
  int64_t new_rowid = 0;          // kInsert, kUpdate
  std::vector<Value> old_values;  // kUpdate, kDelete: the row before
  std::vector<Value> new_values;  // kInsert, kUpdate: the row after
  // The columns' names, in the order of the values: the record's, stored columns in table
  // order and then the generated VIRTUAL ones (which the pre-update hook gives as NULL);
  // shared by the changes of one table. Null when the table no longer exists.
  std::shared_ptr<const std::vector<std::string>> columns;
};

class CapturedChanges {
 public:
  struct Change {
    RowChange::Op op = RowChange::Op::kInsert;
    std::string table;
    int64_t old_rowid = 0;  // kUpdate, kDelete
    int64_t new_rowid = 0;  // kInsert, kUpdate
    size_t begin = 0;       // where its images start in the buffer: the old one, then the new
    size_t old_bytes = 0;   // 0 when there is no old image (kInsert)
    size_t new_bytes = 0;   // 0 when there is no new image (kDelete)
    size_t values = 0;      // per image: the row's columns
    // As RowChange::columns: set when the commit is handed over.
    std::shared_ptr<const std::vector<std::string>> columns;
  };

  size_t size() const { return changes_.size(); }
  bool empty() const { return changes_.empty(); }
  const Change& operator[](size_t i) const { return changes_[i]; }
  Change& operator[](size_t i) { return changes_[i]; }
  auto begin() { return changes_.begin(); }
  auto end() { return changes_.end(); }
  auto begin() const { return changes_.begin(); }
  auto end() const { return changes_.end(); }

  // The bytes of all images together.
  size_t image_bytes() const { return images_.size(); }
  // The change's images as JSON arrays (empty when absent).
  std::string_view OldImage(const Change& change) const;
  std::string_view NewImage(const Change& change) const;

  // Keeps the first `n` changes (a statement or savepoint rolled back the rest).
  void Truncate(size_t n);
  void clear();
  // `later`'s changes after these.
  void Append(CapturedChanges&& later);

  // A change from inside SQLite's pre-update hook (`op` SQLITE_INSERT, _UPDATE or _DELETE), its
  // images read with sqlite3_preupdate_old/_new. `utf8`: the database's text encoding is
  // UTF-8, so a TEXT value's stored bytes are read in place rather than converted.
  void AddFromPreUpdateHook(sqlite3* db, int op, const char* table, sqlite3_int64 old_rowid,
                            sqlite3_int64 new_rowid, bool utf8);
  // A change given with its values (tests, and callers that build changes themselves).
  void Add(const RowChange& change);

  // The changes with their values read back from the images.
  std::vector<RowChange> Decode() const;

 private:
  std::string images_;
  std::vector<Change> changes_;
};

// One image value, as the change log spells it (above), and back.
void AppendImageValue(std::string& out, const Value& value);
void AppendImageValue(std::string& out, sqlite3_value* value);
std::optional<Value> DecodeImageValue(const boost::json::value& v);

}  // namespace quarry::storage
