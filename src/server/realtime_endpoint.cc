#include "server/realtime_endpoint.h"

#include <atomic>
#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>

namespace quarry::server {
namespace {

namespace json = boost::json;

// WebSocket close codes (RFC 6455 and the private range).
constexpr uint16_t kCloseGoingAway = 1001;
constexpr uint16_t kCloseUnsupported = 1003;
constexpr uint16_t kClosePolicy = 1008;

// A close reason fits a close frame (123 bytes), cut at a character boundary.
std::string CloseReason(std::string reason) {
  if (reason.size() <= 123) {
    return reason;
  }
  size_t cut = 120;
  while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  reason.resize(cut);
  return reason + "...";
}

// Ends a connection whose token expired, unless a later hello renewed it.
class Expiry {
 public:
  void Set(std::optional<int64_t> expires_at) { expires_at_.store(expires_at.value_or(0)); }
  bool Passed() const {
    int64_t at = expires_at_.load();
    return at != 0 && NowUnix() >= at;
  }

 private:
  std::atomic<int64_t> expires_at_{0};
};

constexpr const char* kExpired =
    "the token expired; send a hello with a fresh token before it does";

class WebSocketOutbox : public realtime::Outbox {
 public:
  WebSocketOutbox(http::WebSocketChannel channel, std::shared_ptr<Expiry> expiry)
      : channel_(std::move(channel)), expiry_(std::move(expiry)) {}
  void Send(std::string_view, uint64_t, std::string message) override {
    if (expiry_->Passed()) {
      channel_.Close(kClosePolicy, kExpired);
      return;
    }
    channel_.Send(std::move(message), false);
  }
  size_t QueuedBytes() const override { return channel_.QueuedBytes(); }
  void Close(std::string reason) override {
    channel_.Close(kCloseGoingAway, CloseReason(std::move(reason)));
  }
  // A quiet socket's token expires too: closed within a second, not at its next event.
  void Heartbeat() override {
    if (expiry_->Passed()) {
      channel_.Close(kClosePolicy, kExpired);
    }
  }

 private:
  http::WebSocketChannel channel_;
  std::shared_ptr<Expiry> expiry_;
};

// One realtime WebSocket: hello (or the upgrade's Authorization header) first, then subscribe
// and unsubscribe, handed to the hub. A hello whose token needs verifying pauses reading until
// it is verified, so messages are handled in order.
class RealtimeSocket : public http::WebSocketHandler,
                       public std::enable_shared_from_this<RealtimeSocket> {
 public:
  RealtimeSocket(const ServerConfig& config, realtime::Hub& hub, auth::TokenCache& tokens,
                 protocol::WsExecutor executor, std::string ns, http::WebSocketChannel channel)
      : config_(config),
        hub_(hub),
        tokens_(tokens),
        executor_(std::move(executor)),
        ns_(std::move(ns)),
        channel_(std::move(channel)),
        expiry_(std::make_shared<Expiry>()) {}

  // Claims known at the upgrade (--no-auth, or a header token verified before). Answered with
  // a hello_ok, as a header token verified after the upgrade is: the client's first message
  // is the same either way.
  void Admit(const auth::Claims& claims) {
    std::lock_guard lock(mutex_);
    ApplyLocked(claims, /*answer=*/true);
  }
  // --no-auth: nothing to say.
  void AdmitSilently(const auth::Claims& claims) {
    std::lock_guard lock(mutex_);
    ApplyLocked(claims, /*answer=*/false);
  }
  // A header token to verify before anything else is read (the hello_ok that follows also
  // resumes reading).
  void VerifyFirst(std::string jwt) { Verify(std::move(jwt), /*answer=*/true); }

  void OnMessage(std::string message, bool binary) override {
    if (binary) {
      channel_.Close(kCloseUnsupported, "quarry-realtime-v1 messages are JSON text frames");
      return;
    }
    auto parsed = realtime::ParseClientMessage(message);
    if (!parsed.ok()) {
      channel_.Send(realtime::ErrorMessage(std::nullopt, parsed.status()), false);
      return;
    }
    switch (parsed->type) {
      case realtime::ClientMessage::Type::kHello:
        Verify(std::move(parsed->token), /*answer=*/true);
        return;
      case realtime::ClientMessage::Type::kSubscribe:
      case realtime::ClientMessage::Type::kUnsubscribe: {
        std::optional<uint64_t> connection;
        {
          std::lock_guard lock(mutex_);
          connection = connection_;
        }
        if (!connection) {
          channel_.Send(
              realtime::ErrorMessage(
                  parsed->subscribe.id,
                  Status(ErrorCode::kUnauthorized,
                         "send {\"type\":\"hello\",\"token\":\"<token>\"} (or the Authorization "
                         "header with the upgrade) before subscribing")),
              false);
          return;
        }
        if (expiry_->Passed()) {
          channel_.Close(kClosePolicy, kExpired);
          return;
        }
        if (parsed->type == realtime::ClientMessage::Type::kSubscribe) {
          hub_.Subscribe(*connection, std::move(parsed->subscribe));
        } else {
          hub_.Unsubscribe(*connection, std::move(parsed->subscribe.id));
        }
        return;
      }
    }
  }

  bool ReadyForMore() override {
    std::lock_guard lock(mutex_);
    return !verifying_;
  }

  void OnClose() override {
    std::lock_guard lock(mutex_);
    closed_ = true;
    if (connection_) {
      hub_.Disconnect(*connection_);
    }
  }

 private:
  void Verify(std::string jwt, bool answer) {
    if (config_.no_auth) {
      auth::Claims claims;
      claims.access = auth::Access::kAdmin;
      claims.all_namespaces = true;
      std::lock_guard lock(mutex_);
      ApplyLocked(claims, answer);
      return;
    }
    if (auto cached = tokens_.VerifyCached(jwt, NowUnix())) {
      std::lock_guard lock(mutex_);
      Decide(*cached, answer);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      verifying_ = true;
    }
    executor_([self = shared_from_this(), jwt = std::move(jwt), answer] {
      Result<auth::Claims> claims = self->tokens_.Verify(jwt, NowUnix());
      std::lock_guard lock(self->mutex_);
      self->verifying_ = false;
      self->Decide(claims, answer);
    });
  }

  void Decide(const Result<auth::Claims>& claims, bool answer) {
    if (!claims.ok()) {
      Refuse(claims.status());
      return;
    }
    ApplyLocked(*claims, answer);
  }

  void Refuse(const Status& status) {
    channel_.Send(realtime::ErrorMessage(std::nullopt, status), false);
    channel_.Close(kClosePolicy, CloseReason(status.message()));
  }

  void ApplyLocked(const auth::Claims& claims, bool answer) {
    if (closed_) {
      return;
    }
    auto identity = RealtimeIdentity(claims, ns_);
    if (!identity.ok()) {
      Refuse(identity.status());
      return;
    }
    expiry_->Set(claims.expires_at);
    if (connection_) {
      hub_.SetIdentity(*connection_, std::move(*identity));
    } else {
      connection_ = hub_.Connect(ns_, std::move(*identity),
                                 std::make_shared<WebSocketOutbox>(channel_, expiry_));
    }
    if (answer) {
      json::object hello_ok{{"type", "hello_ok"}};
      if (claims.expires_at) {
        hello_ok["expires"] = *claims.expires_at;
      } else {
        hello_ok["expires"] = nullptr;
      }
      channel_.Send(json::serialize(hello_ok), false);  // also resumes a paused read
    }
  }

  const ServerConfig& config_;
  realtime::Hub& hub_;
  auth::TokenCache& tokens_;
  const protocol::WsExecutor executor_;
  const std::string ns_;
  http::WebSocketChannel channel_;
  std::shared_ptr<Expiry> expiry_;
  std::mutex mutex_;
  std::optional<uint64_t> connection_;  // GUARDED_BY(mutex_): the hub's, once admitted
  bool verifying_ = false;              // GUARDED_BY(mutex_)
  bool closed_ = false;                 // GUARDED_BY(mutex_)
};

// Server-Sent Events: each hub message as an event of its type; changes (and the subscribed
// and reset positions) carry their sequence number as the event id.
class EventStreamOutbox : public realtime::Outbox {
 public:
  EventStreamOutbox(std::shared_ptr<http::BodyWriter> body, std::optional<int64_t> expires_at)
      : body_(std::move(body)), expires_at_(expires_at.value_or(0)) {}
  void Send(std::string_view type, uint64_t seq, std::string message) override {
    if (EndIfExpired()) {
      return;
    }
    std::string event;
    event.reserve(message.size() + 48);
    if (seq != 0 || type == "subscribed") {
      event += "id: " + std::to_string(seq) + "\n";
    }
    event += "event: ";
    event += type;
    event += "\ndata: ";
    event += message;  // JSON text holds no newline
    event += "\n\n";
    body_->Write(std::move(event));
    if (type == "reset") {
      // The subscription is over; an EventSource reconnects with Last-Event-ID, which resumes
      // it (or is answered 410 when that is past the log's retention).
      body_->End();
    }
  }
  size_t QueuedBytes() const override { return body_->QueuedBytes(); }
  void Heartbeat() override { EndIfExpired(); }
  void Close(std::string reason) override {
    body_->Write("event: error\ndata: " +
                 realtime::ErrorMessage(std::nullopt,
                                        Status(ErrorCode::kNamespaceNotFound, std::move(reason))) +
                 "\n\n");
    body_->End();
  }

 private:
  // An error event and the end of the response once the token expired (the token parameter
  // cannot be renewed: the EventSource reconnects with a fresh URL, or gives up).
  bool EndIfExpired() {
    if (expires_at_ == 0 || NowUnix() < expires_at_) {
      return false;
    }
    if (!ended_.exchange(true)) {
      body_->Write("event: error\ndata: " +
                   realtime::ErrorMessage(std::nullopt,
                                          Status(ErrorCode::kUnauthorized, "the token expired")) +
                   "\n\n");
      body_->End();
    }
    return true;
  }

  std::shared_ptr<http::BodyWriter> body_;
  const int64_t expires_at_;
  std::atomic<bool> ended_{false};
};

// The query's parameters, %XX and '+' decoded (Boost.URL); each name at most once. Bytes RFC
// 3986 wants escaped but browsers send as they are (an EventSource's `where={"a":1}` keeps
// its braces) are escaped first; a malformed %-escape is refused. The message does not quote
// the query: it may hold the token.
Result<std::map<std::string, std::string>> QueryParams(std::string_view raw) {
  static constexpr auto kKept = boost::urls::pchars + '/' + '?' + '%';
  const std::string query = boost::urls::encode(raw, kKept);
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) {
    return Status(ErrorCode::kInvalidArgument, "malformed query string (" +
                                                   parsed.error().message() +
                                                   "): a % must start an escape of two hex digits");
  }
  boost::urls::encoding_opts decoding;
  decoding.space_as_plus = true;
  std::map<std::string, std::string> params;
  for (const boost::urls::param& param : boost::urls::params_view(query, decoding)) {
    if (param.key.empty() && !param.has_value) {
      continue;  // "a=1&&b=2"
    }
    if (!params.emplace(param.key, param.value).second) {
      return Status(ErrorCode::kInvalidArgument,
                    "query parameter '" + param.key + "' is given twice")
          .WithPath(param.key);
    }
  }
  return params;
}

}  // namespace

Result<query::Identity> RealtimeIdentity(const auth::Claims& claims, const std::string& ns) {
  if (!claims.Covers(ns)) {
    return Status(ErrorCode::kForbidden,
                  "the token does not grant access to namespace '" + ns + "'");
  }
  if (claims.user) {
    return query::Identity::User(*claims.user);
  }
  return query::Identity::Service(claims.CanWrite());
}

RealtimeEndpoint::RealtimeEndpoint(const ServerConfig& config, realtime::Hub& hub,
                                   auth::TokenCache& tokens, protocol::WsExecutor executor)
    : config_(config), hub_(hub), tokens_(tokens), executor_(std::move(executor)) {}

http::Upgrade RealtimeEndpoint::Upgrade(const http::Request& request, const Route& route) {
  http::Upgrade upgrade;
  bool asked = false;
  if (auto offered = request.Header("sec-websocket-protocol")) {
    std::string_view list = *offered;
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      while (!item.empty() && item.front() == ' ') {
        item.remove_prefix(1);
      }
      while (!item.empty() && item.back() == ' ') {
        item.remove_suffix(1);
      }
      asked = asked || item == kSubprotocol;
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  if (!asked) {
    upgrade.refusal = ErrorResponse(
        Status(ErrorCode::kInvalidArgument,
               "the realtime WebSocket speaks the subprotocol quarry-realtime-v1: ask for it in "
               "Sec-WebSocket-Protocol (new WebSocket(url, \"quarry-realtime-v1\"))"));
    return upgrade;
  }
  // A token in the Authorization header is checked now when that needs no verification (a
  // refused one is a 401 before the upgrade), else verified first thing after it.
  std::optional<Result<auth::Claims>> known;
  std::optional<std::string> to_verify;
  if (config_.no_auth) {
    known = Authenticate(request, config_, tokens_);
  } else if (request.Header("authorization")) {
    known = AuthenticateCached(request, config_, tokens_);
    if (!known) {
      std::string_view header = *request.Header("authorization");
      to_verify = std::string(header.substr(header.find(' ') + 1));
    }
  }
  if (known && !known->ok()) {
    upgrade.refusal = ErrorResponse(known->status());
    return upgrade;
  }
  if (known) {
    auto identity = RealtimeIdentity(**known, route.ns);
    if (!identity.ok()) {
      upgrade.refusal = ErrorResponse(identity.status());
      return upgrade;
    }
  }
  upgrade.subprotocol = std::string(kSubprotocol);
  upgrade.accept = [this, ns = route.ns, known = std::move(known),
                    to_verify = std::move(to_verify)](
                       http::WebSocketChannel channel) -> std::shared_ptr<http::WebSocketHandler> {
    auto socket =
        std::make_shared<RealtimeSocket>(config_, hub_, tokens_, executor_, ns, std::move(channel));
    if (known && !config_.no_auth) {
      socket->Admit(**known);
    } else if (known) {
      socket->AdmitSilently(**known);
    } else if (to_verify) {
      socket->VerifyFirst(*to_verify);
    }
    return socket;
  };
  return upgrade;
}

void RealtimeEndpoint::ServeEvents(const http::Request& request, const Route& route,
                                   const http::Responder& respond) {
  auto fail = [&](const Status& status) { respond(ErrorResponse(status)); };
  auto params = QueryParams(request.query);
  if (!params.ok()) {
    return fail(params.status());
  }
  for (const auto& [key, value] : *params) {
    if (key != "model" && key != "where" && key != "select" && key != "since" && key != "token") {
      return fail(
          Status(ErrorCode::kInvalidArgument, "unknown query parameter '" + key +
                                                  "' (expected model, where, select, since, token)")
              .WithPath(key));
    }
  }
  // The token: the Authorization header, or (for an EventSource, which cannot set headers)
  // the token parameter.
  Result<auth::Claims> claims = Status(ErrorCode::kInternal, "unset");
  if (auto token = params->find("token"); token != params->end() && !config_.no_auth) {
    claims = tokens_.Verify(token->second, NowUnix());
  } else {
    claims = Authenticate(request, config_, tokens_);
  }
  if (!claims.ok()) {
    return fail(claims.status());
  }
  auto identity = RealtimeIdentity(*claims, route.ns);
  if (!identity.ok()) {
    return fail(identity.status());
  }
  // The subscription, in the WebSocket's subscribe message's terms.
  json::object message{{"type", "subscribe"}, {"id", "sse"}};
  if (auto model = params->find("model"); model != params->end()) {
    message["model"] = model->second;
  }
  for (const char* key : {"where", "select"}) {
    if (auto found = params->find(key); found != params->end()) {
      boost::system::error_code ec;
      json::value parsed = json::parse(found->second, ec);
      if (ec) {
        return fail(Status(ErrorCode::kInvalidArgument, std::string(key) + ": not JSON (" +
                                                            ec.message() + "); pass it URL-encoded")
                        .WithPath(key));
      }
      message[key] = std::move(parsed);
    }
  }
  // Last-Event-ID (an EventSource reconnecting) wins over since: it is newer.
  std::optional<std::string> since;
  if (auto last = request.Header("last-event-id"); last && !last->empty()) {
    since = std::string(*last);
  } else if (auto given = params->find("since"); given != params->end()) {
    since = given->second;
  }
  if (since) {
    char* end = nullptr;
    unsigned long long value = std::strtoull(since->c_str(), &end, 10);
    if (since->empty() || *end != '\0' || (*since)[0] == '-') {
      return fail(Status(ErrorCode::kInvalidArgument,
                         "since (or Last-Event-ID): expected a sequence number, not '" +
                             since->substr(0, 40) + "'")
                      .WithPath("since"));
    }
    message["since"] = static_cast<uint64_t>(value);
  }
  auto parsed = realtime::ParseClientMessage(json::serialize(message));
  if (!parsed.ok()) {
    return fail(parsed.status());
  }
  realtime::SubscribeRequest subscribe = std::move(parsed->subscribe);
  // An unknown model, a bad where, a field the token may not filter on: the status line says
  // so (an EventSource stops on it rather than reconnecting to the same error).
  if (Status checked = hub_.Check(route.ns, *identity, subscribe); !checked.ok()) {
    return fail(checked);
  }
  // A resume past the log's retention is answered here, not as an event: an EventSource
  // would otherwise reconnect to the same reset for ever.
  if (subscribe.since) {
    auto range = hub_.Range(route.ns);
    if (!range.ok()) {
      return fail(range.status());
    }
    if (*subscribe.since + 1 < range->first || *subscribe.since > range->last) {
      return fail(Status(ErrorCode::kChangesGone,
                         "changes after " + std::to_string(*subscribe.since) +
                             " cannot be replayed: the change log keeps " +
                             std::to_string(range->first) + ".." + std::to_string(range->last) +
                             "; reload and subscribe without since"));
    }
  }
  http::Response response;
  response.content_type = "text/event-stream";
  response.stream = [this, ns = route.ns, identity = std::move(*identity),
                     expires_at = claims->expires_at, subscribe = std::move(subscribe)](
                        std::shared_ptr<http::BodyWriter> body) mutable -> std::function<void()> {
    uint64_t connection = hub_.Connect(
        ns, std::move(identity), std::make_shared<EventStreamOutbox>(std::move(body), expires_at));
    hub_.Subscribe(connection, std::move(subscribe));
    return [hub = &hub_, connection] { hub->Disconnect(connection); };
  };
  respond(std::move(response));
}

}  // namespace quarry::server
