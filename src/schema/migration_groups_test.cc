#include "schema/migration_groups.h"

#include <gtest/gtest.h>

#include "schema/migration_test_util.h"

namespace quarry::schema {
namespace {

using testing::OpenDb;
using testing::Query;
using testing::Snapshot;
using testing::Tables;
using testing::TempDir;

using Strings = std::vector<std::string>;

class GroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions options;
    options.data_dir = dir_ / "data";
    auto store = storage::NamespaceStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    for (const char* ns : {"tenant-a", "tenant-b", "tenant-c"}) {
      ASSERT_TRUE(store_->Create(ns).ok());
    }
  }
  storage::ConnectionLease Lease(const std::string& ns) {
    auto db = store_->Get(ns);
    EXPECT_TRUE(db.ok());
    auto lease = (*db)->Acquire(storage::AccessMode::kSystem);
    EXPECT_TRUE(lease.ok());
    return std::move(*lease);
  }

  TempDir dir_;
  std::unique_ptr<storage::NamespaceStore> store_;
};

MigrationSet TwoMigrations() {
  auto set = MakeMigrationSet(MigrationFormat::kQuarry,
                              {{"20240101000000_users", "CREATE TABLE users (id INTEGER);"},
                               {"20240102000000_posts", "CREATE TABLE posts (id INTEGER);"}});
  EXPECT_TRUE(set.ok());
  return std::move(*set);
}

TEST_F(GroupTest, StoreKeepsGroupsInItsOwnFile) {
  auto groups = GroupStore::Open(dir_ / "data" / "groups.db");
  ASSERT_TRUE(groups.ok()) << groups.status().message();
  ASSERT_TRUE((*groups)->Put("tenants", {"tenant-b", "tenant-a", "tenant-a"}).ok());
  auto members = (*groups)->Members("tenants");
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(*members, (Strings{"tenant-a", "tenant-b"}));
  ASSERT_TRUE((*groups)->Put("tenants", {"tenant-c"}).ok());
  EXPECT_EQ(*(*groups)->Members("tenants"), (Strings{"tenant-c"}));
  EXPECT_EQ((*groups)->List(), (Strings{"tenants"}));
  EXPECT_EQ((*groups)->Members("nope").status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE((*groups)->Put("Bad Name", {}).ok());
  EXPECT_FALSE((*groups)->Put("ok", {"Bad Name"}).ok());
  ASSERT_TRUE((*groups)->Delete("tenants").ok());
  EXPECT_EQ((*groups)->Delete("tenants").code(), ErrorCode::kNotFound);
}

TEST_F(GroupTest, AppliesToEveryMember) {
  GroupRun run = ApplyToGroup(*store_, {"tenant-a", "tenant-b", "tenant-c"}, TwoMigrations());
  ASSERT_TRUE(run.status.ok()) << run.status.message();
  ASSERT_EQ(run.namespaces.size(), 3u);
  for (const auto& member : run.namespaces) {
    EXPECT_EQ(member.applied_now.size(), 2u) << member.ns;
    ASSERT_EQ(member.statuses.size(), 2u);
    EXPECT_EQ(member.statuses[1].state, MigrationState::kApplied);
    EXPECT_EQ(Tables(*Lease(member.ns)), (Strings{"_quarry_migrations", "posts", "users"}));
  }
}

TEST_F(GroupTest, OneFailingMemberAppliesNowhere) {
  // tenant-b already has a conflicting posts table (and data that must survive).
  ASSERT_TRUE(
      Lease("tenant-b")->Exec("CREATE TABLE posts (x); INSERT INTO posts VALUES (7);").ok());
  std::string a_before = Snapshot(*Lease("tenant-a"));
  std::string b_before = Snapshot(*Lease("tenant-b"));
  std::string c_before = Snapshot(*Lease("tenant-c"));
  GroupRun run = ApplyToGroup(*store_, {"tenant-a", "tenant-b", "tenant-c"}, TwoMigrations());
  ASSERT_FALSE(run.status.ok());
  EXPECT_EQ(run.phase, "try");
  EXPECT_EQ(run.failed_namespace, "tenant-b");
  ASSERT_TRUE(run.failure.has_value());
  EXPECT_EQ(run.failure->migration_id, "20240102000000_posts");
  EXPECT_EQ(run.failure->statement, 1);
  EXPECT_NE(run.failure->message.find("table posts already exists"), std::string::npos);
  EXPECT_NE(run.status.message().find("nothing was applied"), std::string::npos);
  EXPECT_NE(run.status.message().find("tenant-b"), std::string::npos);
  EXPECT_EQ(Snapshot(*Lease("tenant-a")), a_before);
  EXPECT_EQ(Snapshot(*Lease("tenant-b")), b_before);
  EXPECT_EQ(Snapshot(*Lease("tenant-c")), c_before);
  ASSERT_EQ(run.namespaces.size(), 3u);
  for (const auto& member : run.namespaces) {
    EXPECT_TRUE(member.applied_now.empty());
    ASSERT_EQ(member.statuses.size(), 2u);
    EXPECT_EQ(member.statuses[0].state, MigrationState::kPending) << member.ns;
  }
}

TEST_F(GroupTest, MissingMemberAppliesNowhere) {
  GroupRun run = ApplyToGroup(*store_, {"tenant-a", "ghost"}, TwoMigrations());
  ASSERT_FALSE(run.status.ok());
  EXPECT_EQ(run.failed_namespace, "ghost");
  EXPECT_EQ(Tables(*Lease("tenant-a")), Strings{});
}

TEST_F(GroupTest, MembersAtDifferentPointsCatchUp) {
  MigrationSet set = TwoMigrations();
  MigrationSet first_only = set;
  first_only.migrations.pop_back();
  ASSERT_TRUE(ApplyToGroup(*store_, {"tenant-a"}, first_only).status.ok());
  GroupRun run = ApplyToGroup(*store_, {"tenant-a", "tenant-b"}, set);
  ASSERT_TRUE(run.status.ok()) << run.status.message();
  EXPECT_EQ(run.namespaces[0].applied_now, (Strings{"20240102000000_posts"}));
  EXPECT_EQ(run.namespaces[1].applied_now.size(), 2u);
}

}  // namespace
}  // namespace quarry::schema
