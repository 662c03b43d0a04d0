#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "client/admin_client.h"
#include "client/client.h"
#include "client/transport.h"
#include "client/url.h"
#include "test_server.h"

namespace quarry::client {
namespace {

using quarry::testing::TempDir;
using quarry::testing::TestServer;

class ClientIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    auto admin = AdminClient::Open(server_.url(), server_.AdminToken());
    ASSERT_TRUE(admin.ok()) << admin.status().message();
    admin_ = std::move(*admin);
  }

  // Creates namespace `ns` and returns an admin-token client for it.
  std::unique_ptr<Client> NewDatabase(const std::string& ns) {
    Status created = admin_->CreateNamespace(ns);
    EXPECT_TRUE(created.ok()) << created.message();
    return Connect(ns, server_.AdminToken());
  }

  std::unique_ptr<Client> Connect(const std::string& ns, const std::string& token) {
    auto client = Client::Open(server_.url(ns), token);
    EXPECT_TRUE(client.ok()) << client.status().message();
    return client.ok() ? std::move(*client) : nullptr;
  }

  int64_t Count(Client& client, const std::string& table) {
    auto rs = client.Execute("SELECT count(*) FROM " + table, {});
    EXPECT_TRUE(rs.ok()) << rs.status().message();
    if (!rs.ok() || rs->rows.size() != 1) {
      return -1;
    }
    return rs->rows[0][0].integer;
  }

  TestServer server_;
  std::unique_ptr<AdminClient> admin_;
};

TEST_F(ClientIntegrationTest, ExecuteBatchAndDescribe) {
  auto db = NewDatabase("app");
  ASSERT_TRUE(db);
  ASSERT_TRUE(
      db->ExecuteMultiple("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
                          "CREATE INDEX users_name ON users(name);")
          .ok());
  auto inserted = db->Execute("INSERT INTO users(name) VALUES (?)", {Text("ann")});
  ASSERT_TRUE(inserted.ok()) << inserted.status().message();
  EXPECT_EQ(inserted->rows_affected, 1);
  EXPECT_EQ(inserted->last_insert_rowid, 1);

  auto batch = db->Batch({Statement("INSERT INTO users(name) VALUES (?)", {Text("bob")}),
                          Statement("INSERT INTO users(name) VALUES (?)", {Text("cy")}),
                          Statement("SELECT name FROM users ORDER BY id")});
  ASSERT_TRUE(batch.ok()) << batch.status().message();
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ((*batch)[1].last_insert_rowid, 3);
  ASSERT_EQ((*batch)[2].rows.size(), 3u);
  EXPECT_EQ((*batch)[2].rows[2][0].bytes, "cy");
  EXPECT_EQ((*batch)[2].columns, std::vector<std::string>{"name"});

  // Atomic: the second statement fails, so the first is rolled back too.
  auto failed = db->Batch({Statement("INSERT INTO users(name) VALUES ('dan')"),
                           Statement("INSERT INTO users(name) VALUES ('ann')")});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().WireCode(), "SQLITE_CONSTRAINT");
  EXPECT_NE(failed.status().message().find("batch statement 1"), std::string::npos)
      << failed.status().message();
  EXPECT_EQ(Count(*db, "users"), 3);

  Statement named("SELECT :a + $b AS s");
  named.named_args = {{":a", Integer(2)}, {"$b", Integer(40)}};
  auto sum = db->Execute(named);
  ASSERT_TRUE(sum.ok()) << sum.status().message();
  EXPECT_EQ(sum->rows[0][0].integer, 42);

  auto description = db->Describe("SELECT id, name FROM users WHERE id = :id");
  ASSERT_TRUE(description.ok()) << description.status().message();
  EXPECT_EQ(description->columns, (std::vector<std::string>{"id", "name"}));
  ASSERT_EQ(description->params.size(), 1u);
  EXPECT_EQ(description->params[0], ":id");
  EXPECT_TRUE(description->is_readonly);
  EXPECT_EQ(description->decltypes[1], "TEXT");
}

TEST_F(ClientIntegrationTest, TransactionsCommitRollbackAndDrop) {
  auto db = NewDatabase("txn");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Execute("CREATE TABLE t(x)", {}).ok());
  {
    auto tx = db->BeginTransaction();
    ASSERT_TRUE(tx.ok()) << tx.status().message();
    ASSERT_TRUE(tx->Execute(Statement("INSERT INTO t VALUES (1)")).ok());
    // Uncommitted rows are invisible to other streams, visible inside the transaction.
    EXPECT_EQ(Count(*db, "t"), 0);
    auto inside = tx->Execute(Statement("SELECT count(*) FROM t"));
    ASSERT_TRUE(inside.ok());
    EXPECT_EQ(inside->rows[0][0].integer, 1);
    ASSERT_TRUE(tx->Commit().ok());
    EXPECT_FALSE(tx->Commit().ok());  // already finished
  }
  EXPECT_EQ(Count(*db, "t"), 1);
  {
    auto tx = db->BeginTransaction();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->Execute(Statement("INSERT INTO t VALUES (2)")).ok());
    ASSERT_TRUE(tx->Rollback().ok());
  }
  EXPECT_EQ(Count(*db, "t"), 1);
  {
    auto tx = db->BeginTransaction();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->Execute(Statement("INSERT INTO t VALUES (3)")).ok());
    // Dropped without Commit: rolled back, and the write lock is released at once.
  }
  EXPECT_EQ(Count(*db, "t"), 1);
  auto after = db->Execute("INSERT INTO t VALUES (4)", {});
  EXPECT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ(Count(*db, "t"), 2);
}

TEST_F(ClientIntegrationTest, ValuesRoundTrip) {
  auto db = NewDatabase("values");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Execute("CREATE TABLE v(id INTEGER PRIMARY KEY, x)", {}).ok());
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) {
    all_bytes += static_cast<char>(i);
  }
  std::vector<Value> values = {Integer(INT64_MIN),
                               Integer(INT64_MAX),
                               Integer(0),
                               Integer(-1),
                               Float(0.1),
                               Float(-2.5e-300),
                               Float(1.7976931348623157e308),
                               Text(""),
                               Text("héllo 世界 🚀 \"quoted\" \\ back"),
                               Blob(""),
                               Blob(all_bytes),
                               Null()};
  for (size_t i = 0; i < values.size(); ++i) {
    auto rs = db->Execute("INSERT INTO v(id, x) VALUES (?, ?)",
                          {Integer(static_cast<int64_t>(i)), values[i]});
    ASSERT_TRUE(rs.ok()) << i << ": " << rs.status().message();
  }
  auto rs = db->Execute("SELECT x, typeof(x) FROM v ORDER BY id", {});
  ASSERT_TRUE(rs.ok()) << rs.status().message();
  ASSERT_EQ(rs->rows.size(), values.size());
  const char* types[] = {"integer", "integer", "integer", "integer", "real", "real",
                         "real",    "text",    "text",    "blob",    "blob", "null"};
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_TRUE(SameValue(rs->rows[i][0], values[i]))
        << i << ": sent " << DebugString(values[i]) << ", got " << DebugString(rs->rows[i][0]);
    EXPECT_EQ(rs->rows[i][1].bytes, types[i]) << i;
  }
  auto sum = db->Execute("SELECT ? + 1", {Integer(INT64_MAX - 1)});
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->rows[0][0].integer, INT64_MAX);
}

TEST_F(ClientIntegrationTest, ConstraintErrorCarriesSqliteCode) {
  auto db = NewDatabase("errors");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Execute("CREATE TABLE u(id INTEGER PRIMARY KEY, e TEXT UNIQUE)", {}).ok());
  ASSERT_TRUE(db->Execute("INSERT INTO u(e) VALUES ('a')", {}).ok());
  auto dup = db->Execute("INSERT INTO u(e) VALUES ('a')", {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), ErrorCode::kSqlite);
  EXPECT_EQ(dup.status().WireCode(), "SQLITE_CONSTRAINT");
  EXPECT_NE(dup.status().message().find("UNIQUE"), std::string::npos) << dup.status().message();
  auto syntax = db->Execute("SELEC 1", {});
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().WireCode(), "SQLITE_ERROR");
}

TEST_F(ClientIntegrationTest, NamespacesAreIsolated) {
  auto a = NewDatabase("iso-a");
  auto b = NewDatabase("iso-b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Execute("CREATE TABLE only_a(x)", {}).ok());
  auto missing = b->Execute("SELECT * FROM only_a", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no such table"), std::string::npos);
  auto absent = Connect("never-created", server_.AdminToken())->Execute("SELECT 1", {});
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.status().code(), ErrorCode::kNamespaceNotFound) << absent.status().message();
}

TEST_F(ClientIntegrationTest, TokensLimitAccess) {
  auto db = NewDatabase("guarded");
  ASSERT_TRUE(db);
  ASSERT_TRUE(admin_->CreateNamespace("other").ok());
  ASSERT_TRUE(db->ExecuteMultiple("CREATE TABLE t(x); INSERT INTO t VALUES (1);").ok());

  TokenRequest ro_request;
  ro_request.namespaces = {"guarded"};
  ro_request.access = "ro";
  ro_request.expires_in = 600;
  auto ro_token = admin_->CreateToken(ro_request);
  ASSERT_TRUE(ro_token.ok()) << ro_token.status().message();
  auto ro = Connect("guarded", *ro_token);
  auto read = ro->Execute("SELECT x FROM t", {});
  ASSERT_TRUE(read.ok()) << read.status().message();
  auto write = ro->Execute("INSERT INTO t VALUES (2)", {});
  EXPECT_FALSE(write.ok());
  auto batch = ro->Batch({Statement("DELETE FROM t")});
  EXPECT_FALSE(batch.ok());
  EXPECT_EQ(Count(*db, "t"), 1);

  TokenRequest rw_request;
  rw_request.namespaces = {"guarded"};
  auto rw_token = admin_->CreateToken(rw_request);
  ASSERT_TRUE(rw_token.ok());
  EXPECT_TRUE(Connect("guarded", *rw_token)->Execute("INSERT INTO t VALUES (3)", {}).ok());
  auto elsewhere = Connect("other", *rw_token)->Execute("SELECT 1", {});
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.status().code(), ErrorCode::kForbidden) << elsewhere.status().message();
  auto not_admin = AdminClient::Open(server_.url(), *rw_token);
  ASSERT_TRUE(not_admin.ok());
  EXPECT_EQ((*not_admin)->ListNamespaces().status().code(), ErrorCode::kForbidden);

  auto anonymous = Connect("guarded", "")->Execute("SELECT 1", {});
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.status().code(), ErrorCode::kUnauthorized);
  auto forged = Connect("guarded", *rw_token + "x")->Execute("SELECT 1", {});
  EXPECT_EQ(forged.status().code(), ErrorCode::kUnauthorized);
}

TEST_F(ClientIntegrationTest, BatonIsSingleUse) {
  ASSERT_TRUE(admin_->CreateNamespace("batons").ok());
  auto url = ParseClientUrl(server_.url("batons"));
  ASSERT_TRUE(url.ok());
  auto transport = MakeHttpTransport(*url, server_.AdminToken());
  auto baton_of = [](const std::string& body) {
    auto parsed = boost::json::parse(body);
    const auto& baton = parsed.as_object().at("baton");
    return baton.is_string() ? std::string(baton.as_string()) : std::string();
  };
  const std::string select = R"("requests":[{"type":"execute","stmt":{"sql":"SELECT 1"}}]})";
  auto first = transport->Pipeline(R"({"baton":null,)" + select);
  ASSERT_TRUE(first.ok()) << first.status().message();
  std::string b1 = baton_of(*first);
  ASSERT_FALSE(b1.empty());
  auto second = transport->Pipeline(R"({"baton":")" + b1 + R"(",)" + select);
  ASSERT_TRUE(second.ok()) << second.status().message();
  std::string b2 = baton_of(*second);
  EXPECT_NE(b1, b2);
  auto reused = transport->Pipeline(R"({"baton":")" + b1 + R"(",)" + select);
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.status().code(), ErrorCode::kStreamExpired) << reused.status().message();
  auto close = transport->Pipeline(R"({"baton":")" + b2 + R"(","requests":[{"type":"close"}]})");
  EXPECT_TRUE(close.ok()) << close.status().message();
}

TEST_F(ClientIntegrationTest, ForkWhileWriting) {
  auto src = NewDatabase("fork-src");
  ASSERT_TRUE(src);
  ASSERT_TRUE(src->Execute("CREATE TABLE log(id INTEGER PRIMARY KEY, payload TEXT)", {}).ok());
  constexpr int kRows = 300;
  std::atomic<int> written{0};
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    auto client = Client::Open(server_.url("fork-src"), server_.AdminToken());
    if (!client.ok()) {
      failed = true;
      return;
    }
    for (int i = 0; i < kRows; ++i) {
      if (!(*client)
               ->Execute("INSERT INTO log(payload) VALUES (?)", {Text(std::string(200, 'p'))})
               .ok()) {
        failed = true;
        return;
      }
      written = i + 1;
    }
  });
  while (written < 20 && !failed) {
    std::this_thread::yield();
  }
  Status forked = admin_->ForkNamespace("fork-src", "fork-dst");
  writer.join();
  ASSERT_TRUE(forked.ok()) << forked.message();
  ASSERT_FALSE(failed.load());
  auto dst = Connect("fork-dst", server_.AdminToken());
  int64_t copied = Count(*dst, "log");
  EXPECT_GE(copied, 20);
  EXPECT_LE(copied, kRows);
  auto check = dst->Execute("PRAGMA integrity_check", {});
  ASSERT_TRUE(check.ok()) << check.status().message();
  EXPECT_EQ(check->rows[0][0].bytes, "ok");
  EXPECT_EQ(Count(*src, "log"), kRows);
  // The copy is independent of its source.
  ASSERT_TRUE(dst->Execute("DELETE FROM log", {}).ok());
  EXPECT_EQ(Count(*src, "log"), kRows);
}

TEST_F(ClientIntegrationTest, DeleteNamespaceMidTransaction) {
  auto db = NewDatabase("doomed");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Execute("CREATE TABLE t(x)", {}).ok());
  auto tx = db->BeginTransaction();
  ASSERT_TRUE(tx.ok()) << tx.status().message();
  ASSERT_TRUE(tx->Execute(Statement("INSERT INTO t VALUES (1)")).ok());
  Status deleted = admin_->DeleteNamespace("doomed");
  ASSERT_TRUE(deleted.ok()) << deleted.message();
  auto next = tx->Execute(Statement("INSERT INTO t VALUES (2)"));
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.status().message().find("doomed"), std::string::npos) << next.status().message();
  EXPECT_FALSE(tx->Commit().ok());
  auto gone = db->Execute("SELECT 1", {});
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), ErrorCode::kNamespaceNotFound) << gone.status().message();
  // The server keeps serving other namespaces, and the name can be reused from scratch.
  auto other = Connect("default", server_.AdminToken())->Execute("SELECT 1", {});
  EXPECT_TRUE(other.ok()) << other.status().message();
  ASSERT_TRUE(admin_->CreateNamespace("doomed").ok());
  auto fresh = db->Execute("SELECT count(*) FROM sqlite_schema", {});
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_EQ(fresh->rows[0][0].integer, 0);
}

TEST_F(ClientIntegrationTest, AdminErrorsComeFromServer) {
  ASSERT_TRUE(admin_->CreateNamespace("dup").ok());
  Status again = admin_->CreateNamespace("dup");
  EXPECT_EQ(again.code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(again.message().find("already exists"), std::string::npos) << again.message();
  EXPECT_EQ(admin_->CreateNamespace("Bad Name").code(), ErrorCode::kInvalidName);
  EXPECT_EQ(admin_->DeleteNamespace("nope").code(), ErrorCode::kNamespaceNotFound);
  auto list = admin_->ListNamespaces();
  ASSERT_TRUE(list.ok());
  bool found = false;
  for (const auto& ns : *list) {
    found = found || (ns.name == "dup" && ns.created_at_ms > 0);
  }
  EXPECT_TRUE(found);
}

TEST(LocalModeTest, FileRoundTripWithoutServer) {
  TempDir dir;
  std::string url = "file:" + (dir.path() / "app.db").string();
  {
    auto client = Client::Open(url, "");
    ASSERT_TRUE(client.ok()) << client.status().message();
    Client& db = **client;
    ASSERT_TRUE(db.Execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v)", {}).ok());
    auto batch = db.Batch({Statement("INSERT INTO t(v) VALUES (?)", {Blob(std::string("\0a", 2))}),
                           Statement("INSERT INTO t(v) VALUES (?)", {Integer(INT64_MIN)})});
    ASSERT_TRUE(batch.ok()) << batch.status().message();
    auto tx = db.BeginTransaction();
    ASSERT_TRUE(tx.ok()) << tx.status().message();
    ASSERT_TRUE(tx->Execute(Statement("INSERT INTO t(v) VALUES ('rolled back')")).ok());
    ASSERT_TRUE(tx->Rollback().ok());
    auto dup = db.Execute("INSERT INTO t(id) VALUES (1)", {});
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.status().WireCode(), "SQLITE_CONSTRAINT");
  }
  auto reopened = Client::Open(url, "");
  ASSERT_TRUE(reopened.ok());
  auto rs = (*reopened)->Execute("SELECT v FROM t ORDER BY id", {});
  ASSERT_TRUE(rs.ok()) << rs.status().message();
  ASSERT_EQ(rs->rows.size(), 2u);
  EXPECT_TRUE(SameValue(rs->rows[0][0], Blob(std::string("\0a", 2))));
  EXPECT_TRUE(SameValue(rs->rows[1][0], Integer(INT64_MIN)));
}

}  // namespace
}  // namespace quarry::client
