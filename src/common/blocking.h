#pragma once

// ScopedBlocking: marks the current thread as waiting (on a lock, a condition, an fsync) for
// the scope's life. A ThreadPool whose worker this is starts another task meanwhile, so tasks
// that wait do not count against its limit of running tasks. On other threads it does nothing.

namespace quarry {

class ScopedBlocking {
 public:
  ScopedBlocking();
  ~ScopedBlocking();
  ScopedBlocking(const ScopedBlocking&) = delete;
  ScopedBlocking& operator=(const ScopedBlocking&) = delete;

  // Installed by a thread pool on each of its threads.
  struct Hooks {
    void (*begin)(void* arg);
    void (*end)(void* arg);
    void* arg;
  };
  static void InstallForThisThread(const Hooks* hooks);

 private:
  const Hooks* hooks_;
};

}  // namespace quarry
