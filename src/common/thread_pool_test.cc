#include "common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <stdexcept>

namespace quarry {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskBeforeDestruction) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(4);
    for (int i = 0; i < 10000; ++i) {
      pool.Submit([&] { ran.fetch_add(1); });
    }
  }
  EXPECT_EQ(ran.load(), 10000);
}

// Issue 6, defect 8: ThreadPool::Loop caught nothing, so an escaped exception ended the
// process (std::terminate) instead of failing one task.
TEST(ThreadPoolTest, ATaskThatThrowsDoesNotStopThePool) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(1);
    pool.Submit([] { throw std::runtime_error("a bug in one task"); });
    for (int i = 0; i < 100; ++i) {
      pool.Submit([&] { ran.fetch_add(1); });
    }
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(ThreadPoolTest, BlockedTasksDoNotStarveOthers) {
  // Three tasks block until a fourth runs: only possible if idle threads take queued work.
  ThreadPool pool(4);
  std::latch release(1);
  std::atomic<int> done{0};
  for (int i = 0; i < 3; ++i) {
    pool.Submit([&] {
      release.wait();
      done.fetch_add(1);
    });
  }
  pool.Submit([&] { release.count_down(); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done.load() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(done.load(), 3);
}

TEST(ThreadPoolTest, GrowsWhenEveryThreadIsWaiting) {
  // Regression: lock waiters filled every thread, so the task that would release the lock
  // never ran. Here 8 tasks wait (marked ScopedBlocking) for a ninth on a 2-thread pool.
  ThreadPool pool(2, /*max_running=*/2);
  std::latch release(1);
  std::atomic<int> done{0};
  for (int i = 0; i < 8; ++i) {
    pool.Submit([&] {
      ScopedBlocking waiting;
      release.wait();
      done.fetch_add(1);
    });
  }
  pool.Submit([&] { release.count_down(); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done.load() < 8 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(done.load(), 8);
}

}  // namespace
// A task stuck without ScopedBlocking (a slow query) while work is queued: the monitor wakes
// another thread for the queued task. The monitor sleeps while nothing is queued, so this also
// checks that queuing work wakes it.
TEST(ThreadPoolTest, AStuckTaskDoesNotHoldQueuedWork) {
  ThreadPool pool(2, /*max_running=*/1, std::chrono::microseconds(1000));
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> second_ran;
  pool.Submit([released] { released.wait(); });
  pool.Submit([&second_ran] { second_ran.set_value(); });
  EXPECT_EQ(second_ran.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "the queued task never got a thread";
  release.set_value();
}

}  // namespace quarry
