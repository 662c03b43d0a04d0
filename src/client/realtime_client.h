#pragma once

// A namespace's committed changes (docs/realtime.md) over the quarry-realtime-v1 WebSocket.
//
// RealtimeConnection is the protocol, one message at a time: hello, subscribe, unsubscribe out;
// whatever the server sends back in, as JSON. Watch is what an application wants: one
// subscription kept alive across lost connections, each committed transaction's changes handed
// over whole and exactly once (a reconnect resumes after the last transaction handed over),
// the token renewed before it expires.
//
//   client::SubscribeRequest request{.model = "posts", .where = json::parse(R"({"accountId":
//   7})")}; Status end = client::Watch(url, "shop", [&] { return Result<std::string>(token); },
//   request,
//                              {.on_transaction = [](uint64_t seq, const auto& changes) {
//                                 ...; return true;  // false stops the watch
//                               }});
//
// Beast's WebSocket is compiled only in realtime_client.cc. Not thread-safe: a connection, and a
// Watch, belong to one thread (WatchOptions::stop may be set from any).

#include <atomic>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace quarry::client {

inline constexpr std::string_view kRealtimeSubprotocol = "quarry-realtime-v1";

struct RealtimeOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // A connection over which nothing arrives for this long, not even the answer to the ping sent
  // halfway through, is lost.
  std::chrono::milliseconds idle_timeout{30'000};
  // wss (https, libsql URLs): a PEM file of certificate authorities to trust besides the
  // system's store (OpenSSL's default paths, which SSL_CERT_FILE and SSL_CERT_DIR override).
  std::string ca_file;
};

struct SubscribeRequest {
  std::string id = "s1";
  std::string model;
  boost::json::value where;   // the data API's where; null: every row
  boost::json::value select;  // the data API's select; null: the default fields
  std::optional<uint64_t> since;
};

class RealtimeConnection {
 public:
  // Connects to `url` (http://host:port, or .../db/<name> naming the namespace when `ns` is
  // empty) and upgrades GET /db/<ns>/v1/realtime. A refused upgrade is the server's error
  // (kNamespaceNotFound, kUnauthorized, ...); an unreachable server kUnavailable.
  static Result<std::unique_ptr<RealtimeConnection>> Open(const std::string& url,
                                                          const std::string& ns,
                                                          const RealtimeOptions& options = {});
  ~RealtimeConnection();
  RealtimeConnection(const RealtimeConnection&) = delete;
  RealtimeConnection& operator=(const RealtimeConnection&) = delete;

  // {"type": "hello", "token": ...}: answered hello_ok, or an error and the socket closed.
  Status Hello(std::string_view token);
  // {"type": "subscribe", ...}: answered subscribed or error (with the request's id).
  Status Subscribe(const SubscribeRequest& request);
  Status Unsubscribe(std::string_view id);

  // The next message the server sent, nullopt when none came within `timeout`. Once the server
  // closed the socket: kUnauthorized when it closed it for the token (1008), else kUnavailable,
  // with the server's reason.
  Result<std::optional<boost::json::object>> Read(std::chrono::milliseconds timeout);

  // "http://host:port", for messages.
  const std::string& origin() const;

 private:
  struct Impl;
  explicit RealtimeConnection(std::unique_ptr<Impl> impl);
  Status Send(const boost::json::object& message);
  std::unique_ptr<Impl> impl_;
};

// The error a {"type": "error"} message carries, as a Status with the data API's code and path.
Status StatusFromRealtimeError(const boost::json::object& message);

struct WatchHandlers {
  // The subscription is in place after `seq` (first, and again after each reconnect).
  std::function<void(uint64_t seq)> on_subscribed;
  // One committed transaction's changes that the subscription matched, whole, in commit order
  // (the server's change messages). Returning false ends the watch.
  std::function<bool(uint64_t seq, const std::vector<boost::json::object>& changes)> on_transaction;
  // The connection was lost, or the server reset the subscription for a reason a resubscribe
  // can get past (too slow); the next attempt comes after `delay`.
  std::function<void(const Status& why, std::chrono::milliseconds delay)> on_disconnect;
};

struct WatchOptions {
  RealtimeOptions connection;
  // Waits between reconnection attempts: from `reconnect_min`, doubling to `reconnect_max`.
  std::chrono::milliseconds reconnect_min{250};
  std::chrono::milliseconds reconnect_max{10'000};
  // Set (from any thread) to end the watch; looked at every 100 ms.
  const std::atomic<bool>* stop = nullptr;
};

// Gives the token to authenticate with (empty: none, for a server run with --no-auth); asked
// on every connection and again before the token in use expires.
using TokenSource = std::function<Result<std::string>()>;

// Keeps `request` subscribed and hands its transactions to `handlers` until one returns false
// or `options.stop` is set (both OK), or the subscription cannot go on: refused (the server's
// error, with its code and path), reset past the change log (kChangesGone, with the server's
// reason and the last sequence handed over), the token refused. Progress marks move the resume
// point of a subscription whose filter matches nothing for long. A first connection that fails is
// returned as it failed; once subscribed, a lost connection is retried, without end, resuming after
// the last transaction handed over.
Status Watch(const std::string& url, const std::string& ns, const TokenSource& token,
             SubscribeRequest request, const WatchHandlers& handlers,
             const WatchOptions& options = {});

}  // namespace quarry::client
