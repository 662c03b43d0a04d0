#include "realtime/change_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/json_text.h"

namespace quarry::realtime {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr size_t kHeaderBytes = 8;     // length, CRC
constexpr size_t kPayloadPrefix = 16;  // seq, time
constexpr size_t kMaxRecordBytes = 1u << 30;

// CRC-32 (IEEE 802.3, as zlib and Boost's crc_32_type compute it), in pieces below 4 GiB.
uint32_t Crc32(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* data = reinterpret_cast<const Bytef*>(bytes.data());
  size_t left = bytes.size();
  while (left > 0) {
    auto piece = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    crc = crc32(crc, data, piece);
    data += piece;
    left -= piece;
  }
  return static_cast<uint32_t>(crc);
}

// Little-endian fixed-width integers.
template <typename T>
void PutAt(char* out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
}
template <typename T>
T Get(const char* p) {
  T v = 0;
  for (size_t i = sizeof(T); i-- > 0;) {
    v = static_cast<T>((v << 8) | static_cast<unsigned char>(p[i]));
  }
  return v;
}

std::string SegmentName(uint64_t first_seq) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.log", static_cast<unsigned long long>(first_seq));
  return name;
}

std::optional<uint64_t> ParseSegmentName(const fs::path& path) {
  std::string stem = path.stem().string();
  if (path.extension() != ".log" || stem.size() != 20 ||
      !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoull(stem);
}

Status IoError(const std::string& what, const fs::path& path) {
  return Status(ErrorCode::kInternal, what + " " + path.string() + ": " + std::strerror(errno));
}

Result<std::string> ReadFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return IoError("cannot open the change log segment", path);
  }
  std::string bytes;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      Status failed = IoError("cannot read the change log segment", path);
      ::close(fd);
      return failed;
    }
    if (n == 0) {
      break;
    }
    bytes.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return bytes;
}

// One record parsed out of a segment's bytes.
struct RawRecord {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::string_view changes_json;
  size_t end = 0;  // offset just past the record
};

// The record at `offset`, or nullopt when what is there is not a whole, intact record.
std::optional<RawRecord> ParseRecord(std::string_view bytes, size_t offset) {
  if (bytes.size() - offset < kHeaderBytes) {
    return std::nullopt;
  }
  uint32_t length = Get<uint32_t>(bytes.data() + offset);
  uint32_t crc = Get<uint32_t>(bytes.data() + offset + 4);
  if (length < kPayloadPrefix || length > kMaxRecordBytes ||
      bytes.size() - offset - kHeaderBytes < length) {
    return std::nullopt;
  }
  std::string_view payload = bytes.substr(offset + kHeaderBytes, length);
  if (Crc32(payload) != crc) {
    return std::nullopt;
  }
  RawRecord record;
  record.seq = Get<uint64_t>(payload.data());
  record.time_ms = static_cast<int64_t>(Get<uint64_t>(payload.data() + 8));
  record.changes_json = payload.substr(kPayloadPrefix);
  record.end = offset + kHeaderBytes + length;
  return record;
}

// The record's JSON is written directly (no DOM): it is built on every committing thread, from
// row images the capture spelled already (storage/captured_changes.h).

void AppendInteger(std::string& out, int64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, end);
}

}  // namespace

void AppendChanges(std::string& out, const storage::CapturedChanges& changes) {
  out += '[';
  // The changes of one table share their column names: spelled once per run of them.
  const std::vector<std::string>* columns_of = nullptr;
  std::string columns_json;
  for (size_t i = 0; i < changes.size(); ++i) {
    const storage::CapturedChanges::Change& change = changes[i];
    if (i > 0) {
      out += ',';
    }
    out += change.op == storage::RowChange::Op::kInsert   ? "{\"op\":\"i\",\"t\":"
           : change.op == storage::RowChange::Op::kUpdate ? "{\"op\":\"u\",\"t\":"
                                                          : "{\"op\":\"d\",\"t\":";
    AppendJsonString(out, change.table);
    if (change.columns) {
      if (change.columns.get() != columns_of) {
        columns_of = change.columns.get();
        columns_json = "[";
        for (size_t c = 0; c < columns_of->size(); ++c) {
          if (c > 0) {
            columns_json += ',';
          }
          AppendJsonString(columns_json, (*columns_of)[c]);
        }
        columns_json += ']';
      }
      out += ",\"c\":";
      out += columns_json;
    }
    if (change.op != storage::RowChange::Op::kInsert) {
      out += ",\"or\":";
      AppendInteger(out, change.old_rowid);
      out += ",\"o\":";
      out += changes.OldImage(change);
    }
    if (change.op != storage::RowChange::Op::kDelete) {
      out += ",\"nr\":";
      AppendInteger(out, change.new_rowid);
      out += ",\"n\":";
      out += changes.NewImage(change);
    }
    out += '}';
  }
  out += ']';
}

std::string EncodeChanges(const std::vector<storage::RowChange>& changes) {
  std::string out;
  AppendChanges(out, Captured(changes));
  return out;
}

storage::CapturedChanges Captured(const std::vector<storage::RowChange>& changes) {
  storage::CapturedChanges captured;
  for (const storage::RowChange& change : changes) {
    captured.Add(change);
  }
  return captured;
}

Result<std::vector<storage::RowChange>> DecodeChanges(std::string_view text) {
  auto bad = [](const std::string& why) {
    return Status(ErrorCode::kInternal, "a change log record does not decode: " + why);
  };
  boost::system::error_code ec;
  json::parse_options parse_options;
  parse_options.allow_invalid_utf8 = true;  // TEXT values are SQLite's bytes, as stored
  json::value parsed = json::parse(text, ec, {}, parse_options);
  if (ec || !parsed.is_array()) {
    return bad("not a JSON array");
  }
  std::vector<storage::RowChange> changes;
  for (const auto& item : parsed.get_array()) {
    if (!item.is_object()) {
      return bad("a change is not an object");
    }
    const json::object& c = item.get_object();
    storage::RowChange change;
    const json::value* op = c.if_contains("op");
    const json::value* table = c.if_contains("t");
    if (op == nullptr || !op->is_string() || table == nullptr || !table->is_string()) {
      return bad("a change lacks op or t");
    }
    if (*op == "i") {
      change.op = storage::RowChange::Op::kInsert;
    } else if (*op == "u") {
      change.op = storage::RowChange::Op::kUpdate;
    } else if (*op == "d") {
      change.op = storage::RowChange::Op::kDelete;
    } else {
      return bad("unknown op");
    }
    change.table = std::string(table->get_string());
    if (const json::value* columns = c.if_contains("c")) {
      if (!columns->is_array()) {
        return bad("c is not an array");
      }
      auto names = std::make_shared<std::vector<std::string>>();
      for (const auto& name : columns->get_array()) {
        if (!name.is_string()) {
          return bad("a column name is not a string");
        }
        names->emplace_back(name.get_string());
      }
      change.columns = std::move(names);
    }
    auto values = [&](const char* key, std::vector<storage::Value>& into) -> bool {
      const json::value* list = c.if_contains(key);
      if (list == nullptr || !list->is_array()) {
        return false;
      }
      for (const auto& v : list->get_array()) {
        auto decoded = storage::DecodeImageValue(v);
        if (!decoded) {
          return false;
        }
        into.push_back(std::move(*decoded));
      }
      return true;
    };
    auto rowid = [&](const char* key, int64_t& into) -> bool {
      const json::value* v = c.if_contains(key);
      if (v == nullptr || !v->is_int64()) {
        return false;
      }
      into = v->get_int64();
      return true;
    };
    if (change.op != storage::RowChange::Op::kInsert &&
        !(values("o", change.old_values) && rowid("or", change.old_rowid))) {
      return bad("an update or delete lacks its old row");
    }
    if (change.op != storage::RowChange::Op::kDelete &&
        !(values("n", change.new_values) && rowid("nr", change.new_rowid))) {
      return bad("an insert or update lacks its new row");
    }
    changes.push_back(std::move(change));
  }
  return changes;
}

ChangeLog::ChangeLog(fs::path dir, LogOptions options) : dir_(std::move(dir)), options_(options) {}

ChangeLog::~ChangeLog() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Result<std::unique_ptr<ChangeLog>> ChangeLog::Open(fs::path dir, LogOptions options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Status(ErrorCode::kInternal,
                  "cannot create the change log folder " + dir.string() + ": " + ec.message());
  }
  std::unique_ptr<ChangeLog> log(new ChangeLog(std::move(dir), options));
  QUARRY_RETURN_IF_ERROR(log->Recover());
  return log;
}

Status ChangeLog::Recover() {
  std::vector<std::pair<uint64_t, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (auto first = ParseSegmentName(entry.path())) {
      found.emplace_back(*first, entry.path());
    }
  }
  if (ec) {
    return Status(ErrorCode::kInternal,
                  "cannot list the change log folder " + dir_.string() + ": " + ec.message());
  }
  std::sort(found.begin(), found.end());
  for (size_t i = 0; i < found.size(); ++i) {
    Segment segment;
    segment.first_seq = found[i].first;
    segment.path = found[i].second;
    if (i + 1 < found.size()) {
      // A closed segment ends where the next begins; its age is its file's last write.
      segment.last_seq = found[i + 1].first - 1;
      struct stat st {};
      if (::stat(segment.path.c_str(), &st) == 0) {
        segment.last_time_ms =
            static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
        segment.bytes = static_cast<size_t>(st.st_size);
      }
      segments_.push_back(std::move(segment));
      continue;
    }
    // The last segment: read it through, keep its intact records, cut off a torn tail.
    QUARRY_ASSIGN_OR_RETURN(std::string bytes, ReadFile(segment.path));
    size_t offset = 0;
    uint64_t expected = segment.first_seq;
    while (auto record = ParseRecord(bytes, offset)) {
      if (record->seq != expected) {
        break;
      }
      segment.last_seq = record->seq;
      segment.last_time_ms = record->time_ms;
      offset = record->end;
      ++expected;
    }
    if (offset < bytes.size() &&
        ::truncate(segment.path.c_str(), static_cast<off_t>(offset)) != 0) {
      return IoError("cannot cut the torn end off the change log segment", segment.path);
    }
    if (offset == 0) {
      // Nothing of it landed: the numbering goes on from the segment's name.
      fs::remove(segment.path, ec);
      last_seq_ = segment.first_seq - 1;
      continue;
    }
    segment.bytes = offset;
    last_seq_ = segment.last_seq;
    segments_.push_back(std::move(segment));
  }
  if (!segments_.empty() && last_seq_ < segments_.back().last_seq) {
    last_seq_ = segments_.back().last_seq;
  }
  if (!segments_.empty()) {
    fd_ = ::open(segments_.back().path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) {
      return IoError("cannot open the change log segment", segments_.back().path);
    }
  }
  return Status::Ok();
}

Result<uint64_t> ChangeLog::Append(int64_t time_ms,
                                   const std::vector<storage::RowChange>& changes) {
  return Append(time_ms, Captured(changes));
}

Result<uint64_t> ChangeLog::Append(int64_t time_ms, const storage::CapturedChanges& changes) {
  // One buffer: the header's room, then the payload (sequence, time, the changes' JSON).
  std::string record(kHeaderBytes + kPayloadPrefix, '\0');
  record.reserve(kHeaderBytes + kPayloadPrefix + changes.image_bytes() + 96 * changes.size() + 2);
  AppendChanges(record, changes);
  const size_t json_bytes = record.size() - kHeaderBytes - kPayloadPrefix;
  if (json_bytes + kPayloadPrefix > kMaxRecordBytes) {
    return Status(ErrorCode::kPayloadTooLarge,
                  "a transaction's changes are " + std::to_string(json_bytes) +
                      " bytes as JSON, more than a change log record holds (" +
                      std::to_string(kMaxRecordBytes) + ")");
  }
  std::lock_guard lock(mutex_);
  uint64_t seq = last_seq_ + 1;
  char* header = record.data();
  PutAt<uint64_t>(header + kHeaderBytes, seq);
  PutAt<uint64_t>(header + kHeaderBytes + 8, static_cast<uint64_t>(time_ms));
  std::string_view payload(header + kHeaderBytes, record.size() - kHeaderBytes);
  PutAt<uint32_t>(header, static_cast<uint32_t>(payload.size()));
  PutAt<uint32_t>(header + 4, Crc32(payload));

  if (fd_ < 0 || segments_.back().bytes >= options_.segment_bytes) {
    fs::path path = dir_ / SegmentName(seq);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      return IoError("cannot create the change log segment", path);
    }
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
    segments_.push_back(Segment{seq, seq - 1, time_ms, path, 0});
    ApplyRetentionLocked(time_ms);
  }
  Segment& segment = segments_.back();
  size_t written = 0;
  while (written < record.size()) {
    ssize_t n = ::write(fd_, record.data() + written, record.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      Status failed = IoError("cannot append to the change log segment", segment.path);
      if (written > 0) {
        // A partial record would hide every later one: cut it off again.
        if (::ftruncate(fd_, static_cast<off_t>(segment.bytes)) != 0) {
          ::close(fd_);
          fd_ = -1;  // the next append starts a new segment
        }
      }
      return failed;
    }
    written += static_cast<size_t>(n);
  }
  segment.bytes += record.size();
  segment.last_seq = seq;
  segment.last_time_ms = time_ms;
  last_seq_ = seq;
  return seq;
}

uint64_t ChangeLog::last_seq() const {
  std::lock_guard lock(mutex_);
  return last_seq_;
}

uint64_t ChangeLog::first_seq() const {
  std::lock_guard lock(mutex_);
  for (const auto& segment : segments_) {
    if (segment.last_seq >= segment.first_seq) {
      return segment.first_seq;
    }
  }
  return last_seq_ + 1;
}

Result<std::vector<LoggedTransaction>> ChangeLog::Read(uint64_t after, size_t max) const {
  std::vector<Segment> segments;
  uint64_t last = 0;
  {
    std::lock_guard lock(mutex_);
    segments = segments_;
    last = last_seq_;
  }
  std::vector<LoggedTransaction> out;
  if (after >= last || max == 0) {
    return out;
  }
  uint64_t first = last + 1;
  for (const auto& segment : segments) {
    if (segment.last_seq >= segment.first_seq) {
      first = segment.first_seq;
      break;
    }
  }
  if (after + 1 < first) {
    return Status(ErrorCode::kNotFound, "changes after " + std::to_string(after) +
                                            " are no longer kept (the oldest kept is " +
                                            std::to_string(first) + ")");
  }
  for (const auto& segment : segments) {
    if (segment.last_seq <= after || segment.last_seq < segment.first_seq) {
      continue;
    }
    // Read only as far as the segment had been written when we looked: an append under way
    // is not read half.
    QUARRY_ASSIGN_OR_RETURN(std::string bytes, ReadFile(segment.path));
    if (bytes.size() > segment.bytes) {
      bytes.resize(segment.bytes);
    }
    size_t offset = 0;
    uint64_t expected = segment.first_seq;
    while (auto record = ParseRecord(bytes, offset)) {
      offset = record->end;
      if (record->seq != expected++) {
        break;  // not where it should be: what follows is not trusted
      }
      if (record->seq <= after) {
        continue;
      }
      if (record->seq > segment.last_seq) {
        break;
      }
      QUARRY_ASSIGN_OR_RETURN(auto changes, DecodeChanges(record->changes_json));
      out.push_back(LoggedTransaction{record->seq, record->time_ms, std::move(changes)});
      if (out.size() >= max) {
        return out;
      }
    }
    if (expected <= segment.last_seq) {
      // The segment ends (or breaks) before the numbers it should hold: never a silent gap.
      return Status(ErrorCode::kInternal, "the change log segment " + segment.path.string() +
                                              " lacks transaction " + std::to_string(expected));
    }
  }
  return out;
}

void ChangeLog::ApplyRetention(int64_t now_ms) {
  std::lock_guard lock(mutex_);
  ApplyRetentionLocked(now_ms);
}

void ChangeLog::ApplyRetentionLocked(int64_t now_ms) {
  int64_t oldest_kept_ms = now_ms - options_.max_age.count();
  while (segments_.size() > 1) {
    const Segment& oldest = segments_.front();
    bool too_old = oldest.last_time_ms < oldest_kept_ms;
    bool too_many =
        options_.max_transactions > 0 && last_seq_ - oldest.last_seq >= options_.max_transactions;
    if (!too_old && !too_many) {
      return;
    }
    std::error_code ec;
    fs::remove(oldest.path, ec);
    segments_.erase(segments_.begin());
  }
}

}  // namespace quarry::realtime
