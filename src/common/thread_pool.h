#pragma once

// ThreadPool: a fixed set of threads running submitted tasks in FIFO order. Used for work that
// blocks (SQLite, disk) so network threads never wait on it. Thread-safe.
//
// At most `max_running` tasks run at once while work flows (by default one per core), and idle
// threads are woken last-idle-first: under CPU-bound load the same few warm threads take all
// the work instead of 16 threads thrashing on 2 cores. When no task has finished for
// `stall_after` while work is queued (the running ones are stuck: a slow query, a lock wait not
// marked with ScopedBlocking), a monitor wakes one more thread, up to the pool size.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/blocking.h"

namespace quarry {

class ThreadPool {
 public:
  // Starts `threads` threads. When every thread is waiting (ScopedBlocking) while work is
  // queued, the pool grows, up to `max_threads`: tasks waiting on a lock must never keep the
  // task that would release it from running.
  explicit ThreadPool(size_t threads, size_t max_running = 0,
                      std::chrono::microseconds stall_after = std::chrono::microseconds(1000),
                      size_t max_threads = 256);
  // Runs the tasks already queued, then joins the threads.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);
  size_t queued();

 private:
  struct Worker {
    std::condition_variable wake;
    std::function<void()> task;  // GUARDED_BY(mutex_); handed over by Submit
  };
  void Loop(Worker& self);
  void Monitor();
  // ScopedBlocking hooks: a waiting task stops counting as running.
  static void BeginBlocking(void* pool);
  static void EndBlocking(void* pool);
  // Hands `task` to the most recently idle worker. Requires mutex_ held and idle_ non-empty.
  void WakeLocked(std::function<void()> task);
  // Starts one more thread. Requires mutex_ held.
  void SpawnLocked();
  // Gives queued work a thread when the running ones are all waiting. Requires mutex_ held.
  void DispatchLocked();

  struct Queued {
    std::function<void()> task;
    std::chrono::steady_clock::time_point since;
  };
  const size_t max_running_;
  const std::chrono::microseconds stall_after_;
  const size_t max_threads_;

  std::mutex mutex_;
  std::deque<Queued> tasks_;  // GUARDED_BY(mutex_)
  size_t running_ = 0;        // GUARDED_BY(mutex_)
  uint64_t completed_ = 0;    // GUARDED_BY(mutex_)
  size_t starting_ = 0;       // threads spawned that have not reached Loop; GUARDED_BY(mutex_)
  std::condition_variable monitor_wake_;
  bool monitor_sleeping_ = false;  // waiting for work to be queued; GUARDED_BY(mutex_)
  ScopedBlocking::Hooks blocking_hooks_;
  std::vector<Worker*> idle_;  // GUARDED_BY(mutex_); most recently idle last
  bool stopping_ = false;      // GUARDED_BY(mutex_)
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::thread monitor_;
};

}  // namespace quarry
