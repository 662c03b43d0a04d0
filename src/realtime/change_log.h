#pragma once

// ChangeLog: one namespace's committed transactions, numbered 1, 2, 3, ... (the namespace's
// sequence numbers), kept on disk so a subscriber can resume from the last number it saw.
//
// On-disk layout (docs/on-disk-layout.md): <data>/ns/<name>/changes/<first seq>.log, segments
// of records appended in sequence order. A record is
//   u32 payload length | u32 CRC-32 of the payload | payload
// (little-endian), the payload being u64 seq | i64 commit time (unix ms) | the changes as JSON.
// Append writes a whole record with one write(2) before it returns, so a transaction that was
// acknowledged after Append is in the log after the server is killed (kill -9); an operating
// system crash may lose what the page cache had not written yet, as it may SQLite's WAL under
// synchronous=NORMAL. Opening truncates a torn or corrupt tail of the last segment.
//
// Retention: whole segments go once every transaction in them is older than max_age or more
// than max_transactions transactions are newer; the segment being written always stays, so the
// numbering survives restarts. Thread-safe.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/change_observer.h"

namespace quarry::realtime {

struct LogOptions {
  // Transactions kept at least this long (by commit time) ...
  std::chrono::milliseconds max_age = std::chrono::hours(24);
  // ... unless more than this many newer ones exist; 0: no bound by count.
  uint64_t max_transactions = 0;
  // A segment is closed (and a new one begun) past this size.
  size_t segment_bytes = 4 << 20;
};

struct LoggedTransaction {
  uint64_t seq = 0;
  int64_t time_ms = 0;  // commit time, unix milliseconds
  std::vector<storage::RowChange> changes;
};

class ChangeLog {
 public:
  // Opens (creating) the log in `dir`. Fails naming the file when a segment cannot be read.
  static Result<std::unique_ptr<ChangeLog>> Open(std::filesystem::path dir, LogOptions options);
  ~ChangeLog();
  ChangeLog(const ChangeLog&) = delete;
  ChangeLog& operator=(const ChangeLog&) = delete;

  // Appends one transaction, numbered last_seq() + 1, and returns that number.
  Result<uint64_t> Append(int64_t time_ms, const storage::CapturedChanges& changes);
  // The same for changes given with their values (tests, tools).
  Result<uint64_t> Append(int64_t time_ms, const std::vector<storage::RowChange>& changes);

  // The newest number given (0 for a new log).
  uint64_t last_seq() const;
  // The oldest number still kept (last_seq() + 1 when none is).
  uint64_t first_seq() const;

  // Up to `max` transactions numbered after `after`, in order. Empty when there are none (yet);
  // kNotFound when some after `after` are no longer kept (after < first_seq() - 1).
  Result<std::vector<LoggedTransaction>> Read(uint64_t after, size_t max) const;

  // Drops the segments retention no longer keeps (also done as segments fill).
  void ApplyRetention(int64_t now_ms);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  struct Segment {
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;
    int64_t last_time_ms = 0;
    std::filesystem::path path;
    size_t bytes = 0;
  };
  ChangeLog(std::filesystem::path dir, LogOptions options);
  Status Recover();
  void ApplyRetentionLocked(int64_t now_ms);

  const std::filesystem::path dir_;
  const LogOptions options_;
  mutable std::mutex mutex_;
  std::vector<Segment> segments_;  // GUARDED_BY(mutex_), oldest first
  uint64_t last_seq_ = 0;          // GUARDED_BY(mutex_)
  int fd_ = -1;                    // the last segment, open for appending; GUARDED_BY(mutex_)
};

// The JSON a transaction's changes are logged as, and back (for tests and the fuzzer too).
std::string EncodeChanges(const std::vector<storage::RowChange>& changes);
void AppendChanges(std::string& out, const storage::CapturedChanges& changes);
Result<std::vector<storage::RowChange>> DecodeChanges(std::string_view json);
// `changes` with their images spelled as the capture spells them.
storage::CapturedChanges Captured(const std::vector<storage::RowChange>& changes);

}  // namespace quarry::realtime
