#pragma once

// ServerConfig: everything `quarry serve` can be told, with the defaults documented in
// docs/cli.md. Plain data.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "storage/change_observer.h"

namespace quarry::server {

struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::filesystem::path data_dir = "quarry-data";
  size_t max_open_databases = 1000;
  bool no_auth = false;
  // When set, "<name>.<base_domain>" in the Host header selects namespace <name>.
  std::string base_domain;
  bool durable = false;  // fsync every commit before acknowledging it
  size_t max_body_bytes = 10 << 20;
  size_t max_result_bytes = 32 << 20;  // one statement's rows in a response
  size_t max_streams = 4096;           // open Hrana streams, each holding a connection
  size_t max_streams_per_namespace = 128;
  size_t max_streams_per_token = 1024;
  size_t max_response_bytes = 32 << 20;  // all rows of one response (pipeline, cursor)
  size_t max_value_bytes = 32 << 20;     // one string or blob a statement makes or reads
  size_t max_connections_per_namespace = 192;
  size_t max_sqlite_memory = size_t{2} << 30;  // SQLite's heap, all namespaces together
  std::chrono::milliseconds stream_idle_timeout{10'000};
  std::chrono::milliseconds transaction_timeout{5'000};
  std::chrono::milliseconds query_timeout{30'000};
  // Realtime (docs/realtime.md): how long, and how many, committed transactions each
  // namespace's change log keeps for subscribers resuming with `since` (0: no bound by count),
  // and the unsent bytes past which a subscriber is reset as too slow.
  // Off (--no-change-log): changes are neither captured, logged nor streamed, and the realtime
  // endpoints answer 503.
  bool change_log = true;
  std::chrono::milliseconds changes_retention{std::chrono::hours(24)};
  uint64_t changes_max_transactions = 0;
  size_t realtime_max_queued_bytes = 8 << 20;
  size_t realtime_max_subscriptions_per_connection = 100;
  // A subscription that moved on without an event for this long is sent a progress mark.
  std::chrono::milliseconds realtime_progress_interval{30'000};
  // Webhooks (docs/realtime.md): how many in all, each attempt's time limit, and the waits
  // between failed attempts (doubling from initial to max).
  size_t max_hooks = 100;
  std::chrono::milliseconds webhook_timeout{10'000};
  std::chrono::milliseconds webhook_retry_initial{1'000};
  std::chrono::milliseconds webhook_retry_max{300'000};
  // For tests: the size past which a change log segment is closed (retention drops whole
  // segments). Not a flag.
  size_t changes_segment_bytes = 4 << 20;
  // Hrana over WebSocket: requests one socket may have unanswered before it is no longer read.
  size_t ws_max_outstanding_requests = 128;
  size_t worker_threads = 16;  // threads doing SQLite work
  // A lone Hrana read ([execute of a SELECT, close]) on an open namespace runs on the network
  // thread that received it when it finishes within this budget (else it is interrupted and
  // runs on a worker); 0 sends every request to the workers.
  std::chrono::microseconds inline_read_budget{500};
  // Threads doing network I/O, each with its own connections; 0: one per CPU the process may
  // run on (its affinity mask).
  int io_threads = 0;
  // spdlog level name: trace, debug, info, warn, error, critical, off. At info, one line per
  // request (method, path, namespace, status, time); statements slower than slow_query_ms are
  // logged at warn with their SQL.
  std::string log_level = "info";
  int slow_query_ms = 500;
  // An external identity provider whose tokens are user tokens (auth/external_issuer.h): its key
  // set, a file path or an http(s):// URL, and the "iss"
  // and "aud" its tokens must carry. Empty jwks: none. The namespaces a token reaches come from
  // its claim jwt_namespaces_claim.
  std::string jwks;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string jwt_namespaces_claim = "ns";
  // TLS: PEM files of the certificate (optionally followed by its chain) and its private key.
  // Both set: the listen port speaks HTTPS and WSS only, and SIGHUP re-reads them. Both or
  // neither.
  std::string tls_cert_file;
  std::string tls_key_file;
  // The server as a TLS client (https webhook receivers, an https --jwks): a PEM file of the
  // certificate authorities to trust besides the system's store.
  std::string ca_file;
  // For a program embedding the server (and tests): called with a namespace's name after its
  // recorded schema may have changed: a schema was recorded (migrate push, a migration made from
  // a schema), migrations were applied or undone, or the namespace was created, deleted or
  // forked into. Runs on a worker thread after the change committed; must be thread-safe and
  // quick. Not a flag. Server code subscribes through QuarryServer::schema_changes().
  std::function<void(const std::string& ns)> on_schema_change;
  // For a program embedding the server (and tests): sees every committed change of every
  // namespace. Not a flag; must outlive the server.
  storage::ChangeObserver* change_observer = nullptr;
  // For tests: the clock that times idle streams and write transactions (must outlive the
  // server). With one other than Clock::Steady(), streams expire only when
  // QuarryServer::ExpireStreamsNow is called.
  const Clock* stream_clock = &Clock::Steady();

  // Refuses combinations that are unsafe or meaningless: --no-auth off loopback, zero limits,
  // --jwks without --jwt-issuer and --jwt-audience (or those without --jwks), one of --tls-cert
  // and --tls-key without the other.
  Status Validate() const;
};

// Parses "ADDR:PORT" (IPv6 as "[::1]:8080") into the config's listen fields.
Status ParseListen(std::string_view text, ServerConfig& config);
bool IsLoopbackAddress(std::string_view address);

}  // namespace quarry::server
