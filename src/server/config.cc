#include "server/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <string>

namespace quarry::server {

bool IsLoopbackAddress(std::string_view address) {
  if (address == "localhost") {
    return true;
  }
  std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  return inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

Status ParseListen(std::string_view text, ServerConfig& config) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    return Status(ErrorCode::kInvalidArgument,
                  "--listen '" + std::string(text) + "' must be ADDRESS:PORT, e.g. 127.0.0.1:8080");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status(ErrorCode::kInvalidArgument,
                  "--listen port '" + std::string(port_text) + "' is not a number in 0..65535");
  }
  config.listen_address = host == "localhost" ? "127.0.0.1" : std::string(host);
  config.listen_port = static_cast<uint16_t>(port);
  return Status::Ok();
}

Status ServerConfig::Validate() const {
  if (no_auth && !IsLoopbackAddress(listen_address)) {
    return Status(ErrorCode::kInvalidArgument,
                  "--no-auth is only allowed on a loopback address (127.0.0.1 or ::1), not " +
                      listen_address);
  }
  if (max_open_databases == 0 || worker_threads == 0 || io_threads < 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "--max-open-dbs and --workers must be at least 1, --io-threads at least 0");
  }
  if (stream_idle_timeout.count() <= 0 || transaction_timeout.count() <= 0 ||
      query_timeout.count() <= 0) {
    return Status(ErrorCode::kInvalidArgument, "timeouts must be positive");
  }
  if (realtime_progress_interval.count() <= 0) {
    return Status(ErrorCode::kInvalidArgument, "--realtime-progress-interval-ms must be positive");
  }
  if (max_hooks == 0 || webhook_timeout.count() <= 0 || webhook_retry_initial.count() <= 0 ||
      webhook_retry_max < webhook_retry_initial) {
    return Status(ErrorCode::kInvalidArgument,
                  "--max-hooks, --webhook-timeout-ms and --webhook-retry-initial-ms must be "
                  "positive, --webhook-retry-max-ms at least --webhook-retry-initial-ms");
  }
  if (max_streams_per_namespace == 0 || max_streams_per_token == 0 ||
      max_connections_per_namespace < 2) {
    return Status(ErrorCode::kInvalidArgument,
                  "--max-streams-per-namespace and --max-streams-per-token must be at least 1, "
                  "--max-connections-per-namespace at least 2");
  }
  if (max_value_bytes < 1024 || max_value_bytes > 1'000'000'000) {
    return Status(ErrorCode::kInvalidArgument,
                  "--max-value-bytes must be between 1024 and 1000000000 (SQLite's own limit)");
  }
  if (max_response_bytes < 1024 || max_result_bytes < 1024) {
    return Status(ErrorCode::kInvalidArgument,
                  "--max-result-bytes and --max-response-bytes must be at least 1024");
  }
  if (max_sqlite_memory != 0 && max_sqlite_memory < (size_t{64} << 20)) {
    return Status(ErrorCode::kInvalidArgument,
                  "--max-sqlite-memory must be 0 (no limit) or at least 64 MiB (67108864)");
  }
  if (spdlog::level::from_str(log_level) == spdlog::level::off && log_level != "off") {
    return Status(ErrorCode::kInvalidArgument,
                  "--log-level '" + log_level +
                      "' is not one of trace, debug, info, warn, error, critical, off");
  }
  if (!jwks.empty() && (jwt_issuer.empty() || jwt_audience.empty())) {
    return Status(ErrorCode::kInvalidArgument,
                  "--jwks needs --jwt-issuer and --jwt-audience: the \"iss\" and \"aud\" the "
                  "provider's tokens carry, so that tokens it issued for another application "
                  "are refused");
  }
  if (jwks.empty() && (!jwt_issuer.empty() || !jwt_audience.empty())) {
    return Status(ErrorCode::kInvalidArgument,
                  "--jwt-issuer and --jwt-audience need --jwks (the issuer's key set)");
  }
  if (!jwks.empty() && jwt_namespaces_claim.empty()) {
    return Status(ErrorCode::kInvalidArgument, "--jwt-namespaces-claim must not be empty");
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  tls_cert_file.empty()
                      ? "--tls-key needs --tls-cert (the PEM certificate of that key)"
                      : "--tls-cert needs --tls-key (the PEM private key of that certificate)");
  }
  if (max_body_bytes < 1024) {
    return Status(ErrorCode::kInvalidArgument, "--max-body-bytes must be at least 1024");
  }
  return Status::Ok();
}

}  // namespace quarry::server
