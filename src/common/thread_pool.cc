#include "common/thread_pool.h"

#include <algorithm>

#include "common/cpus.h"

namespace quarry {

ThreadPool::ThreadPool(size_t threads, size_t max_running, std::chrono::microseconds stall_after,
                       size_t max_threads)
    : max_running_(max_running != 0 ? max_running
                                    : std::max<size_t>(1, std::min<size_t>(threads, UsableCpus()))),
      stall_after_(stall_after),
      max_threads_(std::max(threads, max_threads)),
      blocking_hooks_{&ThreadPool::BeginBlocking, &ThreadPool::EndBlocking, this} {
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < threads; ++i) {
      SpawnLocked();
    }
  }
  monitor_ = std::thread([this] { Monitor(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (Worker* worker : idle_) {
      worker->wake.notify_one();
    }
  }
  monitor_wake_.notify_one();
  monitor_.join();
  // No thread is spawned once stopping_ is set, so threads_ no longer changes.
  for (auto& thread : threads_) {
    thread.join();
  }
}

void ThreadPool::SpawnLocked() {
  ++starting_;
  workers_.push_back(std::make_unique<Worker>());
  threads_.emplace_back([this, worker = workers_.back().get()] { Loop(*worker); });
}

void ThreadPool::DispatchLocked() {
  if (tasks_.empty() || running_ >= max_running_) {
    return;
  }
  if (!idle_.empty()) {
    std::function<void()> task = std::move(tasks_.front().task);
    tasks_.pop_front();
    WakeLocked(std::move(task));
  } else if (!stopping_ && starting_ == 0 && threads_.size() < max_threads_) {
    SpawnLocked();  // every thread is busy or waiting: the new one takes the queued task
  }
}

void ThreadPool::WakeLocked(std::function<void()> task) {
  Worker* worker = idle_.back();
  idle_.pop_back();
  worker->task = std::move(task);
  ++running_;
  worker->wake.notify_one();
}

void ThreadPool::Submit(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  tasks_.push_back({std::move(task), std::chrono::steady_clock::now()});
  DispatchLocked();
  if (!tasks_.empty() && monitor_sleeping_) {
    monitor_wake_.notify_one();  // work waits: the monitor watches for a stall again
  }
}

size_t ThreadPool::queued() {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

void ThreadPool::BeginBlocking(void* arg) {
  auto* pool = static_cast<ThreadPool*>(arg);
  std::lock_guard lock(pool->mutex_);
  --pool->running_;
  pool->DispatchLocked();
}

void ThreadPool::EndBlocking(void* arg) {
  auto* pool = static_cast<ThreadPool*>(arg);
  std::lock_guard lock(pool->mutex_);
  ++pool->running_;
}

void ThreadPool::Loop(Worker& self) {
  ScopedBlocking::InstallForThisThread(&blocking_hooks_);
  std::unique_lock lock(mutex_);
  --starting_;
  while (true) {
    std::function<void()> task;
    if (self.task) {
      task = std::move(self.task);  // handed over by Submit/Monitor, already counted running
      self.task = nullptr;
    } else if (!tasks_.empty() && (running_ < max_running_ || stopping_)) {
      task = std::move(tasks_.front().task);
      tasks_.pop_front();
      ++running_;
    } else if (stopping_ && tasks_.empty()) {
      return;
    } else {
      idle_.push_back(&self);
      self.wake.wait(lock, [&] { return self.task != nullptr || stopping_; });
      if (!self.task) {
        std::erase(idle_, &self);  // stopping: drain what is left, then exit
      }
      continue;
    }
    lock.unlock();
    try {
      task();
    } catch (...) {
      // A task must not take its thread (and with it the pool's capacity) down. Tasks report
      // their own failures; one that escapes is a bug, and the thread carries on.
    }
    lock.lock();
    --running_;
    ++completed_;
  }
}

void ThreadPool::Monitor() {
  std::unique_lock lock(mutex_);
  uint64_t last_completed = completed_;
  while (!stopping_) {
    if (tasks_.empty()) {
      // Nothing queued, nothing to watch: sleep until Submit queues work (no polling while
      // idle, or while every task goes straight to a thread).
      monitor_sleeping_ = true;
      monitor_wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      monitor_sleeping_ = false;
      last_completed = completed_;
      continue;
    }
    monitor_wake_.wait_for(lock, stall_after_);
    auto now = std::chrono::steady_clock::now();
    // A long queue alone is no reason to add threads (under CPU-bound load more threads only
    // thrash); no task finishing for a whole interval is: the running ones are stuck.
    bool stalled = completed_ == last_completed;
    last_completed = completed_;
    if (stalled && !tasks_.empty() && !idle_.empty() &&
        now - tasks_.front().since >= stall_after_) {
      std::function<void()> task = std::move(tasks_.front().task);
      tasks_.pop_front();
      WakeLocked(std::move(task));
    }
  }
}

}  // namespace quarry
