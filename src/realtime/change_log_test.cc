#include "realtime/change_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <limits>

namespace quarry::realtime {
namespace {

namespace fs = std::filesystem;

class ChangeLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "quarry-log-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<storage::RowChange> Insert(int64_t id, const std::string& text) {
    storage::RowChange change;
    change.op = storage::RowChange::Op::kInsert;
    change.table = "posts";
    change.new_rowid = id;
    change.columns = std::make_shared<std::vector<std::string>>(
        std::vector<std::string>{"id", "title", "score", "data", "gone"});
    storage::Value i;
    i.type = storage::Value::Type::kInteger;
    i.integer = id;
    storage::Value t;
    t.type = storage::Value::Type::kText;
    t.bytes = text;
    storage::Value f;
    f.type = storage::Value::Type::kFloat;
    f.real = 1.0;
    storage::Value b;
    b.type = storage::Value::Type::kBlob;
    b.bytes = std::string("\0\x01\xff", 3);
    change.new_values = {i, t, f, b, storage::Value{}};
    return {change};
  }

  std::unique_ptr<ChangeLog> Open(LogOptions options = {}) {
    auto log = ChangeLog::Open(dir_, options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }

  fs::path dir_;
};

TEST_F(ChangeLogTest, NumbersTransactionsAndReadsThemBackWithTheirValues) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->last_seq(), 0u);
  EXPECT_EQ(log->first_seq(), 1u);
  for (int i = 1; i <= 3; ++i) {
    auto seq = log->Append(1000 + i, Insert(i, "post " + std::to_string(i)));
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    EXPECT_EQ(*seq, static_cast<uint64_t>(i));
  }
  auto read = log->Read(1, 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].seq, 2u);
  EXPECT_EQ((*read)[0].time_ms, 1002);
  const storage::RowChange& change = (*read)[0].changes.at(0);
  EXPECT_EQ(change.table, "posts");
  EXPECT_EQ(change.new_rowid, 2);
  ASSERT_EQ(change.new_values.size(), 5u);
  EXPECT_EQ(change.new_values[0].integer, 2);
  EXPECT_EQ(change.new_values[1].bytes, "post 2");
  EXPECT_EQ(change.new_values[2].type, storage::Value::Type::kFloat) << "1.0 stays a Real";
  EXPECT_EQ(change.new_values[3].type, storage::Value::Type::kBlob);
  EXPECT_EQ(change.new_values[3].bytes, std::string("\0\x01\xff", 3));
  EXPECT_EQ(change.new_values[4].type, storage::Value::Type::kNull);
  ASSERT_NE(change.columns, nullptr);
  EXPECT_EQ(change.columns->at(1), "title");
  EXPECT_TRUE(log->Read(3, 10)->empty());
  EXPECT_EQ(log->Read(0, 2)->size(), 2u) << "at most max";
}

TEST_F(ChangeLogTest, EveryValueReadsBackExactly) {
  auto value = [](storage::Value::Type type, int64_t integer = 0, double real = 0,
                  std::string bytes = {}) {
    storage::Value v;
    v.type = type;
    v.integer = integer;
    v.real = real;
    v.bytes = std::move(bytes);
    return v;
  };
  using T = storage::Value::Type;
  std::vector<storage::Value> values = {
      value(T::kNull),
      value(T::kInteger, INT64_MIN),
      value(T::kInteger, INT64_MAX),
      value(T::kFloat, 0, -0.0),
      value(T::kFloat, 0, 0.1),
      value(T::kFloat, 0, 1e300),
      value(T::kFloat, 0, -std::numeric_limits<double>::infinity()),
      value(T::kFloat, 0, 3.0),
      value(T::kText, 0, 0, "quote \" backslash \\ newline \n tab \t nul " + std::string(1, '\0')),
      value(T::kText, 0, 0, "caf\xc3\xa9 \xf0\x9f\x98\x80 and a stray \xff byte"),
      value(T::kText),
      value(T::kBlob),
      value(T::kBlob, 0, 0, std::string("\0\x01\xff\x80", 4)),
  };
  auto columns = std::make_shared<std::vector<std::string>>();
  for (size_t i = 0; i < values.size(); ++i) {
    columns->push_back("c\"" + std::to_string(i));
  }
  std::vector<storage::RowChange> changes(3);
  changes[0].op = storage::RowChange::Op::kUpdate;
  changes[0].table = "weird \"table\"";
  changes[0].old_rowid = -7;
  changes[0].new_rowid = 8;
  changes[0].old_values = values;
  changes[0].new_values = std::vector<storage::Value>(values.rbegin(), values.rend());
  changes[0].columns = columns;
  changes[1] = changes[0];
  changes[1].op = storage::RowChange::Op::kDelete;
  changes[1].new_values.clear();
  changes[1].new_rowid = 0;
  changes[2].op = storage::RowChange::Op::kInsert;
  changes[2].table = "other";
  changes[2].new_rowid = 1;
  changes[2].new_values = {value(T::kInteger, 1)};  // a table that no longer exists: unnamed

  auto decoded = DecodeChanges(EncodeChanges(changes));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), changes.size());
  auto same = [](const std::vector<storage::Value>& a, const std::vector<storage::Value>& b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].type != b[i].type || a[i].integer != b[i].integer || a[i].bytes != b[i].bytes ||
          std::memcmp(&a[i].real, &b[i].real, sizeof(double)) != 0) {
        return false;
      }
    }
    return true;
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    const storage::RowChange& in = changes[i];
    const storage::RowChange& out = (*decoded)[i];
    EXPECT_EQ(out.op, in.op) << i;
    EXPECT_EQ(out.table, in.table) << i;
    EXPECT_EQ(out.old_rowid, in.old_rowid) << i;
    EXPECT_EQ(out.new_rowid, in.new_rowid) << i;
    EXPECT_TRUE(same(out.old_values, in.old_values)) << i;
    EXPECT_TRUE(same(out.new_values, in.new_values)) << i;
    EXPECT_EQ(out.columns == nullptr, in.columns == nullptr) << i;
    if (in.columns && out.columns) {
      EXPECT_EQ(*out.columns, *in.columns) << i;
    }
  }
}

TEST_F(ChangeLogTest, NumberingSurvivesReopeningAndATornTailIsCutOff) {
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    for (int i = 1; i <= 5; ++i) {
      ASSERT_TRUE(log->Append(i, Insert(i, "x")).ok());
    }
  }
  // A record half written when the machine stopped: garbage at the end of the last segment.
  fs::path segment = *fs::directory_iterator(dir_);
  int fd = ::open(segment.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "\x40\x00\x00\x00garbage", 11), 11);
  ::close(fd);
  auto size_before = fs::file_size(segment);

  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->last_seq(), 5u);
  EXPECT_EQ(fs::file_size(segment), size_before - 11) << "the torn record is cut off";
  auto seq = log->Append(6, Insert(6, "after"));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 6u);
  auto read = log->Read(4, 10);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[1].changes[0].new_values[1].bytes, "after");
}

// The on-disk format: each record is [length u32 LE][CRC-32 of the payload u32 LE][payload],
// the CRC the standard one (IEEE 802.3, check value 0xCBF43926), so logs written by earlier
// builds (Boost.CRC) still verify.
TEST_F(ChangeLogTest, RecordsCarryTheStandardCrc32OfTheirPayload) {
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(1, Insert(1, "checked")).ok());
  }
  fs::path segment = *fs::directory_iterator(dir_);
  std::string bytes(fs::file_size(segment), '\0');
  int fd = ::open(segment.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::read(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
  ASSERT_GE(bytes.size(), 8u);
  auto u32 = [&](size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) {
      v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    }
    return v;
  };
  // A bit-at-a-time CRC-32, independent of the log's own.
  auto crc32 = [](std::string_view data) {
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : data) {
      crc ^= c;
      for (int k = 0; k < 8; ++k) {
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
      }
    }
    return ~crc;
  };
  ASSERT_EQ(crc32("123456789"), 0xCBF43926u);
  uint32_t length = u32(0);
  ASSERT_EQ(bytes.size(), 8u + length);
  EXPECT_EQ(u32(4), crc32(std::string_view(bytes).substr(8, length)));
}

TEST_F(ChangeLogTest, RetentionDropsOldSegmentsAndSaysSoToReaders) {
  LogOptions options;
  options.segment_bytes = 1;  // every transaction in a segment of its own
  options.max_age = std::chrono::milliseconds(1000);
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(log->Append(i * 1000, Insert(i, "x")).ok());
  }
  // The segment written at 4000 is the last one; at 3500 the ones of 1000 and 2000 are too old.
  log->ApplyRetention(3500);
  EXPECT_EQ(log->first_seq(), 3u);
  auto gone = log->Read(1, 10);
  EXPECT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(gone.status().message().find("oldest kept is 3"), std::string::npos)
      << gone.status().message();
  auto kept = log->Read(2, 10);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->size(), 2u);
  // The segment being written always stays, so the numbering goes on after a restart.
  log->ApplyRetention(1'000'000);
  EXPECT_EQ(log->first_seq(), 4u);
  log.reset();
  log = Open(options);
  EXPECT_EQ(log->last_seq(), 4u);
}

TEST_F(ChangeLogTest, RetentionByCount) {
  LogOptions options;
  options.segment_bytes = 1;
  options.max_transactions = 2;
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(log->Append(i, Insert(i, "x")).ok());
  }
  EXPECT_EQ(log->first_seq(), 3u) << "the last two, and the one being written";
}

TEST_F(ChangeLogTest, DecodeRefusesWhatEncodeNeverWrites) {
  EXPECT_FALSE(DecodeChanges("{}").ok());
  EXPECT_FALSE(DecodeChanges("[{\"op\":\"x\",\"t\":\"a\"}]").ok());
  EXPECT_FALSE(DecodeChanges("[{\"op\":\"i\",\"t\":\"a\",\"n\":[{\"q\":1}],\"nr\":1}]").ok());
  EXPECT_FALSE(DecodeChanges("[{\"op\":\"d\",\"t\":\"a\"}]").ok()) << "a delete needs its old row";
  auto round = DecodeChanges(EncodeChanges(Insert(7, "seven")));
  ASSERT_TRUE(round.ok()) << round.status().ToString();
  EXPECT_EQ(round->at(0).new_values[1].bytes, "seven");
}

}  // namespace
}  // namespace quarry::realtime
