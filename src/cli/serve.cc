#include <string>

#include "cli/command.h"
#include "server/quarry_server.h"

namespace quarry::cli {

void RegisterServeCommand(CLI::App& app, ExitCode& exit_code) {
  auto* cmd = app.add_subcommand("serve", "Run the Quarry server");
  auto config = std::make_shared<server::ServerConfig>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  auto durations = std::make_shared<std::array<int64_t, 7>>(std::array<int64_t, 7>{
      config->stream_idle_timeout.count(), config->transaction_timeout.count(),
      config->query_timeout.count(), config->webhook_timeout.count(),
      config->webhook_retry_initial.count(), config->webhook_retry_max.count(),
      config->realtime_progress_interval.count()});
  cmd->add_option("--listen", *listen, "Address and port to listen on (ADDR:PORT)")
      ->envname("QUARRY_LISTEN")
      ->capture_default_str();
  cmd->add_option("--data", config->data_dir, "Data folder (created if absent)")
      ->envname("QUARRY_DATA")
      ->capture_default_str();
  cmd->add_option("--max-open-dbs", config->max_open_databases,
                  "How many namespace databases stay open at once (LRU beyond)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--no-auth", config->no_auth,
                "Accept requests without a token (loopback addresses only)");
  cmd->add_option("--base-domain", config->base_domain,
                  "Route <name>.<base-domain> Host headers to namespace <name>");
  cmd->add_flag("--durable", config->durable,
                "fsync every commit before acknowledging it (synchronous=FULL)");
  cmd->add_option("--max-body-bytes", config->max_body_bytes, "Largest request body accepted")
      ->capture_default_str();
  cmd->add_option("--max-result-bytes", config->max_result_bytes,
                  "Largest result one statement may return (estimated JSON bytes)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-streams", config->max_streams,
                  "Most Hrana streams open at once (each holds a database connection)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-streams-per-namespace", config->max_streams_per_namespace,
                  "Most Hrana streams open at once on one namespace")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-streams-per-token", config->max_streams_per_token,
                  "Most Hrana streams one token may hold open at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-connections-per-namespace", config->max_connections_per_namespace,
                  "Most SQLite connections open at once on one namespace")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-response-bytes", config->max_response_bytes,
                  "Largest response (all statements of a pipeline or cursor, estimated JSON bytes)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-value-bytes", config->max_value_bytes,
                  "Longest string or blob a statement may make or read (SQLITE_LIMIT_LENGTH)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-sqlite-memory", config->max_sqlite_memory,
                  "Bound on SQLite's heap for all namespaces together, in bytes (0: none)")
      ->capture_default_str();
  cmd->add_option("--stream-idle-timeout-ms", (*durations)[0],
                  "Close a Hrana stream idle this long, rolling back its transaction")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--txn-timeout-ms", (*durations)[1],
                  "Roll back a transaction holding the write lock this long")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--query-timeout-ms", (*durations)[2], "Interrupt a statement running this long")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--log-level", config->log_level,
                  "trace, debug, info (one line per request), warn, error, critical or off")
      ->capture_default_str();
  cmd->add_option("--slow-query-ms", config->slow_query_ms,
                  "Log statements running longer than this, with their SQL (0: off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--jwks", config->jwks,
                  "Also accept user tokens of an identity provider: its key set (JWKS), a file "
                  "or an http(s):// URL. Needs --jwt-issuer and --jwt-audience")
      ->envname("QUARRY_JWKS");
  cmd->add_option("--jwt-issuer", config->jwt_issuer,
                  "The \"iss\" the provider's tokens must carry (with --jwks)");
  cmd->add_option("--jwt-audience", config->jwt_audience,
                  "The audience the provider's tokens must name in \"aud\" (with --jwks)");
  cmd->add_option("--jwt-namespaces-claim", config->jwt_namespaces_claim,
                  "The claim of the provider's tokens that lists the namespaces they reach: \"*\" "
                  "or an array of names")
      ->capture_default_str();
  cmd->add_option("--tls-cert", config->tls_cert_file,
                  "Serve HTTPS and WSS only, with this PEM certificate (optionally followed by "
                  "its chain); needs --tls-key. SIGHUP re-reads both files")
      ->envname("QUARRY_TLS_CERT");
  cmd->add_option("--tls-key", config->tls_key_file, "The PEM private key of --tls-cert")
      ->envname("QUARRY_TLS_KEY");
  cmd->add_option("--ca-file", config->ca_file,
                  "PEM file of certificate authorities the server trusts, besides the system's "
                  "store, when it calls out over https (webhook receivers, --jwks)")
      ->envname("QUARRY_CA_FILE")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ws-max-outstanding-requests", config->ws_max_outstanding_requests,
                  "Hrana over WebSocket: requests one socket may have unanswered before the "
                  "server stops reading it (TCP backpressure)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  auto no_change_log = std::make_shared<bool>(false);
  cmd->add_flag("--no-change-log", *no_change_log,
                "Realtime off: committed changes are not captured, logged or streamed (the "
                "realtime endpoints answer 503)");
  auto retention_s = std::make_shared<int64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(config->changes_retention).count());
  cmd->add_option("--changes-retention-s", *retention_s,
                  "Realtime: how long each namespace's change log keeps committed transactions "
                  "for subscribers resuming with since")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--changes-max-transactions", config->changes_max_transactions,
                  "Realtime: the most transactions a change log keeps (0: bounded by "
                  "--changes-retention-s only)")
      ->capture_default_str();
  cmd->add_option("--realtime-max-queued-bytes", config->realtime_max_queued_bytes,
                  "Realtime: unsent bytes past which a subscriber is reset as too slow")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--realtime-max-subscriptions", config->realtime_max_subscriptions_per_connection,
                  "Realtime: subscriptions one WebSocket may hold")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--realtime-progress-interval-ms", (*durations)[6],
                  "Realtime: a subscription whose filter matched nothing for this long is sent "
                  "its position (a progress mark) to resume from")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-hooks", config->max_hooks, "Webhooks: how many the server keeps, in all")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--webhook-timeout-ms", (*durations)[3],
                  "Webhooks: connecting and each POST to a receiver, before it counts as failed")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--webhook-retry-initial-ms", (*durations)[4],
                  "Webhooks: the wait after a failed delivery (doubling with each failure)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--webhook-retry-max-ms", (*durations)[5],
                  "Webhooks: the longest wait between two attempts")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  auto inline_budget = std::make_shared<int64_t>(config->inline_read_budget.count());
  cmd->add_option("--inline-read-budget-us", *inline_budget,
                  "A lone Hrana read (HTTP, or WebSocket on an idle stream) runs on the network "
                  "thread that received it when it "
                  "finishes within this many microseconds (else on a worker); 0: never")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{100'000}));
  cmd->add_option("--workers", config->worker_threads, "Threads doing database work")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--io-threads", config->io_threads,
                  "Threads doing network I/O; 0: one per CPU the server may run on")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->callback([config, listen, durations, inline_budget, retention_s, no_change_log, &exit_code] {
    Status parsed = server::ParseListen(*listen, *config);
    if (!parsed.ok()) {
      throw CLI::ValidationError("--listen", parsed.message());
    }
    config->stream_idle_timeout = std::chrono::milliseconds((*durations)[0]);
    config->transaction_timeout = std::chrono::milliseconds((*durations)[1]);
    config->query_timeout = std::chrono::milliseconds((*durations)[2]);
    config->webhook_timeout = std::chrono::milliseconds((*durations)[3]);
    config->webhook_retry_initial = std::chrono::milliseconds((*durations)[4]);
    config->webhook_retry_max = std::chrono::milliseconds((*durations)[5]);
    config->realtime_progress_interval = std::chrono::milliseconds((*durations)[6]);
    config->inline_read_budget = std::chrono::microseconds(*inline_budget);
    config->changes_retention = std::chrono::seconds(*retention_s);
    config->change_log = !*no_change_log;
    exit_code.value = server::ServeMain(*config);
  });
}

}  // namespace quarry::cli
