#include "storage/captured_changes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace quarry::storage {
namespace {

Value Integer(int64_t v) {
  Value out;
  out.type = Value::Type::kInteger;
  out.integer = v;
  return out;
}

Value Real(double v) {
  Value out;
  out.type = Value::Type::kFloat;
  out.real = v;
  return out;
}

Value Bytes(Value::Type type, std::string bytes) {
  Value out;
  out.type = type;
  out.bytes = std::move(bytes);
  return out;
}

RowChange Change(RowChange::Op op, std::string table, std::vector<Value> old_values,
                 std::vector<Value> new_values) {
  RowChange change;
  change.op = op;
  change.table = std::move(table);
  change.old_rowid = old_values.empty() ? 0 : 7;
  change.new_rowid = new_values.empty() ? 0 : 8;
  change.old_values = std::move(old_values);
  change.new_values = std::move(new_values);
  return change;
}

void ExpectSameValues(const std::vector<Value>& a, const std::vector<Value>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].type, b[i].type) << i;
    EXPECT_EQ(a[i].integer, b[i].integer) << i;
    EXPECT_EQ(a[i].bytes, b[i].bytes) << i;
    if (a[i].type == Value::Type::kFloat) {
      EXPECT_EQ(a[i].real, b[i].real) << i;
    }
  }
}

TEST(CapturedChangesTest, ImagesDecodeToTheValuesTheyWereSpelledFrom) {
  std::vector<RowChange> given = {
      Change(RowChange::Op::kInsert, "t", {},
             {Integer(-9), Real(0.1), Real(-std::numeric_limits<double>::infinity()),
              Bytes(Value::Type::kText, "quote \" tab\t \xff bytes"),
              Bytes(Value::Type::kBlob, std::string("\0\x01\xfe", 3)),
              Bytes(Value::Type::kBlob, ""), Value()}),
      Change(RowChange::Op::kUpdate, "u", {Integer(1), Bytes(Value::Type::kText, "a")},
             {Integer(1), Bytes(Value::Type::kText, "b")}),
      Change(RowChange::Op::kDelete, "u", {Integer(2), Value()}, {}),
  };
  CapturedChanges captured;
  for (const RowChange& change : given) {
    captured.Add(change);
  }
  EXPECT_EQ(
      captured.NewImage(captured[0]),
      "[-9,1E-1,-1e99999,\"quote \\\" tab\\t \xff bytes\",{\"b\":\"AAH+\"},{\"b\":\"\"},null]");
  EXPECT_EQ(captured.OldImage(captured[0]), "");
  EXPECT_EQ(captured.NewImage(captured[2]), "");
  std::vector<RowChange> decoded = captured.Decode();
  ASSERT_EQ(decoded.size(), given.size());
  for (size_t i = 0; i < given.size(); ++i) {
    EXPECT_EQ(decoded[i].op, given[i].op);
    EXPECT_EQ(decoded[i].table, given[i].table);
    EXPECT_EQ(decoded[i].old_rowid, given[i].old_rowid);
    EXPECT_EQ(decoded[i].new_rowid, given[i].new_rowid);
    ExpectSameValues(decoded[i].old_values, given[i].old_values);
    ExpectSameValues(decoded[i].new_values, given[i].new_values);
  }
  EXPECT_TRUE(std::isinf(decoded[0].new_values[2].real));
}

TEST(CapturedChangesTest, TruncateAndAppendKeepEachChangeWithItsImages) {
  CapturedChanges first;
  first.Add(Change(RowChange::Op::kInsert, "a", {}, {Integer(1)}));
  first.Add(Change(RowChange::Op::kInsert, "a", {}, {Integer(2)}));
  first.Add(Change(RowChange::Op::kInsert, "a", {}, {Integer(3)}));
  first.Truncate(5);  // beyond the end: nothing goes
  EXPECT_EQ(first.size(), 3u);
  first.Truncate(1);  // a statement or savepoint after the first change rolled back
  ASSERT_EQ(first.size(), 1u);
  CapturedChanges later;
  later.Add(Change(RowChange::Op::kUpdate, "b", {Bytes(Value::Type::kText, "x")},
                   {Bytes(Value::Type::kText, "y")}));
  first.Append(std::move(later));
  EXPECT_TRUE(later.empty());
  std::vector<RowChange> decoded = first.Decode();
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].new_values.at(0).integer, 1);
  EXPECT_EQ(decoded[1].old_values.at(0).bytes, "x");
  EXPECT_EQ(decoded[1].new_values.at(0).bytes, "y");
  // Images added after a truncation start where the kept ones end.
  first.Truncate(1);
  first.Add(Change(RowChange::Op::kInsert, "a", {}, {Integer(4)}));
  EXPECT_EQ(first.NewImage(first[1]), "[4]");
  CapturedChanges empty;
  empty.Append(std::move(first));
  EXPECT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty.NewImage(empty[0]), "[1]");
}

}  // namespace
}  // namespace quarry::storage
