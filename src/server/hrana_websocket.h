#pragma once

// HranaWebSockets: Hrana over WebSocket for QuarryServer. Decides on upgrade requests (the
// same paths and namespace resolution as Hrana over HTTP: `/`, `/db/<name>/`, x-namespace,
// Host under the base domain; the loopback-origin rule of --no-auth), negotiates the
// subprotocol, and ties each accepted socket to a protocol::WsSession whose hello is checked as
// an HTTP request's token is (service tokens only; streams counted per token).
//
// Upgrade runs on an I/O thread and does not block; token checks and SQLite run on the
// executor. Thread-safe; must outlive every socket it accepted.

#include <memory>

#include "auth/token_cache.h"
#include "common/clock.h"
#include "http/websocket.h"
#include "protocol/hrana_service.h"
#include "protocol/ws_session.h"
#include "server/config.h"

namespace quarry::server {

class HranaWebSockets {
 public:
  HranaWebSockets(const ServerConfig& config, protocol::HranaService& hrana,
                  auth::TokenCache& tokens, protocol::WsExecutor executor, const Clock& clock);

  http::Upgrade Upgrade(const http::Request& request);

 private:
  // What the hello of a socket on namespace `ns` grants with `jwt`.
  Result<protocol::WsAdmission> Admit(const std::string& ns, const std::optional<std::string>& jwt);

  const ServerConfig& config_;
  protocol::HranaService& hrana_;
  auth::TokenCache& tokens_;
  const protocol::WsExecutor executor_;
  const Clock& clock_;
};

}  // namespace quarry::server
