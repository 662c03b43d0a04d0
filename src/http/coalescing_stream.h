#pragma once

// CoalescingStream: the layer under a Beast WebSocket stream that turns the answers a session
// writes in one burst into one socket write. Internal to http/.
//
// Beast writes one message per operation, and each would be its own send (its own TLS record,
// its own TCP segment on loopback). Here a write is copied into a pending buffer and completes
// at once (posted); the buffer goes to the socket in one write when the session is not about to
// add to it: when the reader waits for the socket (it has handled every frame it holds), or
// when the session is not reading at all. The session says when its reader is busy with frames
// already received (ReaderActive). One write to the socket is in flight at a time; what arrives
// meanwhile goes out with the next. Past `max_pending` bytes waiting, a write completes only
// once the socket has taken the data before it, so a client that does not read slows the
// session down (TCP's backpressure) instead of growing the buffer.
//
// Single-threaded, like the stream it wraps: every call on the stream's executor.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace quarry::http {

template <class NextLayer>
class CoalescingStream {
 public:
  using executor_type = typename NextLayer::executor_type;
  using next_layer_type = NextLayer;
  using WriteHandler =
      boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;

  explicit CoalescingStream(NextLayer next, std::size_t max_pending = 1 << 20)
      : next_(std::move(next)), max_pending_(max_pending) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  NextLayer& next_layer() noexcept { return next_; }
  const NextLayer& next_layer() const noexcept { return next_; }

  // Whatever owns this stream: kept alive while a write to the socket is in flight.
  void SetOwner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
  // True while the session handles a frame it has read (more may follow without waiting for
  // the socket); false once it asks for the next one or stops reading.
  void ReaderActive(bool active) {
    reader_active_ = active;
    if (!active) {
      Flush();
    }
  }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& buffers) {
          // The reader has handled all it holds: what it answered goes out before it waits.
          read_waiting_ = true;
          Flush();
          next_.async_read_some(buffers, [this, handler = std::move(handler)](
                                             boost::system::error_code ec, std::size_t n) mutable {
            read_waiting_ = false;
            std::move(handler)(ec, n);
          });
        },
        token, buffers);
  }

  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& buffers) {
          if (failed_) {
            Complete(std::move(handler), failed_, 0);
            return;
          }
          std::size_t n = boost::asio::buffer_size(buffers);
          std::size_t at = pending_.size();
          pending_.resize(at + n);
          boost::asio::buffer_copy(boost::asio::buffer(pending_.data() + at, n), buffers);
          if (writing() && pending_.size() > max_pending_) {
            held_write_.emplace(std::move(handler));  // type-erased only on this rare path
            held_bytes_ = n;
          } else {
            Complete(std::move(handler), {}, n);
          }
          ScheduleFlush();
        },
        token, buffers);
  }

  // Sends what is pending, then tears the next layer down (Beast's closing handshake).
  template <class Handler>
  void AsyncTeardown(boost::beast::role_type role, Handler handler) {
    // Held as the handler's own type: Beast posts it, which a type-erased handler's executor
    // does not support.
    auto held = std::make_shared<Handler>(std::move(handler));
    teardown_ = [this, role, held] {
      using boost::beast::websocket::async_teardown;
      async_teardown(role, next_, std::move(*held));
    };
    Flush();
    MaybeTeardown();
  }

 private:
  template <class Handler>
  void Complete(Handler handler, boost::system::error_code ec, std::size_t n) {
    boost::asio::post(get_executor(), boost::beast::bind_handler(std::move(handler), ec, n));
  }

  bool writing() const { return !in_flight_.empty(); }  // a write to the socket is in flight

  void ScheduleFlush() {
    if (flush_posted_) {
      return;
    }
    flush_posted_ = true;
    boost::asio::post(get_executor(), [this, keep = owner_.lock()] {
      flush_posted_ = false;
      if (writing() || pending_.empty()) {
        return;  // its completion sends what is pending; or nothing to send
      }
      if (reader_active_ && !read_waiting_) {
        ScheduleFlush();  // frames already read are being handled: their answers join these
      } else {
        Flush();
      }
    });
  }

  void Flush() {
    if (writing() || pending_.empty()) {
      return;
    }
    in_flight_.swap(pending_);
    pending_.clear();
    boost::asio::async_write(
        next_, boost::asio::buffer(in_flight_),
        [this, keep = owner_.lock()](boost::system::error_code ec, std::size_t) {
          in_flight_.clear();
          if (ec) {
            failed_ = ec;
            pending_.clear();
          }
          if (held_write_) {
            // Posted inside a lambda: a type-erased handler's executor cannot be posted to.
            boost::asio::post(get_executor(), [handler = std::move(*held_write_), ec = failed_,
                                               n = failed_ ? 0 : held_bytes_]() mutable {
              std::move(handler)(ec, n);
            });
            held_write_.reset();
          }
          Flush();
          MaybeTeardown();
        });
  }

  void MaybeTeardown() {
    if (!teardown_ || writing() || (!pending_.empty() && !failed_)) {
      return;
    }
    std::function<void()> teardown = std::move(teardown_);
    teardown_ = nullptr;
    teardown();
  }

  NextLayer next_;
  const std::size_t max_pending_;
  std::weak_ptr<void> owner_;
  std::string pending_;    // written by the session, not yet handed to the socket
  std::string in_flight_;  // being written to the socket (empty: no write in flight)
  bool flush_posted_ = false;
  bool reader_active_ = false;
  bool read_waiting_ = false;
  boost::system::error_code failed_;        // a write to the socket failed: every later one fails
  std::optional<WriteHandler> held_write_;  // completes when the socket took what was before it
  std::size_t held_bytes_ = 0;
  std::function<void()> teardown_;  // Beast's teardown, once the socket took what is pending
};

// Beast's closing handshake on a CoalescingStream: the next layer's, after what is pending.
template <class NextLayer>
void teardown(boost::beast::role_type role, CoalescingStream<NextLayer>& stream,
              boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class NextLayer, class Handler>
void async_teardown(boost::beast::role_type role, CoalescingStream<NextLayer>& stream,
                    Handler&& handler) {
  stream.AsyncTeardown(role, std::decay_t<Handler>(std::forward<Handler>(handler)));
}

}  // namespace quarry::http
