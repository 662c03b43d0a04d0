#include "storage/database.h"

namespace quarry::storage {

ConnectionLease& ConnectionLease::operator=(ConnectionLease&& other) noexcept {
  if (this != &other) {
    Release();
    db_ = std::move(other.db_);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

ConnectionLease::~ConnectionLease() { Release(); }

void ConnectionLease::Release() {
  if (conn_ != nullptr && db_ != nullptr) {
    db_->Return(std::move(conn_));
  }
  conn_.reset();
  db_.reset();
}

Database::Database(std::string name, std::filesystem::path path, ConnectionOptions options,
                   size_t max_idle_connections)
    : name_(std::move(name)),
      path_(std::move(path)),
      options_(options),
      max_idle_(max_idle_connections) {}

Result<ConnectionLease> Database::Acquire() {
  if (deleted()) {
    return Status(ErrorCode::kNamespaceNotFound, "namespace '" + name_ + "' was deleted");
  }
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (conn == nullptr) {
    QUARRY_ASSIGN_OR_RETURN(conn, Connection::Open(path_, options_, /*create=*/false));
  }
  return ConnectionLease(shared_from_this(), std::move(conn));
}

void Database::Return(std::unique_ptr<Connection> conn) {
  if (deleted()) {
    return;
  }
  if (conn->InTransaction() && !conn->RollbackIfOpen().ok()) {
    return;  // a connection we cannot bring back to autocommit is closed
  }
  conn->SetDeadline(std::chrono::steady_clock::time_point::max());
  if (!conn->ResetForReuse()) {
    return;  // client-made temporary objects must not leak into the next user's session
  }
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_) {
    idle_.push_back(std::move(conn));
  }
}

void Database::CloseIdle() {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(idle_);
  }
}

}  // namespace quarry::storage
