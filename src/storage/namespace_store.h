#pragma once

// NamespaceStore: the data folder. It owns the metadata database (which namespaces exist,
// when they were created and last used) and one SQLite file per namespace, and keeps an LRU of
// open databases so that any number of namespaces work with bounded memory and file
// descriptors. Thread-safe.
//
// On-disk layout (see docs/on-disk-layout.md):
//   <data>/meta.db            metadata database
//   <data>/keys/              signing keys (owned by auth, created by the server)
//   <data>/ns/<name>/data.db  one namespace's database (+ -wal, -shm)

#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "storage/database.h"

namespace quarry::storage {

struct StoreOptions {
  std::filesystem::path data_dir = "quarry-data";
  // Foreign-key enforcement of a namespace created without saying (see docs/http-api.md):
  // on, as the production presets Quarry follows; sqld leaves it off.
  bool default_foreign_keys = true;
  size_t max_open_databases = 1000;
  size_t max_idle_connections_per_database = 4;
  size_t max_connections_per_database = 256;
  ConnectionOptions connection;
  // Sees every committed change of every namespace (change_observer.h); null for none. Must
  // outlive the store.
  ChangeObserver* change_observer = nullptr;
  // Removes a deleted namespace's folder (the filesystem seam; std::filesystem::remove_all when
  // empty). Called outside the store's locks: it may take long on a large namespace.
  std::function<std::error_code(const std::filesystem::path&)> remove_tree;
};

struct NamespaceInfo {
  std::string name;
  int64_t created_at_ms = 0;
  int64_t last_used_ms = 0;  // 0 when never used
  uint64_t size_bytes = 0;   // database file plus its WAL
  bool foreign_keys = true;  // SQLite enforces foreign keys on its connections
};

// Per-namespace settings, stored in the metadata database. Unset fields take the store's
// defaults at creation.
struct NamespaceSettings {
  std::optional<bool> foreign_keys;
};

class NamespaceStore {
 public:
  // Opens (creating when absent) the data folder and its metadata, and makes sure the
  // `default` namespace exists.
  static Result<std::unique_ptr<NamespaceStore>> Open(StoreOptions options);
  ~NamespaceStore();

  const std::filesystem::path& data_dir() const { return options_.data_dir; }
  // What a namespace created without saying gets.
  bool default_foreign_keys() const { return options_.default_foreign_keys; }
  std::filesystem::path keys_dir() const { return options_.data_dir / "keys"; }

  // kAlreadyExists when the name is taken, kInvalidName when it is not a valid name.
  Status Create(std::string_view name, const NamespaceSettings& settings = {});
  // Changes the settings given (unset fields stay); connections acquired afterwards use them.
  // kNamespaceNotFound when missing.
  Status Configure(std::string_view name, const NamespaceSettings& settings);
  // kNamespaceNotFound when missing. Streams using it see the deletion on their next request.
  // The files are removed without holding the store's lock, so other namespaces keep being
  // served meanwhile; the name stays taken until they are gone.
  Status Delete(std::string_view name);
  // A consistent copy of `from` (SQLite's online backup) taken while writes go on; the copy
  // has the same settings.
  Status Fork(std::string_view from, std::string_view to);
  std::vector<NamespaceInfo> List();
  bool Exists(std::string_view name);

  // The open database of a namespace, opening it on demand (and closing the least recently
  // used one beyond the limit). kNamespaceNotFound when the namespace does not exist.
  Result<std::shared_ptr<Database>> Get(std::string_view name);
  // The database of `name` when it is open now, else null (no opening, no eviction).
  std::shared_ptr<Database> GetIfOpen(std::string_view name);

  size_t open_count();
  // Writes in-memory last-use times to the metadata database.
  void Flush();

 private:
  struct Entry {
    int64_t created_at_ms = 0;
    int64_t last_used_ms = 0;
    bool foreign_keys = true;
    std::shared_ptr<Database> open;  // null when not open
    // The Database last handed out: it may outlive eviction while streams still use it, and
    // is then reused (one live object per name) and reached by Delete.
    std::weak_ptr<Database> last;
    std::list<std::string>::iterator lru_position;
  };

  explicit NamespaceStore(StoreOptions options, std::unique_ptr<Connection> meta);
  std::filesystem::path DatabasePath(std::string_view name) const;
  Status LoadMetadata();
  // Claims `name` for a namespace being made; kAlreadyExists when it exists or is being made.
  Status Reserve(const std::string& name);
  // Ends a reservation. When `made` is OK, records the namespace (metadata row, then entry);
  // otherwise, or when recording fails, removes its files. Returns the final status.
  Status Publish(const std::string& name, Status made, bool foreign_keys);
  Status CopyDatabase(std::string_view from, const std::filesystem::path& dest_path);
  Status InsertMetadata(std::string_view name, int64_t created_at_ms, bool foreign_keys);
  // Adds the columns later versions introduced to a metadata database made by an earlier one.
  static Status UpgradeMetadata(Connection& meta);
  // Drop databases from the LRU; their idle connections are closed by the caller after
  // releasing the lock (closing may checkpoint, which is disk work).
  void EvictLocked(std::vector<std::shared_ptr<Database>>& closing);
  void CloseLocked(Entry& entry, std::vector<std::shared_ptr<Database>>& closing);
  // Requires meta_mutex_.
  void WriteLastUsedLocked(const std::string& name, int64_t last_used_ms);

  const StoreOptions options_;
  // Lock order: mutex_ before meta_mutex_.
  std::mutex mutex_;
  std::mutex meta_mutex_;
  std::unique_ptr<Connection> meta_;                // GUARDED_BY(meta_mutex_)
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mutex_)
  std::list<std::string> lru_;  // open namespaces, most recent first; GUARDED_BY(mutex_)
  std::set<std::string, std::less<>> reserved_;  // names being forked into; GUARDED_BY(mutex_)
};

int64_t NowMs();

}  // namespace quarry::storage
