#include "storage/namespace_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

namespace quarry::storage {
namespace {
namespace fs = std::filesystem;

class NamespaceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("quarry-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<NamespaceStore> OpenStore(size_t max_open = 1000) {
    StoreOptions options;
    options.data_dir = dir_;
    options.max_open_databases = max_open;
    auto store = NamespaceStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return std::move(store).value();
  }

  static void Exec(NamespaceStore& store, const std::string& ns, const std::string& sql) {
    auto db = store.Get(ns);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto conn = (*db)->Acquire(AccessMode::kSystem);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    Status st = (*conn)->Exec(sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  static int64_t CountRows(NamespaceStore& store, const std::string& ns, const std::string& table) {
    auto conn = (*store.Get(ns))->Acquire(AccessMode::kSystem);
    auto stmt = (*conn)->Prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    EXPECT_EQ(sqlite3_step(stmt->get()), SQLITE_ROW);
    return sqlite3_column_int64(stmt->get(), 0);
  }

  fs::path dir_;
};

TEST_F(NamespaceStoreTest, DefaultNamespaceAlwaysExists) {
  auto store = OpenStore();
  EXPECT_TRUE(store->Exists("default"));
  EXPECT_EQ(store->Delete("default").code(), ErrorCode::kInvalidArgument);
}

TEST_F(NamespaceStoreTest, CreateListDelete) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create("shop").ok());
  EXPECT_EQ(store->Create("shop").code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(store->Create("Bad Name").code(), ErrorCode::kInvalidName);
  Exec(*store, "shop", "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  auto list = store->List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].name, "shop");
  EXPECT_GT(list[1].size_bytes, 0u);
  EXPECT_GT(list[1].last_used_ms, 0);
  ASSERT_TRUE(store->Delete("shop").ok());
  EXPECT_EQ(store->Delete("shop").code(), ErrorCode::kNamespaceNotFound);
  EXPECT_EQ(store->Get("shop").status().code(), ErrorCode::kNamespaceNotFound);
  EXPECT_FALSE(fs::exists(dir_ / "ns" / "shop"));
}

TEST_F(NamespaceStoreTest, NamespacesSurviveRestart) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Create("shop").ok());
    Exec(*store, "shop", "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)");
  }
  auto store = OpenStore();
  ASSERT_TRUE(store->Exists("shop"));
  EXPECT_EQ(CountRows(*store, "shop", "t"), 2);
}

TEST_F(NamespaceStoreTest, DeleteMarksOpenDatabaseDeleted) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create("shop").ok());
  auto db = store->Get("shop");
  ASSERT_TRUE(db.ok());
  auto lease = (*db)->Acquire(AccessMode::kSystem);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(store->Delete("shop").ok());
  EXPECT_TRUE((*db)->deleted());
  EXPECT_EQ((*db)->Acquire(AccessMode::kSystem).status().code(), ErrorCode::kNamespaceNotFound);
}

TEST_F(NamespaceStoreTest, DeleteReachesADatabaseEvictedWhileInUse) {
  // Regression: a stream kept using an evicted Database object, which Delete did not mark.
  auto store = OpenStore(/*max_open=*/1);
  ASSERT_TRUE(store->Create("a").ok());
  ASSERT_TRUE(store->Create("b").ok());
  auto a = store->Get("a");
  ASSERT_TRUE(a.ok());
  auto lease = (*a)->Acquire(AccessMode::kSystem);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(store->Get("b").ok());  // evicts a from the LRU while the lease is held
  auto again = store->Get("a");       // the same live object comes back, not a second one
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), a->get());
  ASSERT_TRUE(store->Get("b").ok());
  ASSERT_TRUE(store->Delete("a").ok());
  EXPECT_TRUE((*a)->deleted());
}

TEST_F(NamespaceStoreTest, ForkCopiesWhileWritesGoOn) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create("src").ok());
  Exec(*store, "src", "CREATE TABLE t(x INTEGER)");
  Exec(*store, "src",
       "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) "
       "INSERT INTO t SELECT x FROM c");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto conn = (*store->Get("src"))->Acquire(AccessMode::kSystem);
    while (!stop.load()) {
      ASSERT_TRUE((*conn)->Exec("INSERT INTO t VALUES (0)").ok());
    }
  });
  Status forked = store->Fork("src", "copy");
  stop.store(true);
  writer.join();
  ASSERT_TRUE(forked.ok()) << forked.ToString();
  EXPECT_GE(CountRows(*store, "copy", "t"), 5000);
  EXPECT_EQ(store->Fork("src", "copy").code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(store->Fork("missing", "other").code(), ErrorCode::kNamespaceNotFound);
}

TEST_F(NamespaceStoreTest, ConcurrentCreatesOfOneNameSucceedOnce) {
  auto store = OpenStore();
  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&, i] {
      Status st = store->Create("tenant" + std::to_string(i % 8));
      (st.ok() ? created : refused).fetch_add(1);
      if (!st.ok()) {
        EXPECT_EQ(st.code(), ErrorCode::kAlreadyExists) << st.ToString();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(created.load(), 8);
  EXPECT_EQ(refused.load(), 24);
  EXPECT_EQ(store->List().size(), 9u);
}

TEST_F(NamespaceStoreTest, LruBoundsOpenDatabases) {
  auto store = OpenStore(/*max_open=*/8);
  for (int i = 0; i < 50; ++i) {
    std::string name = "ns" + std::to_string(i);
    ASSERT_TRUE(store->Create(name).ok());
    Exec(*store, name, "CREATE TABLE t(x); INSERT INTO t VALUES (" + std::to_string(i) + ")");
    EXPECT_LE(store->open_count(), 8u);
  }
  EXPECT_EQ(CountRows(*store, "ns3", "t"), 1);
}

// Issue 6, defect 7: Delete removed the namespace's folder while holding the store's lock, so
// deleting a large namespace stalled every request to every other namespace.
TEST_F(NamespaceStoreTest, DeleteRemovesFilesWithoutStallingOtherNamespaces) {
  StoreOptions options;
  options.data_dir = dir_;
  std::atomic<bool> other_served{false};
  NamespaceStore* store_ptr = nullptr;
  options.remove_tree = [&](const fs::path& folder) {
    // While the files go, another namespace must be served (from another thread, as a
    // request would be), and the deleted name must not be taken again yet.
    auto served = std::async(std::launch::async, [&] {
      auto db = store_ptr->Get("other");
      return db.ok() && (*db)->Acquire(AccessMode::kSystem).ok() && store_ptr->List().size() == 2;
    });
    if (served.wait_for(std::chrono::seconds(30)) == std::future_status::ready) {
      other_served = served.get();
    }
    EXPECT_EQ(store_ptr->Create("big").code(), ErrorCode::kAlreadyExists);
    std::error_code ec;
    fs::remove_all(folder, ec);
    return ec;
  };
  auto store = NamespaceStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ptr = store->get();
  ASSERT_TRUE((*store)->Create("big").ok());
  ASSERT_TRUE((*store)->Create("other").ok());
  ASSERT_TRUE((*store)->Delete("big").ok());
  EXPECT_TRUE(other_served);
  EXPECT_FALSE((*store)->Exists("big"));
  EXPECT_FALSE(fs::exists(dir_ / "ns" / "big"));
  EXPECT_TRUE((*store)->Create("big").ok());  // the name is free again once the files are gone
}

int ForeignKeysOf(NamespaceStore& store, const std::string& ns) {
  auto conn = (*store.Get(ns))->Acquire(AccessMode::kSystem);
  EXPECT_TRUE(conn.ok());
  auto stmt = (*conn)->Prepare("PRAGMA foreign_keys");
  EXPECT_TRUE(stmt.ok());
  EXPECT_EQ(sqlite3_step(stmt->get()), SQLITE_ROW);
  return sqlite3_column_int(stmt->get(), 0);
}

bool ListedForeignKeys(NamespaceStore& store, const std::string& ns) {
  for (const auto& info : store.List()) {
    if (info.name == ns) {
      return info.foreign_keys;
    }
  }
  ADD_FAILURE() << ns << " not listed";
  return false;
}

TEST_F(NamespaceStoreTest, ForeignKeysArePerNamespaceStoredAndChangeable) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Create("strict").ok());
    NamespaceSettings off;
    off.foreign_keys = false;
    ASSERT_TRUE(store->Create("loose", off).ok());
    EXPECT_EQ(ForeignKeysOf(*store, "strict"), 1);  // the default
    EXPECT_EQ(ForeignKeysOf(*store, "loose"), 0);
    EXPECT_FALSE(ListedForeignKeys(*store, "loose"));
    ASSERT_TRUE(store->Fork("loose", "loose-copy").ok());
    EXPECT_EQ(ForeignKeysOf(*store, "loose-copy"), 0);
    // A pooled connection picks the change up on its next use.
    NamespaceSettings on;
    on.foreign_keys = true;
    ASSERT_TRUE(store->Configure("loose", on).ok());
    EXPECT_EQ(ForeignKeysOf(*store, "loose"), 1);
    EXPECT_EQ(store->Configure("nope", on).code(), ErrorCode::kNamespaceNotFound);
    ASSERT_TRUE(store->Configure("strict", off).ok());
  }
  auto store = OpenStore();  // persisted in the metadata database
  EXPECT_EQ(ForeignKeysOf(*store, "strict"), 0);
  EXPECT_EQ(ForeignKeysOf(*store, "loose"), 1);
  EXPECT_EQ(ForeignKeysOf(*store, "loose-copy"), 0);
}

TEST_F(NamespaceStoreTest, MetadataFromBeforeTheForeignKeySettingKeepsThemOn) {
  fs::create_directories(dir_ / "ns" / "old");
  {
    auto meta = Connection::Open(dir_ / "meta.db", ConnectionOptions{}, true);
    ASSERT_TRUE(meta.ok());
    ASSERT_TRUE((*meta)
                    ->Exec("CREATE TABLE namespaces (name TEXT PRIMARY KEY, created_at_ms INTEGER "
                           "NOT NULL, last_used_ms INTEGER NOT NULL DEFAULT 0) STRICT;"
                           "INSERT INTO namespaces (name, created_at_ms) VALUES ('old', 1)")
                    .ok());
    ASSERT_TRUE(Connection::Open(dir_ / "ns" / "old" / "data.db", ConnectionOptions{}, true).ok());
  }
  auto store = OpenStore();
  EXPECT_EQ(ForeignKeysOf(*store, "old"), 1);
  EXPECT_TRUE(ListedForeignKeys(*store, "old"));
}

}  // namespace
}  // namespace quarry::storage
