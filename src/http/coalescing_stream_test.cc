#include "http/coalescing_stream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/streams.h"

namespace quarry::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// A CoalescingStream over a real loopback TCP connection; `peer` is the other end.
class CoalescingStreamTest : public ::testing::Test {
 protected:
  void Connect(size_t max_pending = 1 << 20) {
    tcp::acceptor acceptor(io_, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    peer_.connect(acceptor.local_endpoint());
    Socket accepted = acceptor.accept(io_.get_executor());
    stream_.emplace(TcpStream(std::move(accepted)), max_pending);
  }
  // Runs at most `n` handlers, never blocking (a flush waiting for the reader re-posts itself,
  // so "until idle" would not end).
  void RunSome(int n = 1000) {
    io_.restart();  // poll_one stops the context once it finds nothing to run
    for (int i = 0; i < n && io_.poll_one() > 0; ++i) {
    }
  }
  // Writes `message`; `done` counts its completion.
  void Write(const std::string& message, int& done) {
    stream_->async_write_some(net::buffer(message), [&done](boost::system::error_code ec, size_t) {
      EXPECT_FALSE(ec) << ec.message();
      ++done;
    });
  }

  net::io_context io_;
  tcp::socket peer_{io_};
  std::optional<CoalescingStream<TcpStream>> stream_;
};

TEST_F(CoalescingStreamTest, WritesMadeWhileTheReaderIsBusyLeaveAsOneWrite) {
  Connect();
  stream_->ReaderActive(true);  // handling frames it has read: more answers may follow
  std::vector<std::string> messages;
  for (int i = 0; i < 10; ++i) {
    messages.push_back("answer " + std::to_string(i) + ";");
  }
  int done = 0;
  for (const std::string& m : messages) {
    Write(m, done);
  }
  RunSome();
  EXPECT_EQ(done, 10) << "each write completes at once: the session goes on to the next";
  EXPECT_EQ(peer_.available(), 0u) << "nothing sent while the reader may still add to it";

  stream_->ReaderActive(false);  // the reader stopped: what is pending goes out
  std::string all;
  for (const std::string& m : messages) {
    all += m;
  }
  // The whole burst arrives as one segment, so one read takes all of it.
  for (int i = 0; i < 100 && peer_.available() < all.size(); ++i) {
    RunSome();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::string got(all.size() + 16, '\0');
  size_t n = peer_.read_some(net::buffer(got));
  EXPECT_EQ(got.substr(0, n), all);
}

TEST_F(CoalescingStreamTest, AReaderWaitingForTheSocketSendsWhatItAnsweredFirst) {
  Connect();
  stream_->ReaderActive(true);
  int done = 0;
  Write("first;", done);
  RunSome(10);
  EXPECT_EQ(peer_.available(), 0u);
  // The reader asks the socket for more: the answers so far leave before it waits.
  std::string in(16, '\0');
  bool read_done = false;
  stream_->async_read_some(net::buffer(in),
                           [&](boost::system::error_code, size_t) { read_done = true; });
  // With the reader waiting, a later write goes out without waiting for anything else.
  Write("second;", done);
  std::string got;
  for (int i = 0; i < 200 && got.size() < 13; ++i) {
    RunSome();
    if (peer_.available() > 0) {
      std::string chunk(peer_.available(), '\0');
      chunk.resize(peer_.read_some(net::buffer(chunk)));
      got += chunk;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(got, "first;second;");
  EXPECT_EQ(done, 2);
  EXPECT_FALSE(read_done);
  peer_.write_some(net::buffer(std::string("ping")));
  for (int i = 0; i < 200 && !read_done; ++i) {
    RunSome();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(read_done);
  EXPECT_EQ(in.substr(0, 4), "ping");
}

// A peer that does not read: past max_pending bytes waiting behind the write in flight, the
// next write does not complete, so the session stops producing; once the peer reads, it does.
TEST_F(CoalescingStreamTest, APeerThatDoesNotReadHoldsTheWriterBack) {
  Connect(/*max_pending=*/64 << 10);
  const std::string big(32 << 20, 'x');  // more than loopback's socket buffers hold
  const std::string next(128 << 10, 'y');
  int done = 0;
  Write(big, done);
  RunSome();
  ASSERT_EQ(done, 1) << "the first write only fills the buffer";
  Write(next, done);
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (std::chrono::steady_clock::now() < until) {
    RunSome();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(done, 1) << "a write past the bound completed while the peer read nothing";

  size_t want = big.size() + next.size();
  std::atomic<size_t> got{0};
  std::thread reader([&] {
    std::string sink(1 << 20, '\0');
    boost::system::error_code ec;
    while (got < want && !ec) {
      got += peer_.read_some(net::buffer(sink), ec);
    }
  });
  until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (got < want && std::chrono::steady_clock::now() < until) {
    RunSome();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(done, 2);
  EXPECT_EQ(got, want) << "everything written reaches the peer";
  if (got < want) {
    peer_.close();  // ends the reader
  }
  reader.join();
}

}  // namespace
}  // namespace quarry::http
