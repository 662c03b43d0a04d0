#include "client/realtime_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <optional>
#include <thread>

#include "client/data_client.h"
#include "client/tls.h"
#include "client/transport.h"
#include "client/url.h"

namespace quarry::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr uint16_t kClosePolicy = 1008;

struct RealtimeConnection::Impl {
  std::string origin;
  asio::io_context ioc;
  std::shared_ptr<asio::ssl::context> tls_context;  // wss only
  // The WebSocket: `plain`, or `secure` over TLS; exactly one is set.
  std::optional<websocket::stream<beast::tcp_stream>> plain;
  std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> secure;
  beast::flat_buffer buffer;
  bool reading = false;    // an async_read is outstanding
  bool read_done = false;  // ... and has completed into `buffer` / `read_error`
  beast::error_code read_error;

  // Calls `f` with the WebSocket, plain or TLS.
  template <class F>
  decltype(auto) WithWs(F&& f) {
    return secure ? f(*secure) : f(*plain);
  }
  beast::tcp_stream& Tcp() {
    return secure ? beast::get_lowest_layer(*secure) : beast::get_lowest_layer(*plain);
  }

  // Runs handlers until `done` or the deadline; false when the deadline came first.
  bool RunUntil(const bool& done, Clock::time_point deadline) {
    while (!done) {
      if (ioc.stopped()) {
        ioc.restart();
      }
      if (ioc.run_one_until(deadline) == 0 && Clock::now() >= deadline) {
        return done;
      }
    }
    return true;
  }

  Status Closed() {
    const websocket::close_reason& reason =
        WithWs([](auto& ws) -> const websocket::close_reason& { return ws.reason(); });
    std::string why = read_error == websocket::error::closed
                          ? "closed the connection (" + std::to_string(reason.code) +
                                (reason.reason.empty() ? ""
                                                       : ": " + std::string(reason.reason.data(),
                                                                            reason.reason.size())) +
                                ")"
                          : "dropped the connection (" + read_error.message() + ")";
    ErrorCode code = read_error == websocket::error::closed && reason.code == kClosePolicy
                         ? ErrorCode::kUnauthorized
                         : ErrorCode::kUnavailable;
    return Status(code, origin + " " + why);
  }
};

RealtimeConnection::RealtimeConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RealtimeConnection::~RealtimeConnection() {
  if (!impl_->WithWs([](auto& ws) { return ws.is_open(); })) {
    return;
  }
  // A close handshake, bounded: the server then ends the subscriptions at once.
  bool done = false;
  impl_->WithWs([&](auto& ws) {
    ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  });
  impl_->RunUntil(done, Clock::now() + std::chrono::seconds(1));
}

const std::string& RealtimeConnection::origin() const { return impl_->origin; }

Result<std::unique_ptr<RealtimeConnection>> RealtimeConnection::Open(
    const std::string& url, const std::string& ns, const RealtimeOptions& options) {
  QUARRY_ASSIGN_OR_RETURN(ServerNamespace server, ParseServerNamespace(url, ns, "realtime"));
  const ClientUrl& parsed = server.url;
  const std::string& name = server.ns;
  auto impl = std::make_unique<Impl>();
  impl->origin = parsed.Origin();
  const std::string& origin = impl->origin;

  beast::error_code ec;
  bool done = false;
  tcp::resolver resolver(impl->ioc);
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(parsed.host, std::to_string(parsed.port),
                         [&](beast::error_code e, tcp::resolver::results_type r) {
                           ec = e;
                           endpoints = std::move(r);
                           done = true;
                         });
  impl->RunUntil(done, Clock::time_point::max());
  if (ec) {
    return Status(ErrorCode::kUnavailable,
                  "cannot resolve host '" + parsed.host + "' of " + origin + ": " + ec.message());
  }

  if (parsed.tls) {
    QUARRY_ASSIGN_OR_RETURN(impl->tls_context, tls::MakeClientContext(options.ca_file));
    impl->secure.emplace(impl->ioc, *impl->tls_context);
  } else {
    impl->plain.emplace(impl->ioc);
  }
  auto& tcp_stream = impl->Tcp();
  done = false;
  tcp_stream.expires_after(options.connect_timeout);
  tcp_stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  impl->RunUntil(done, Clock::time_point::max());
  if (ec) {
    std::string why =
        ec == beast::error::timeout
            ? "timed out after " + std::to_string(options.connect_timeout.count()) + " ms"
            : ec.message();
    return Status(ErrorCode::kUnavailable,
                  "cannot connect to " + origin + ": " + why + " — is `quarry serve` running?");
  }
  if (impl->secure) {
    SSL* ssl = impl->secure->next_layer().native_handle();
    QUARRY_RETURN_IF_ERROR(tls::PrepareConnection(ssl, parsed.host));
    done = false;
    impl->secure->next_layer().async_handshake(asio::ssl::stream_base::client,
                                               [&](beast::error_code e) {
                                                 ec = e;
                                                 done = true;
                                               });
    impl->RunUntil(done, Clock::time_point::max());
    if (ec) {
      return Status(ErrorCode::kUnavailable,
                    ec == beast::error::timeout
                        ? "the TLS handshake with " + origin + " timed out after " +
                              std::to_string(options.connect_timeout.count()) + " ms"
                        : tls::HandshakeFailure(ec, ssl, origin));
    }
  }
  // From here the WebSocket's own timeouts apply (Beast's advice: not both).
  tcp_stream.expires_never();
  websocket::response_type response;
  std::string host = origin.substr(origin.find("://") + 3);
  std::string target = "/db/" + name + "/v1/realtime";
  done = false;
  impl->WithWs([&](auto& ws) {
    ws.set_option(websocket::stream_base::timeout{
        .handshake_timeout = options.connect_timeout,
        .idle_timeout = options.idle_timeout,
        .keep_alive_pings = true,
    });
    ws.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
      request.set(beast::http::field::sec_websocket_protocol, kRealtimeSubprotocol);
      request.set(beast::http::field::user_agent, "quarry-client");
    }));
    ws.read_message_max(64 << 20);
    ws.async_handshake(response, host, target, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
  });
  impl->RunUntil(done, Clock::time_point::max());
  if (ec == websocket::error::upgrade_declined) {
    return StatusFromDataError(response.result_int(), response.body(), origin);
  }
  if (ec) {
    return Status(ErrorCode::kUnavailable,
                  "WebSocket handshake with " + origin + target + " failed: " + ec.message());
  }
  return std::unique_ptr<RealtimeConnection>(new RealtimeConnection(std::move(impl)));
}

Status RealtimeConnection::Send(const json::object& message) {
  std::string text = json::serialize(message);
  beast::error_code ec;
  bool done = false;
  impl_->WithWs([&](auto& ws) {
    ws.text(true);
    ws.async_write(asio::buffer(text), [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
  });
  // The idle timeout bounds a write the server never takes.
  impl_->RunUntil(done, Clock::time_point::max());
  if (ec) {
    return Status(ErrorCode::kUnavailable, "cannot send to " + impl_->origin + ": " + ec.message());
  }
  return Status::Ok();
}

Status RealtimeConnection::Hello(std::string_view token) {
  return Send({{"type", "hello"}, {"token", token}});
}

Status RealtimeConnection::Subscribe(const SubscribeRequest& request) {
  json::object message{{"type", "subscribe"}, {"id", request.id}, {"model", request.model}};
  if (!request.where.is_null()) {
    message["where"] = request.where;
  }
  if (!request.select.is_null()) {
    message["select"] = request.select;
  }
  if (request.since) {
    message["since"] = *request.since;
  }
  return Send(message);
}

Status RealtimeConnection::Unsubscribe(std::string_view id) {
  return Send({{"type", "unsubscribe"}, {"id", id}});
}

Result<std::optional<json::object>> RealtimeConnection::Read(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  if (!impl.reading && !impl.read_done) {
    impl.reading = true;
    impl.buffer.clear();
    impl.WithWs([&impl](auto& ws) {
      ws.async_read(impl.buffer, [&impl](beast::error_code e, size_t) {
        impl.read_error = e;
        impl.reading = false;
        impl.read_done = true;
      });
    });
  }
  if (!impl.RunUntil(impl.read_done, Clock::now() + timeout)) {
    return std::optional<json::object>();
  }
  if (impl.read_error) {
    return impl.Closed();  // read_done stays set: every later Read answers the same
  }
  impl.read_done = false;
  json::error_code ec;
  json::value message = json::parse(beast::buffers_to_string(impl.buffer.data()), ec);
  if (ec || !message.is_object() || !message.as_object().if_contains("type")) {
    return Status(ErrorCode::kInternal,
                  impl.origin + " sent a realtime message that is not a JSON object with a type");
  }
  return std::optional<json::object>(std::move(message.as_object()));
}

Status StatusFromRealtimeError(const json::object& message) {
  const json::value* error = message.if_contains("error");
  if (error == nullptr || !error->is_object()) {
    return Status(ErrorCode::kInternal, "an error message without its error object");
  }
  return StatusFromErrorObject(error->as_object());
}

namespace {

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<uint64_t> SeqOf(const json::object& message) {
  const json::value* seq = message.if_contains("seq");
  if (seq == nullptr) {
    return std::nullopt;
  }
  if (seq->is_uint64()) {
    return seq->as_uint64();
  }
  if (seq->is_int64() && seq->as_int64() >= 0) {
    return static_cast<uint64_t>(seq->as_int64());
  }
  return std::nullopt;
}

std::string TextOf(const json::object& message, std::string_view key) {
  const json::value* value = message.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

// One connection's life in a Watch: its hello, the subscription, its messages.
class WatchSession {
 public:
  WatchSession(const TokenSource& token, const WatchHandlers& handlers, const WatchOptions& options)
      : token_(token), handlers_(handlers), options_(options) {}

  // Why the session ended: OK when the watch should end (a handler said so, or stop), a
  // kUnavailable connection loss to retry after, or the error that ends the watch.
  Status Run(RealtimeConnection& connection, SubscribeRequest& request, bool& subscribed) {
    QUARRY_ASSIGN_OR_RETURN(std::string token, token_());
    current_token_ = token;
    if (!token.empty()) {
      QUARRY_RETURN_IF_ERROR(connection.Hello(token));
    }
    QUARRY_RETURN_IF_ERROR(connection.Subscribe(request));
    std::vector<json::object> pending;  // the changes of a transaction not yet whole
    while (options_.stop == nullptr || !options_.stop->load()) {
      QUARRY_RETURN_IF_ERROR(MaybeRenew(connection));
      QUARRY_ASSIGN_OR_RETURN(std::optional<json::object> message,
                              connection.Read(std::chrono::milliseconds(100)));
      if (!message) {
        continue;
      }
      std::string type = TextOf(*message, "type");
      std::optional<uint64_t> seq = SeqOf(*message);
      if (type == "hello_ok") {
        const json::value* expires = message->if_contains("expires");
        expires_at_ = expires != nullptr && expires->is_int64()
                          ? std::optional<int64_t>(expires->as_int64())
                          : std::nullopt;
        renew_from_ = expires_at_ ? std::optional<int64_t>(RenewFrom(*expires_at_)) : std::nullopt;
      } else if (type == "subscribed" && seq) {
        subscribed = true;
        request.since = *seq;
        if (handlers_.on_subscribed) {
          handlers_.on_subscribed(*seq);
        }
      } else if (type == "change" && seq) {
        bool last = message->if_contains("last") != nullptr && message->at("last") == true;
        pending.push_back(std::move(*message));
        if (last) {
          request.since = *seq;
          handed_over_ = true;
          bool go_on = !handlers_.on_transaction || handlers_.on_transaction(*seq, pending);
          pending.clear();
          if (!go_on) {
            return Status::Ok();
          }
        }
      } else if (type == "progress" && seq && pending.empty()) {
        request.since = std::max(request.since.value_or(0), *seq);
      } else if (type == "reset") {
        std::string why = "the subscription was reset after sequence " +
                          std::to_string(seq.value_or(request.since.value_or(0))) + ": " +
                          TextOf(*message, "reason");
        std::string code = TextOf(*message, "code");
        if (!seq || (code != "TOO_SLOW" && code != "SCHEMA_CHANGED" && code != "UNAVAILABLE")) {
          return Status(ErrorCode::kChangesGone, why);  // CHANGES_GONE, or a server without codes
        }
        pending.clear();
        request.since = *seq;
        if (code == "UNAVAILABLE") {
          return Status(ErrorCode::kUnavailable, why);  // again after the reconnect's wait
        }
        // Too slow (it has drained), or a new schema: resumed where it says, at once.
        if (handlers_.on_disconnect) {
          handlers_.on_disconnect(Status(ErrorCode::kUnavailable, why),
                                  std::chrono::milliseconds(0));
        }
        QUARRY_RETURN_IF_ERROR(connection.Subscribe(request));
      } else if (type == "error") {
        return StatusFromRealtimeError(*message);
      }
    }
    return Status::Ok();
  }

 public:
  // Whether a transaction was handed over on this connection.
  bool handed_over() const { return handed_over_; }

 private:
  // Renews once two thirds of the time the token had left when it was taken have passed.
  static int64_t RenewFrom(int64_t expires_at) {
    int64_t now = NowUnix();
    return now + (expires_at - now) * 2 / 3;
  }

  Status MaybeRenew(RealtimeConnection& connection) {
    int64_t now = NowUnix();
    if (!renew_from_ || now < *renew_from_) {
      return Status::Ok();
    }
    QUARRY_ASSIGN_OR_RETURN(std::string token, token_());
    if (token.empty() || token == current_token_) {
      // Nothing newer yet: ask again in a second; once it expired the server ends the socket.
      renew_from_ =
          now + 1 < expires_at_.value_or(0) ? std::optional<int64_t>(now + 1) : std::nullopt;
      return Status::Ok();
    }
    renew_from_.reset();  // the hello_ok sets the next point
    current_token_ = token;
    return connection.Hello(token);
  }

  const TokenSource& token_;
  const WatchHandlers& handlers_;
  const WatchOptions& options_;
  bool handed_over_ = false;
  std::string current_token_;
  std::optional<int64_t> expires_at_;
  std::optional<int64_t> renew_from_;
};

// Sleeps `delay`, or less when stop is set; false when it was.
bool SleepUnlessStopped(std::chrono::milliseconds delay, const std::atomic<bool>* stop) {
  Clock::time_point until = Clock::now() + delay;
  while (Clock::now() < until) {
    if (stop != nullptr && stop->load()) {
      return false;
    }
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(100), until - Clock::now()));
  }
  return stop == nullptr || !stop->load();
}

}  // namespace

Status Watch(const std::string& url, const std::string& ns, const TokenSource& token,
             SubscribeRequest request, const WatchHandlers& handlers, const WatchOptions& options) {
  if (request.model.empty()) {
    return Status(ErrorCode::kInvalidArgument, "name the model to watch");
  }
  bool ever_subscribed = false;
  std::chrono::milliseconds delay = options.reconnect_min;
  while (true) {
    bool subscribed = false;
    bool handed_over = false;
    Status ended;
    Clock::time_point started = Clock::now();
    {
      auto connection = RealtimeConnection::Open(url, ns, options.connection);
      if (connection.ok()) {
        WatchSession session(token, handlers, options);
        ended = session.Run(**connection, request, subscribed);
        handed_over = session.handed_over();
      } else {
        ended = connection.status();
      }
    }
    ever_subscribed = ever_subscribed || subscribed;
    if (ended.ok() || ended.code() != ErrorCode::kUnavailable || !ever_subscribed) {
      return ended;
    }
    // The wait starts over after a connection that worked; one that ends as soon as it is
    // subscribed (a server that cannot evaluate) waits longer each time.
    if (handed_over || Clock::now() - started >= options.reconnect_max) {
      delay = options.reconnect_min;
    }
    if (handlers.on_disconnect) {
      handlers.on_disconnect(ended, delay);
    }
    if (!SleepUnlessStopped(delay, options.stop)) {
      return Status::Ok();
    }
    delay = std::min(delay * 2, options.reconnect_max);
  }
}

}  // namespace quarry::client
