#pragma once

// SchemaChanges: how the parts of the server that keep something derived from a namespace's
// schema (the data API's compiled models and plans) learn that it may have changed.
//
// The admin API notifies after every change that can alter what a namespace's schema is: a
// schema recorded (migrate push, a migration made from a schema), migrations applied or undone
// (a plain SQL migration changes tables, not the recorded schema, but a cache of introspected
// tables is stale too), a namespace created, deleted, or forked into. Notify runs after the
// change committed, on the thread that made it. Client DDL over Hrana is not reported (a
// service token's raw SQL may change tables at any time; readers that care compare PRAGMA
// schema_version).
//
// Thread-safe. Listeners run under the object's lock, in subscription order: they must be quick
// and must not call Subscribe or Notify.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace quarry::server {

class SchemaChanges {
 public:
  using Listener = std::function<void(const std::string& ns)>;

  // Adds a listener, called for every later Notify. An empty function is ignored.
  void Subscribe(Listener listener);
  // Tells every listener that namespace `ns` may have a new schema, then counts it.
  void Notify(const std::string& ns);
  // How many notifications were made so far: a cheap "has anything changed since I looked".
  uint64_t generation() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Listener> listeners_;  // GUARDED_BY(mutex_)
  uint64_t generation_ = 0;          // GUARDED_BY(mutex_)
};

}  // namespace quarry::server
