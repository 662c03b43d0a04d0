#pragma once

// RealtimeEndpoint: the doors of realtime::Hub (docs/realtime.md).
//
//   WebSocket  GET /db/<ns>/v1/realtime, subprotocol quarry-realtime-v1, JSON messages:
//              hello {token} (or the Authorization header), subscribe, unsubscribe.
//   SSE        GET /db/<ns>/v1/changes?model=&where=&select=&since=&token=  (text/event-stream,
//              each event's id its sequence number, so Last-Event-ID resumes).
//
// Any token the data API takes is taken here: service tokens (policies bypassed, and tables
// without a recorded schema by name) and user tokens (the schema's read policies and field
// rules). A token that expires ends the connection unless a later hello renewed it.
// Upgrade and ServeEvents run on an I/O thread and do not block; token checks that may block
// run on the executor. Thread-safe; must outlive every connection it accepted.

#include <memory>

#include "auth/token_cache.h"
#include "http/message.h"
#include "http/websocket.h"
#include "protocol/ws_session.h"
#include "realtime/hub.h"
#include "server/config.h"
#include "server/routes.h"

namespace quarry::server {

class RealtimeEndpoint {
 public:
  RealtimeEndpoint(const ServerConfig& config, realtime::Hub& hub, auth::TokenCache& tokens,
                   protocol::WsExecutor executor);

  static constexpr std::string_view kWebSocketPath = "/v1/realtime";
  static constexpr std::string_view kEventsPath = "/v1/changes";
  static constexpr std::string_view kSubprotocol = "quarry-realtime-v1";

  http::Upgrade Upgrade(const http::Request& request, const Route& route);
  // Answers a GET of kEventsPath: an event stream, or an error.
  void ServeEvents(const http::Request& request, const Route& route,
                   const http::Responder& respond);

 private:
  const ServerConfig& config_;
  realtime::Hub& hub_;
  auth::TokenCache& tokens_;
  const protocol::WsExecutor executor_;
};

// The identity a token's claims give a realtime subscriber; kForbidden when they do not reach
// `ns`.
Result<query::Identity> RealtimeIdentity(const auth::Claims& claims, const std::string& ns);

}  // namespace quarry::server
