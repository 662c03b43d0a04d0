#include "server/schema_changes.h"

namespace quarry::server {

void SchemaChanges::Subscribe(Listener listener) {
  if (!listener) {
    return;
  }
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void SchemaChanges::Notify(const std::string& ns) {
  std::lock_guard lock(mutex_);
  for (const Listener& listener : listeners_) {
    listener(ns);
  }
  ++generation_;
}

uint64_t SchemaChanges::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

}  // namespace quarry::server
