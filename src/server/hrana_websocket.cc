#include "server/hrana_websocket.h"

#include <chrono>
#include <functional>

#include "server/routes.h"

namespace quarry::server {
namespace {

// Hands a WsSession's frames to the socket.
class ChannelOutput : public protocol::WsOutput {
 public:
  explicit ChannelOutput(http::WebSocketChannel channel) : channel_(std::move(channel)) {}
  void Send(std::string frame, bool binary) override { channel_.Send(std::move(frame), binary); }
  void Close(protocol::WsCloseCode code, std::string reason) override {
    channel_.Close(static_cast<uint16_t>(code), std::move(reason));
  }

 private:
  http::WebSocketChannel channel_;
};

// One socket's messages, into its session.
class HranaSocket : public http::WebSocketHandler {
 public:
  explicit HranaSocket(std::shared_ptr<protocol::WsSession> session)
      : session_(std::move(session)) {}
  void OnMessage(std::string message, bool binary) override { session_->OnFrame(message, binary); }
  bool ReadyForMore() override { return session_->ReadyForMore(); }
  void OnClose() override { session_->Shutdown(); }

 private:
  std::shared_ptr<protocol::WsSession> session_;
};

http::Upgrade Refuse(const Status& status) {
  http::Upgrade upgrade;
  upgrade.refusal = ErrorResponse(status);
  return upgrade;
}

}  // namespace

HranaWebSockets::HranaWebSockets(const ServerConfig& config, protocol::HranaService& hrana,
                                 auth::TokenCache& tokens, protocol::WsExecutor executor,
                                 const Clock& clock)
    : config_(config),
      hrana_(hrana),
      tokens_(tokens),
      executor_(std::move(executor)),
      clock_(clock) {}

http::Upgrade HranaWebSockets::Upgrade(const http::Request& request) {
  if (Status origin = CheckNoAuthOrigin(request, config_); !origin.ok()) {
    return Refuse(origin);
  }
  Result<Route> route = ResolveRoute(request, config_);
  if (!route.ok()) {
    return Refuse(route.status());
  }
  if (route->path != "/") {
    return Refuse(
        Status(ErrorCode::kNotFound, "no WebSocket endpoint at " + request.path.substr(0, 200) +
                                         ": Hrana over WebSocket is served at / and /db/<name>/"));
  }
  Result<protocol::WsSubprotocol> subprotocol =
      protocol::NegotiateWsSubprotocol(request.Header("sec-websocket-protocol"));
  if (!subprotocol.ok()) {
    return Refuse(subprotocol.status());
  }
  http::Upgrade upgrade;
  upgrade.subprotocol = subprotocol->name;
  upgrade.accept = [this, ns = route->ns, subprotocol = *subprotocol](
                       http::WebSocketChannel channel) -> std::shared_ptr<http::WebSocketHandler> {
    protocol::WsLimits limits;
    limits.max_outstanding_requests = config_.ws_max_outstanding_requests;
    limits.inline_read_budget = config_.inline_read_budget;
    auto session = std::make_shared<protocol::WsSession>(
        subprotocol, protocol::MakeWsCodec(subprotocol.encoding), hrana_,
        [this, ns](const std::optional<std::string>& jwt) { return Admit(ns, jwt); }, executor_,
        std::make_shared<ChannelOutput>(std::move(channel)), clock_, limits);
    return std::make_shared<HranaSocket>(std::move(session));
  };
  return upgrade;
}

Result<protocol::WsAdmission> HranaWebSockets::Admit(const std::string& ns,
                                                     const std::optional<std::string>& jwt) {
  auth::Claims claims;
  protocol::WsAdmission admission;
  if (config_.no_auth) {
    claims.access = auth::Access::kAdmin;
    claims.all_namespaces = true;
    admission.owner.token_id = "no-auth";
  } else {
    if (!jwt || jwt->empty()) {
      return Status(ErrorCode::kUnauthorized,
                    "hello carried no token; send {\"type\":\"hello\",\"jwt\":\"<token>\"}");
    }
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    QUARRY_ASSIGN_OR_RETURN(claims, tokens_.Verify(*jwt, now));
    // The digest HTTP uses for "Bearer <token>": one token's streams are counted together
    // whichever transport opened them.
    admission.owner.token_id = std::to_string(std::hash<std::string_view>()("Bearer " + *jwt));
    admission.expires_at = claims.expires_at;
  }
  QUARRY_RETURN_IF_ERROR(
      RequireServiceToken(claims, "raw SQL needs a service token (ro, rw or admin)"));
  if (!claims.Covers(ns)) {
    return Status(ErrorCode::kForbidden,
                  "the token does not grant access to namespace '" + ns + "'");
  }
  admission.owner.ns = ns;
  admission.owner.access =
      claims.CanWrite() ? auth::SqlAccess::kReadWrite : auth::SqlAccess::kReadOnly;
  return admission;
}

}  // namespace quarry::server
