#include "http/websocket_session.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <utility>

#include "http/coalescing_stream.h"

namespace quarry::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;

template <class NextLayer>
class WebSocketSession : public WebSocketConnection,
                         public std::enable_shared_from_this<WebSocketSession<NextLayer>> {
 public:
  WebSocketSession(NextLayer stream, Upgrade upgrade, SharedState& state)
      : ws_(CoalescingStream<NextLayer>(std::move(stream))),
        upgrade_(std::move(upgrade)),
        state_(state) {}

  void Run(bhttp::request<bhttp::string_body> request) {
    ws_.next_layer().SetOwner(this->weak_from_this());
    // The WebSocket keeps its own timers; the TCP stream's would cut it off.
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = std::chrono::seconds(30);
    timeout.idle_timeout = state_.options.websocket_idle_timeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.read_message_max(state_.options.max_body_bytes);
    ws_.set_option(websocket::stream_base::decorator(
        [subprotocol = upgrade_.subprotocol](websocket::response_type& response) {
          response.set(bhttp::field::server, "quarry");
          if (!subprotocol.empty()) {
            response.set(bhttp::field::sec_websocket_protocol, subprotocol);
          }
        }));
    request_ = std::move(request);
    ws_.async_accept(
        request_, beast::bind_front_handler(&WebSocketSession::OnAccept, this->shared_from_this()));
  }

  void Send(std::string message, bool binary) override {
    queued_bytes_.fetch_add(message.size(), std::memory_order_relaxed);
    if (ws_.get_executor().running_in_this_thread() &&
        posted_sends_.load(std::memory_order_acquire) == 0) {
      // An answer made on the session's own thread, while a frame was handled, with no
      // message from another thread still on its way here (it would be overtaken: a hello_ok
      // must precede the answers sent after it): queued now. ReadyForMore calls back into the
      // handler, which may hold its lock here, so a paused read is resumed by a post (OnRead
      // asks again anyway once the frame is handled).
      if (Enqueue(std::move(message), binary) && paused_self_) {
        net::post(ws_.get_executor(), [self = this->shared_from_this()] { self->MaybeRead(); });
      }
      return;
    }
    posted_sends_.fetch_add(1, std::memory_order_acq_rel);
    net::post(ws_.get_executor(),
              [self = this->shared_from_this(), message = std::move(message), binary]() mutable {
                self->posted_sends_.fetch_sub(1, std::memory_order_acq_rel);
                if (self->Enqueue(std::move(message), binary)) {
                  self->MaybeRead();
                }
              });
  }

  size_t QueuedBytes() const override { return queued_bytes_.load(std::memory_order_relaxed); }

  void Close(uint16_t code, std::string reason) override {
    net::post(ws_.get_executor(),
              [self = this->shared_from_this(), code, reason = std::move(reason)]() mutable {
                if (self->done_ || self->closing_) {
                  return;
                }
                self->closing_ = true;
                if (reason.size() > 123) {
                  reason.resize(123);  // what a close frame holds; callers cut it properly
                }
                self->close_reason_ =
                    websocket::close_reason(static_cast<websocket::close_code>(code), reason);
                self->Write();
                self->MaybeRead();  // read on until the client's close frame
              });
  }

 private:
  // Queues an answer and starts writing it; false (dropped) once the socket is closing.
  bool Enqueue(std::string message, bool binary) {
    if (done_ || closing_) {
      queued_bytes_.fetch_sub(message.size(), std::memory_order_relaxed);
      return false;
    }
    queue_.emplace_back(std::move(message), binary);
    Write();
    return true;
  }

  void OnAccept(beast::error_code ec) {
    if (ec) {
      return;  // a failed handshake: Beast answered it; the socket closes with this session
    }
    handler_ = upgrade_.accept(
        WebSocketChannel(std::weak_ptr<WebSocketConnection>(this->shared_from_this())));
    upgrade_ = {};
    if (!handler_) {
      Finish();
      return;
    }
    MaybeRead();
  }

  void MaybeRead() {
    if (reading_ || done_) {
      return;
    }
    if (!closing_ && !(handler_->ReadyForMore() &&
                       queue_.size() < state_.options.websocket_max_queued_messages)) {
      // Paused: the next answer sent or written re-asks. With no read pending, nothing else
      // may hold the session (the handler's channel is weak), so it holds itself meanwhile.
      paused_self_ = this->shared_from_this();
      ws_.next_layer().ReaderActive(false);
      return;
    }
    paused_self_.reset();
    reading_ = true;
    ws_.next_layer().ReaderActive(true);
    ws_.async_read(buffer_,
                   beast::bind_front_handler(&WebSocketSession::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    reading_ = false;
    if (ec) {
      Finish();
      return;
    }
    if (!closing_) {
      std::string message = beast::buffers_to_string(buffer_.data());
      buffer_.consume(buffer_.size());
      handler_->OnMessage(std::move(message), ws_.got_binary());
    } else {
      buffer_.consume(buffer_.size());
    }
    MaybeRead();
  }

  void Write() {
    if (writing_ || done_) {
      return;
    }
    if (queue_.empty()) {
      if (closing_ && !close_sent_) {
        close_sent_ = true;
        writing_ = true;
        ws_.async_close(close_reason_, [self = this->shared_from_this()](beast::error_code ec) {
          self->writing_ = false;
          if (ec) {
            self->Finish();
          }
        });
      }
      return;
    }
    writing_ = true;
    ws_.binary(queue_.front().second);
    ws_.async_write(
        net::buffer(queue_.front().first),
        beast::bind_front_handler(&WebSocketSession::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    writing_ = false;
    if (ec) {
      Finish();
      return;
    }
    queued_bytes_.fetch_sub(queue_.front().first.size(), std::memory_order_relaxed);
    queue_.pop_front();
    Write();
    MaybeRead();
  }

  // The socket is done (closed by either side, or failed): the handler hears of it once.
  void Finish() {
    if (done_) {
      return;
    }
    done_ = true;
    for (const auto& [message, binary] : queue_) {
      queued_bytes_.fetch_sub(message.size(), std::memory_order_relaxed);
    }
    queue_.clear();
    paused_self_.reset();
    ws_.next_layer().ReaderActive(false);
    if (auto handler = std::move(handler_)) {
      handler->OnClose();
    }
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  // Answers written in one burst go to the socket as one write (coalescing_stream.h).
  websocket::stream<CoalescingStream<NextLayer>> ws_;
  Upgrade upgrade_;
  SharedState& state_;
  bhttp::request<bhttp::string_body> request_;
  std::shared_ptr<WebSocketHandler> handler_;
  // Set while reading is paused (see MaybeRead); a cycle broken by the next read or Finish.
  std::shared_ptr<WebSocketSession> paused_self_;
  beast::flat_buffer buffer_;
  std::deque<std::pair<std::string, bool>> queue_;  // answers waiting to be written
  std::atomic<int> posted_sends_{0};     // Sends posted from other threads, not yet queued
  std::atomic<size_t> queued_bytes_{0};  // of messages sent, not yet written (or dropped)
  websocket::close_reason close_reason_;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;  // Close was asked: write what is queued, then the close frame
  bool close_sent_ = false;
  bool done_ = false;
};

}  // namespace

template <class NextLayer>
void StartWebSocketSession(NextLayer stream, bhttp::request<bhttp::string_body> request,
                           Upgrade upgrade, SharedState& state) {
  std::make_shared<WebSocketSession<NextLayer>>(std::move(stream), std::move(upgrade), state)
      ->Run(std::move(request));
}

template void StartWebSocketSession<TcpStream>(TcpStream, bhttp::request<bhttp::string_body>,
                                               Upgrade, SharedState&);

template void StartWebSocketSession<TlsStream>(TlsStream, bhttp::request<bhttp::string_body>,
                                               Upgrade, SharedState&);

}  // namespace quarry::http
