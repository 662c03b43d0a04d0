#include "storage/namespace_store.h"

#include <algorithm>
#include <chrono>
#include <system_error>

#include "storage/namespace_name.h"

namespace quarry::storage {
namespace fs = std::filesystem;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

uint64_t FileSize(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

Status IoError(const std::string& what, const std::error_code& ec) {
  return Status(ErrorCode::kInternal, what + ": " + ec.message());
}

}  // namespace

NamespaceStore::NamespaceStore(StoreOptions options, std::unique_ptr<Connection> meta)
    : options_(std::move(options)), meta_(std::move(meta)) {}

NamespaceStore::~NamespaceStore() { Flush(); }

Result<std::unique_ptr<NamespaceStore>> NamespaceStore::Open(StoreOptions options) {
  std::error_code ec;
  fs::create_directories(options.data_dir / "ns", ec);
  if (ec) {
    return IoError("cannot create data folder " + options.data_dir.string(), ec);
  }
  ConnectionOptions meta_options;
  meta_options.durability = Durability::kFull;
  QUARRY_ASSIGN_OR_RETURN(auto meta,
                          Connection::Open(options.data_dir / "meta.db", meta_options, true));
  QUARRY_RETURN_IF_ERROR(
      meta->Exec("CREATE TABLE IF NOT EXISTS namespaces ("
                 "  name TEXT PRIMARY KEY,"
                 "  created_at_ms INTEGER NOT NULL,"
                 "  last_used_ms INTEGER NOT NULL DEFAULT 0,"
                 "  foreign_keys INTEGER NOT NULL DEFAULT 1"
                 ") STRICT"));
  QUARRY_RETURN_IF_ERROR(UpgradeMetadata(*meta));
  std::unique_ptr<NamespaceStore> store(new NamespaceStore(std::move(options), std::move(meta)));
  QUARRY_RETURN_IF_ERROR(store->LoadMetadata());
  if (!store->Exists(kDefaultNamespace)) {
    QUARRY_RETURN_IF_ERROR(store->Create(kDefaultNamespace));
  }
  return store;
}

Status NamespaceStore::UpgradeMetadata(Connection& meta) {
  QUARRY_ASSIGN_OR_RETURN(
      auto stmt,
      meta.Prepare("SELECT 1 FROM pragma_table_info('namespaces') WHERE name = 'foreign_keys'"));
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_ROW) {
    return Status::Ok();
  }
  if (rc != SQLITE_DONE) {
    return meta.LastError("reading the metadata's columns");
  }
  stmt = Statement();
  // Namespaces made before the setting existed kept foreign keys on.
  return meta.Exec("ALTER TABLE namespaces ADD COLUMN foreign_keys INTEGER NOT NULL DEFAULT 1");
}

Status NamespaceStore::LoadMetadata() {
  std::lock_guard lock(mutex_);
  std::lock_guard meta_lock(meta_mutex_);
  QUARRY_ASSIGN_OR_RETURN(
      auto stmt,
      meta_->Prepare("SELECT name, created_at_ms, last_used_ms, foreign_keys FROM namespaces"));
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    std::string name = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
    Entry entry;
    entry.created_at_ms = sqlite3_column_int64(stmt.get(), 1);
    entry.last_used_ms = sqlite3_column_int64(stmt.get(), 2);
    entry.foreign_keys = sqlite3_column_int64(stmt.get(), 3) != 0;
    entries_.emplace(std::move(name), std::move(entry));
  }
  if (rc != SQLITE_DONE) {
    return meta_->LastError("reading namespaces");
  }
  return Status::Ok();
}

fs::path NamespaceStore::DatabasePath(std::string_view name) const {
  return options_.data_dir / "ns" / std::string(name) / "data.db";
}

bool NamespaceStore::Exists(std::string_view name) {
  std::lock_guard lock(mutex_);
  return entries_.count(std::string(name)) != 0;
}

Status NamespaceStore::InsertMetadata(std::string_view name, int64_t created_at_ms,
                                      bool foreign_keys) {
  std::lock_guard meta_lock(meta_mutex_);
  QUARRY_ASSIGN_OR_RETURN(auto stmt, meta_->Prepare("INSERT INTO namespaces(name, created_at_ms, "
                                                    "foreign_keys) VALUES (?1, ?2, ?3)"));
  sqlite3_bind_text(stmt.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(stmt.get(), 2, created_at_ms);
  sqlite3_bind_int64(stmt.get(), 3, foreign_keys ? 1 : 0);
  if (sqlite3_step(stmt.get()) != SQLITE_DONE) {
    return meta_->LastError("recording namespace");
  }
  return Status::Ok();
}

Status NamespaceStore::Reserve(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (entries_.count(name) != 0 || reserved_.count(name) != 0) {
    return Status(ErrorCode::kAlreadyExists, "namespace '" + name + "' already exists");
  }
  reserved_.insert(name);
  return Status::Ok();
}

Status NamespaceStore::Publish(const std::string& name, Status made, bool foreign_keys) {
  std::error_code ec;
  int64_t now = NowMs();
  if (made.ok()) {
    made = InsertMetadata(name, now, foreign_keys);  // fsynced: from here on the namespace exists
  }
  if (!made.ok()) {
    fs::remove_all(DatabasePath(name).parent_path(), ec);
  }
  std::lock_guard lock(mutex_);
  reserved_.erase(name);
  if (made.ok()) {
    entries_[name].created_at_ms = now;
    entries_[name].foreign_keys = foreign_keys;
  }
  return made;
}

Status NamespaceStore::Create(std::string_view name, const NamespaceSettings& settings) {
  QUARRY_RETURN_IF_ERROR(ValidateNamespaceName(name));
  std::string key(name);
  QUARRY_RETURN_IF_ERROR(Reserve(key));
  // The files are made outside the store's lock: requests to other namespaces go on meanwhile.
  fs::path path = DatabasePath(name);
  Status made = [&]() -> Status {
    std::error_code ec;
    fs::remove_all(path.parent_path(), ec);  // leftovers of an interrupted delete
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return IoError("cannot create folder for namespace '" + key + "'", ec);
    }
    return Connection::Open(path, options_.connection, /*create=*/true).status();
  }();
  return Publish(key, std::move(made),
                 settings.foreign_keys.value_or(options_.default_foreign_keys));
}

Status NamespaceStore::Configure(std::string_view name, const NamespaceSettings& settings) {
  std::string key(name);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return Status(ErrorCode::kNamespaceNotFound, "namespace '" + key + "' does not exist");
  }
  if (settings.foreign_keys) {
    std::lock_guard meta_lock(meta_mutex_);
    QUARRY_ASSIGN_OR_RETURN(
        auto stmt, meta_->Prepare("UPDATE namespaces SET foreign_keys = ?2 WHERE name = ?1"));
    sqlite3_bind_text(stmt.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt.get(), 2, *settings.foreign_keys ? 1 : 0);
    if (sqlite3_step(stmt.get()) != SQLITE_DONE) {
      return meta_->LastError("recording namespace settings");
    }
    it->second.foreign_keys = *settings.foreign_keys;
    std::shared_ptr<Database> live =
        it->second.open != nullptr ? it->second.open : it->second.last.lock();
    if (live != nullptr) {
      live->SetForeignKeys(*settings.foreign_keys);
    }
  }
  return Status::Ok();
}

Status NamespaceStore::Delete(std::string_view name) {
  std::string key(name);
  if (name == kDefaultNamespace) {
    return Status(ErrorCode::kInvalidArgument, "the 'default' namespace cannot be deleted");
  }
  {
    std::lock_guard lock(mutex_);
    if (entries_.count(key) == 0) {
      return Status(ErrorCode::kNamespaceNotFound, "namespace '" + key + "' does not exist");
    }
    if (reserved_.count(key) != 0) {
      return Status(ErrorCode::kAlreadyExists, "namespace '" + key + "' is being deleted");
    }
    reserved_.insert(key);  // one delete at a time; no create of the name until it is done
  }
  auto unreserve = [&] {
    std::lock_guard lock(mutex_);
    reserved_.erase(key);
  };
  {
    // Fsynced: from here on the namespace no longer exists, whatever happens to its files.
    std::lock_guard meta_lock(meta_mutex_);
    Status deleted = [&]() -> Status {
      QUARRY_ASSIGN_OR_RETURN(auto stmt, meta_->Prepare("DELETE FROM namespaces WHERE name = ?1"));
      sqlite3_bind_text(stmt.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
      if (meta_->Step(stmt.get()) != SQLITE_DONE) {
        return meta_->LastError("deleting namespace record");
      }
      return Status::Ok();
    }();
    if (!deleted.ok()) {
      unreserve();
      return deleted;
    }
  }
  std::vector<std::shared_ptr<Database>> closing;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    std::shared_ptr<Database> live =
        it->second.open != nullptr ? it->second.open : it->second.last.lock();
    if (live != nullptr) {
      live->MarkDeleted();
    }
    CloseLocked(it->second, closing);
    entries_.erase(it);
  }
  closing.clear();  // idle connections close (disk work) outside the lock
  std::error_code ec;
  fs::path folder = DatabasePath(name).parent_path();
  ec = options_.remove_tree ? options_.remove_tree(folder) : [&] {
    std::error_code remove_ec;
    fs::remove_all(folder, remove_ec);
    return remove_ec;
  }();
  unreserve();
  if (ec) {
    return IoError("namespace '" + key + "' deleted but its files remain", ec);
  }
  return Status::Ok();
}

Status NamespaceStore::Fork(std::string_view from, std::string_view to) {
  QUARRY_RETURN_IF_ERROR(ValidateNamespaceName(to));
  std::string target(to);
  if (!Exists(from)) {
    return Status(ErrorCode::kNamespaceNotFound,
                  "namespace '" + std::string(from) + "' does not exist");
  }
  bool foreign_keys = options_.default_foreign_keys;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(std::string(from));
    if (it != entries_.end()) {
      foreign_keys = it->second.foreign_keys;
    }
  }
  QUARRY_RETURN_IF_ERROR(Reserve(target));
  return Publish(target, CopyDatabase(from, DatabasePath(to)), foreign_keys);
}

Status NamespaceStore::CopyDatabase(std::string_view from, const fs::path& dest_path) {
  QUARRY_ASSIGN_OR_RETURN(auto source_db, Get(from));
  QUARRY_ASSIGN_OR_RETURN(auto source, source_db->Acquire(AccessMode::kSystem));
  std::error_code ec;
  fs::remove_all(dest_path.parent_path(), ec);
  fs::create_directories(dest_path.parent_path(), ec);
  if (ec) {
    return IoError("cannot create folder " + dest_path.parent_path().string(), ec);
  }
  QUARRY_ASSIGN_OR_RETURN(auto dest, Connection::Open(dest_path, options_.connection, true));
  // One step copies every page under a single read transaction: a consistent snapshot, and
  // in WAL mode writers on the source go on meanwhile.
  sqlite3_backup* backup = sqlite3_backup_init(dest->handle(), "main", source->handle(), "main");
  if (backup == nullptr) {
    return dest->LastError("starting fork");
  }
  int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    return Status(ErrorCode::kSqlite, std::string("fork failed: ") + sqlite3_errstr(rc), rc);
  }
  return dest->Exec("PRAGMA journal_mode=WAL");
}

std::vector<NamespaceInfo> NamespaceStore::List() {
  std::vector<NamespaceInfo> out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(entries_.size());
    for (const auto& [name, entry] : entries_) {
      NamespaceInfo info;
      info.name = name;
      info.created_at_ms = entry.created_at_ms;
      info.foreign_keys = entry.foreign_keys;
      info.last_used_ms = entry.open != nullptr ? entry.open->last_used_ms() : entry.last_used_ms;
      out.push_back(std::move(info));
    }
  }
  for (auto& info : out) {
    fs::path path = DatabasePath(info.name);
    info.size_bytes = FileSize(path) + FileSize(path.string() + "-wal");
  }
  std::sort(out.begin(), out.end(),
            [](const NamespaceInfo& a, const NamespaceInfo& b) { return a.name < b.name; });
  return out;
}

Result<std::shared_ptr<Database>> NamespaceStore::Get(std::string_view name) {
  std::vector<std::shared_ptr<Database>> closing;  // closed after the lock is released
  std::shared_ptr<Database> db;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(std::string(name));
    if (it == entries_.end()) {
      return Status(ErrorCode::kNamespaceNotFound,
                    "namespace '" + std::string(name) + "' does not exist");
    }
    Entry& entry = it->second;
    if (entry.open != nullptr) {
      lru_.splice(lru_.begin(), lru_, entry.lru_position);
    } else {
      entry.open = entry.last.lock();
      if (entry.open == nullptr) {
        ConnectionOptions connection = options_.connection;
        connection.foreign_keys = entry.foreign_keys;
        entry.open = std::make_shared<Database>(it->first, DatabasePath(name), connection,
                                                options_.max_idle_connections_per_database,
                                                options_.max_connections_per_database);
        entry.open->SetChangeObserver(options_.change_observer);
        entry.open->Touch(entry.last_used_ms);
        entry.last = entry.open;
      }
      lru_.push_front(it->first);
      entry.lru_position = lru_.begin();
      EvictLocked(closing);
    }
    entry.open->Touch(NowMs());
    db = entry.open;
  }
  for (auto& evicted : closing) {
    evicted->CloseIdle();
  }
  return db;
}

std::shared_ptr<Database> NamespaceStore::GetIfOpen(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(name));
  if (it == entries_.end() || it->second.open == nullptr) {
    return nullptr;
  }
  Entry& entry = it->second;
  lru_.splice(lru_.begin(), lru_, entry.lru_position);
  entry.open->Touch(NowMs());
  return entry.open;
}

void NamespaceStore::EvictLocked(std::vector<std::shared_ptr<Database>>& closing) {
  while (lru_.size() > options_.max_open_databases) {
    CloseLocked(entries_[lru_.back()], closing);
  }
}

void NamespaceStore::CloseLocked(Entry& entry, std::vector<std::shared_ptr<Database>>& closing) {
  if (entry.open == nullptr) {
    return;
  }
  entry.last_used_ms = entry.open->last_used_ms();
  closing.push_back(std::move(entry.open));
  entry.open = nullptr;
  lru_.erase(entry.lru_position);
}

void NamespaceStore::WriteLastUsedLocked(const std::string& name, int64_t last_used_ms) {
  auto stmt = meta_->Prepare("UPDATE namespaces SET last_used_ms = ?2 WHERE name = ?1");
  if (!stmt.ok()) {
    return;  // last-use times are advisory; never fail a request over them
  }
  sqlite3_bind_text(stmt->get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(stmt->get(), 2, last_used_ms);
  sqlite3_step(stmt->get());
}

size_t NamespaceStore::open_count() {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

void NamespaceStore::Flush() {
  std::lock_guard lock(mutex_);
  std::lock_guard meta_lock(meta_mutex_);
  meta_->Exec("BEGIN").PermitUncheckedError();
  for (auto& [name, entry] : entries_) {
    if (entry.open != nullptr) {
      entry.last_used_ms = entry.open->last_used_ms();
    }
    if (entry.last_used_ms != 0) {
      WriteLastUsedLocked(name, entry.last_used_ms);
    }
  }
  meta_->Exec("COMMIT").PermitUncheckedError();
}

}  // namespace quarry::storage
