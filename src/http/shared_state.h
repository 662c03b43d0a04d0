#pragma once

// What the listener and every session of one http::Server share. Internal to http/.

#include <atomic>

#include "http/message.h"
#include "http/server.h"
#include "http/tls_context.h"
#include "http/websocket.h"

namespace quarry::http {

struct SharedState {
  ServerOptions options;
  Handler handler;
  UpgradeHandler upgrade;  // empty: upgrade requests go to `handler` as any request
  // The certificate served when options.tls() (loaded by Server::Listen, replaced by
  // Server::ReloadTls); empty otherwise.
  TlsContext tls;
  // Requests handed to `handler` whose answer is not written yet.
  std::atomic<int> in_flight{0};
};

}  // namespace quarry::http
