#pragma once

// Hub: realtime's engine. It is the ChangeObserver of every namespace: each committed
// transaction is numbered (the namespace's next sequence number) and appended to the namespace's
// ChangeLog on the committing thread before the write is answered, then handed to the hub's
// dispatcher thread, which evaluates it for the subscriptions and sends the events.
//
// Subscriptions are the data API's `where` and `select` on one model, run as a caller (the
// Identity of the subscriber's token). Subscriptions that share model, where, select and
// identity form one group, evaluated once per change: a statement compiled by the data API's
// own compiler, with the read policy and field rules inside it, run against the row image
// (before and after) on a read connection. Groups whose where pins a field to one value
// (`{"accountId": 7}`) are indexed by it, so a change is evaluated only for the groups its rows
// can match.
//
// Events, per subscription, in commit order, a transaction's changes together:
//   {"type":"change","sub":"s1","seq":1042,"op":"insert|update|delete|enter|leave",
//    "model":"posts","row":{...},"old":{...}}
// An UPDATE whose old row matched and new row does not is a "leave" (with "old"); the reverse
// an "enter" (with "row"). Resume: `since` delivers every change after it from the log, then
// goes live with no gap and no duplicate; past the log's retention (or ahead of it) the answer
// is {"type":"reset","sub":..,"code":"CHANGES_GONE","reason":..,"seq":..} and the subscription
// ends. A subscriber whose outbox holds more than max_queued_bytes unsent is reset the same way
// ("code":"TOO_SLOW"; its other subscribers and the writers never wait for it). A subscription
// that moved on without an event for progress_interval (its filter matched nothing lately) is
// sent {"type":"progress","sub":..,"seq":N}, a position it may resume from.
//
// Thread-safe; the dispatcher is the only thread that touches subscriptions.

#include <boost/json/value.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "query/identity.h"
#include "realtime/change_log.h"
#include "schema/model.h"
#include "storage/change_observer.h"
#include "storage/namespace_store.h"

namespace quarry::realtime {

// Where a subscriber's messages go (a WebSocket, an SSE response). Any thread.
class Outbox {
 public:
  virtual ~Outbox() = default;
  // One message of `type` ("change", "subscribed", "progress", "reset", "unsubscribed", "error")
  // and the sequence number it carries (0 for none), for transports that frame them (SSE's
  // event: and id: lines).
  virtual void Send(std::string_view type, uint64_t seq, std::string message) = 0;
  // Bytes sent and not yet written to the socket.
  virtual size_t QueuedBytes() const = 0;
  // Ends the connection, telling why.
  virtual void Close(std::string reason) = 0;
  // Called about once a second while the connection lasts (a token's expiry is checked here).
  virtual void Heartbeat() {}
};

// The schema a namespace serves (the data API's), read on a connection of it.
struct ServedModels {
  std::shared_ptr<const void> keep;  // owns *schema
  const schema::Schema* schema = nullptr;
  bool recorded = false;  // false: introspected tables, service tokens only
  uint64_t generation = 0;
};
using SchemaProvider =
    std::function<Result<ServedModels>(const std::string& ns, storage::Connection& conn)>;

struct HubOptions {
  std::filesystem::path data_dir;  // logs go to <data_dir>/ns/<name>/changes
  LogOptions log;
  // Unsent bytes past which a subscriber is reset as too slow.
  size_t max_queued_bytes = 8 << 20;
  // Subscriptions per connection, and per namespace.
  size_t max_subscriptions_per_connection = 100;
  size_t max_subscriptions_per_namespace = 100'000;
  // Transactions read from the log per step of a catch-up (so one catch-up does not hold
  // back live delivery for long).
  size_t catch_up_batch = 256;
  // A subscription that moved this long without an event is sent a progress mark.
  std::chrono::milliseconds progress_interval{30'000};
};

struct SubscribeRequest {
  std::string id;
  std::string model;
  boost::json::value where;   // null: every row
  boost::json::value select;  // null: the model's default fields
  std::optional<uint64_t> since;
};

class Hub : public storage::ChangeObserver {
 public:
  Hub(storage::NamespaceStore& store, SchemaProvider schemas, HubOptions options,
      const Clock& clock = Clock::Steady());
  ~Hub() override;
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  void OnCommit(const storage::CommittedChanges& committed) override;
  // Stops delivering: the dispatcher ends, later calls send nothing (commits are still logged).
  // Called before the transport goes, so no event is handed to a socket being torn down.
  void Stop();

  // A subscriber connection on namespace `ns`; its number for the calls below.
  uint64_t Connect(std::string ns, query::Identity identity, std::shared_ptr<Outbox> outbox);
  // A renewed token (a later hello): subscriptions made from now on run as `identity`.
  void SetIdentity(uint64_t connection, query::Identity identity);
  // Answers {"type":"subscribed","id":..,"seq":<position>} or {"type":"error","id":..,..}.
  void Subscribe(uint64_t connection, SubscribeRequest request);
  // What Subscribe would answer as an error, found now on the calling thread (which may block
  // on SQLite): for transports that must refuse before they answer (SSE's status line).
  Status Check(const std::string& ns, const query::Identity& identity,
               const SubscribeRequest& request);
  // Answers {"type":"unsubscribed","id":..}.
  void Unsubscribe(uint64_t connection, std::string id);
  void Disconnect(uint64_t connection);
  // The namespace was created, deleted, forked into or given a schema: when its folder is gone
  // or is another one than the log was opened in (deleted, recreated), its log is forgotten
  // and its subscribers are closed.
  void NamespaceChanged(const std::string& ns);

  // The sequence numbers the namespace's change log holds (opening it): the oldest kept and the
  // newest given (first is last + 1 when it keeps none).
  struct LogRange {
    uint64_t first = 1;
    uint64_t last = 0;
  };
  Result<LogRange> Range(const std::string& ns);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses one client message of the quarry-realtime-v1 protocol (docs/realtime.md).
struct ClientMessage {
  enum class Type { kHello, kSubscribe, kUnsubscribe };
  Type type = Type::kSubscribe;
  std::string token;           // kHello
  SubscribeRequest subscribe;  // kSubscribe; kUnsubscribe uses subscribe.id
};
// kInvalidArgument naming the offending member ("subscribe.since: expected ...").
Result<ClientMessage> ParseClientMessage(std::string_view text);

// {"type":"error","id":<id or null>,"error":{"code","message","path"}}
std::string ErrorMessage(const std::optional<std::string>& id, const Status& status);

}  // namespace quarry::realtime
