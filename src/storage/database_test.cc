#include "storage/database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <latch>
#include <optional>
#include <thread>

namespace quarry::storage {
namespace {
namespace fs = std::filesystem;

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() /
            ("quarry-db-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    fs::remove(path_);
    ConnectionOptions options;
    options.durability = Durability::kFull;
    ASSERT_TRUE(Connection::Open(path_, options, true).ok());
    db_ = std::make_shared<Database>("t", path_, options, 4);
    Exec(
        "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
        "CREATE TABLE child(p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);"
        "INSERT INTO parent VALUES (1);"
        "CREATE TABLE t(x INTEGER UNIQUE);"
        "CREATE TABLE guard(x);"
        "CREATE TRIGGER abort_all BEFORE INSERT ON guard BEGIN SELECT RAISE(ROLLBACK, 'no'); END;");
  }
  void TearDown() override {
    db_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      fs::remove(path_.string() + suffix);
    }
  }
  void Exec(const std::string& sql) {
    auto conn = db_->Acquire(AccessMode::kSystem);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)->Exec(sql).ok());
  }
  int64_t Count() {
    auto conn = db_->Acquire(AccessMode::kSystem);
    auto stmt = (*conn)->Prepare("SELECT count(*) FROM t");
    EXPECT_EQ(sqlite3_step(stmt->get()), SQLITE_ROW);
    return sqlite3_column_int64(stmt->get(), 0);
  }
  static Database::GroupWork Insert(const std::string& sql) {
    return [sql](Connection& conn) { return conn.Exec(sql); };
  }

  fs::path path_;
  std::shared_ptr<Database> db_;
};

// Runs `first` as a lone group that blocks until the other writes are queued behind it, so
// those are certain to share the next group.
std::vector<Status> RunAsOneGroup(Database& db, const std::vector<std::string>& sqls) {
  std::latch queued(1);
  std::thread leader([&] {
    ASSERT_TRUE(db.RunGrouped([&](Connection& conn) {
                    queued.wait();
                    return Status::Ok();
                  }).ok());
  });
  while (db.group_commits() == 0 && !db.group_leader_busy_for_test()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::vector<Status> results(sqls.size());
  std::vector<std::thread> writers;
  for (size_t i = 0; i < sqls.size(); ++i) {
    writers.emplace_back([&, i] {
      results[i] = db.RunGrouped([&, i](Connection& conn) { return conn.Exec(sqls[i]); });
    });
  }
  while (db.queued_for_test() < sqls.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  uint64_t before = db.group_commits();
  queued.count_down();
  leader.join();
  for (auto& t : writers) {
    t.join();
  }
  EXPECT_EQ(db.group_commits() - before, 2u) << "the writes should have shared one group";
  return results;
}

TEST_F(DatabaseTest, ADeferredForeignKeyViolationFailsOnlyItsWrite) {
  auto results = RunAsOneGroup(*db_, {"INSERT INTO t VALUES (1)", "INSERT INTO child VALUES (42)",
                                      "INSERT INTO child VALUES (1)", "INSERT INTO t VALUES (2)"});
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_EQ(results[1].sqlite_code(), SQLITE_CONSTRAINT_FOREIGNKEY) << results[1].ToString();
  EXPECT_TRUE(results[2].ok()) << results[2].ToString();
  EXPECT_TRUE(results[3].ok()) << results[3].ToString();
  EXPECT_EQ(Count(), 2);
}

TEST_F(DatabaseTest, GroupedWritesReplayAfterOneEndsTheTransaction) {
  auto results = RunAsOneGroup(*db_, {"INSERT INTO t VALUES (1)", "INSERT INTO guard VALUES (1)",
                                      "INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (1)"});
  // Writes 0 and 3 insert the same key; they queue in either order, so exactly one wins.
  EXPECT_NE(results[0].ok(), results[3].ok());
  const Status& loser = results[0].ok() ? results[3] : results[0];
  EXPECT_EQ(loser.sqlite_code() & 0xff, SQLITE_CONSTRAINT) << loser.ToString();
  EXPECT_FALSE(results[1].ok());
  EXPECT_TRUE(results[2].ok());
  EXPECT_EQ(Count(), 2);
}

TEST_F(DatabaseTest, ConcurrentWritesEachKeepTheirOwnResult) {
  constexpr int kWriters = 64;
  std::vector<Status> results(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      // Writers 0 and 1 insert the same value: exactly one of them must fail, alone.
      int value = i == 1 ? 0 : i;
      results[i] = db_->RunGrouped(Insert("INSERT INTO t VALUES (" + std::to_string(value) + ")"));
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  int failures = 0;
  for (int i = 0; i < kWriters; ++i) {
    if (!results[i].ok()) {
      ++failures;
      EXPECT_LE(i, 1);
      EXPECT_EQ(results[i].sqlite_code() & 0xff, SQLITE_CONSTRAINT);
    }
  }
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(Count(), kWriters - 1);
}

TEST_F(DatabaseTest, AWriteThatEndsTheTransactionFailsAlone) {
  std::vector<Status> results(30);
  std::vector<std::thread> threads;
  for (int i = 0; i < 30; ++i) {
    threads.emplace_back([&, i] {
      std::string sql = i % 10 == 5 ? "INSERT INTO guard VALUES (1)"
                                    : "INSERT INTO t VALUES (" + std::to_string(i) + ")";
      results[i] = db_->RunGrouped(Insert(sql));
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(results[i].ok(), i % 10 != 5) << i << ": " << results[i].ToString();
  }
  EXPECT_EQ(Count(), 27);
}

// Writes submitted inside a GroupBatch wait for its end and then commit as one group, each with
// its own result (a failing one alone fails), on the thread that ends the batch.
TEST_F(DatabaseTest, WritesSubmittedInOneGroupBatchCommitAsOneGroup) {
  uint64_t before = db_->group_commits();
  std::vector<std::optional<Status>> results(6);
  {
    Database::GroupBatch batch;
    for (int i = 0; i < 6; ++i) {
      std::string sql = i == 3 ? "INSERT INTO t VALUES (0)"  // a duplicate of write 0
                               : "INSERT INTO t VALUES (" + std::to_string(i) + ")";
      db_->SubmitGrouped(Insert(sql), [&results, i](Status status) { results[i] = status; });
    }
    EXPECT_EQ(db_->queued_for_test(), 6u) << "nothing runs before the batch ends";
    EXPECT_FALSE(results[0].has_value());
  }
  EXPECT_EQ(db_->group_commits() - before, 1u);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(results[i].has_value()) << i;
    EXPECT_EQ(results[i]->ok(), i != 3) << i << ": " << results[i]->ToString();
  }
  EXPECT_EQ(Count(), 5);
  // Without a batch, a lone write leads its own group at once.
  std::optional<Status> alone;
  db_->SubmitGrouped(Insert("INSERT INTO t VALUES (99)"), [&](Status status) { alone = status; });
  ASSERT_TRUE(alone.has_value());
  EXPECT_TRUE(alone->ok());
}

}  // namespace
}  // namespace quarry::storage

namespace quarry::storage {
namespace {

class RecordingObserver : public ChangeObserver {
 public:
  void OnCommit(const CommittedChanges& committed) override {
    for (RowChange& change : committed.changes.Decode()) {
      changes.push_back(std::move(change));
    }
  }
  std::vector<RowChange> changes;
};

TEST_F(DatabaseTest, CapturedChangesCarryTheRowsBeforeAndAfterAndTheColumnNames) {
  RecordingObserver observer;
  // A Database of its own: the observer is set before its first connection opens.
  auto db = std::make_shared<Database>("t", path_, ConnectionOptions{}, 4);
  db->SetChangeObserver(&observer);
  auto exec = [&](const std::string& sql) {
    auto conn = db->Acquire(AccessMode::kSystem);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)->Exec(sql).ok()) << sql;
  };
  exec(
      "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, "
      "upper TEXT GENERATED ALWAYS AS (upper(name)) VIRTUAL, data BLOB);"
      "INSERT INTO items(id, name, data) VALUES (7, 'a', x'00ff');"
      "UPDATE items SET name = 'b' WHERE id = 7;"
      "DELETE FROM items WHERE id = 7;");
  ASSERT_EQ(observer.changes.size(), 3u);
  const RowChange& insert = observer.changes[0];
  ASSERT_NE(insert.columns, nullptr);
  EXPECT_EQ(*insert.columns, (std::vector<std::string>{"id", "name", "data", "upper"}))
      << "the record's order: a VIRTUAL generated column comes last";
  ASSERT_EQ(insert.new_values.size(), 4u);
  EXPECT_EQ(insert.new_values[0].integer, 7) << "the rowid alias reads as the row's key";
  EXPECT_EQ(insert.new_values[1].bytes, "a");
  EXPECT_EQ(insert.new_values[2].type, Value::Type::kBlob);
  EXPECT_EQ(insert.new_values[2].bytes, std::string("\0\xff", 2));
  EXPECT_EQ(insert.new_values[3].type, Value::Type::kNull) << "a VIRTUAL column is not stored";
  EXPECT_TRUE(insert.old_values.empty());
  const RowChange& update = observer.changes[1];
  EXPECT_EQ(update.old_values.at(1).bytes, "a");
  EXPECT_EQ(update.new_values.at(1).bytes, "b");
  EXPECT_EQ(update.columns, insert.columns) << "one list per table shape, shared";
  const RowChange& remove = observer.changes[2];
  EXPECT_EQ(remove.old_values.at(1).bytes, "b");
  EXPECT_TRUE(remove.new_values.empty());
  // A new shape is named as such.
  exec("ALTER TABLE items ADD COLUMN extra INTEGER; INSERT INTO items(id, extra) VALUES (8, 1);");
  ASSERT_EQ(observer.changes.size(), 4u);
  EXPECT_EQ(observer.changes[3].columns->at(3), "extra");
  EXPECT_EQ(observer.changes[3].new_values.size(), 5u);
}

TEST_F(DatabaseTest, CapturingTextLeavesItTextInTheTable) {
  // The capture reads TEXT in place, which marks the hook's value as a blob too: only SQLite's
  // copies may be read so, never what is written or what a trigger reads after it.
  RecordingObserver observer;
  auto db = std::make_shared<Database>("t", path_, ConnectionOptions{}, 4);
  db->SetChangeObserver(&observer);
  auto conn = db->Acquire(AccessMode::kSystem);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)
                  ->Exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, v TEXT, w);"
                         "CREATE TABLE seen(kind TEXT);"
                         "CREATE TRIGGER notes_seen AFTER UPDATE ON notes BEGIN "
                         "INSERT INTO seen VALUES (typeof(new.v) || typeof(new.w) || "
                         "(new.v = 'updated inserted') || (new.w > x'00')); END;"
                         "INSERT INTO notes VALUES (1, 'inserted', 'x');"
                         "UPDATE notes SET v = 'updated ' || v, w = 'y' WHERE id = 1;"
                         "INSERT INTO notes SELECT 2, v, w FROM notes;"
                         "DELETE FROM notes WHERE id = 2;")
                  .ok());
  auto types = (*conn)->Prepare("SELECT typeof(v) || typeof(w), v FROM notes WHERE id = 1");
  ASSERT_TRUE(types.ok());
  ASSERT_EQ(sqlite3_step(types->get()), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(types->get(), 0)), "texttext");
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(types->get(), 1)),
               "updated inserted");
  auto seen = (*conn)->Prepare("SELECT kind FROM seen");
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(sqlite3_step(seen->get()), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(seen->get(), 0)), "texttext10")
      << "what the AFTER trigger read from the new row's registers";
  ASSERT_EQ(observer.changes.size(), 5u);  // the trigger's insert into seen too
  EXPECT_EQ(observer.changes[1].new_values.at(1).bytes, "updated inserted");
  EXPECT_EQ(observer.changes[1].new_values.at(1).type, Value::Type::kText);
  EXPECT_EQ(observer.changes[3].new_values.at(2).bytes, "y");
  EXPECT_EQ(observer.changes[4].old_values.at(1).type, Value::Type::kText);
}

TEST_F(DatabaseTest, CapturesTheTextOfADatabaseMadeElsewhereInUtf16) {
  fs::path other = path_.string() + ".utf16.db";
  fs::remove(other);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "PRAGMA encoding = 'UTF-16le'; PRAGMA journal_mode = WAL;"
                         "CREATE TABLE notes(id INTEGER PRIMARY KEY, v TEXT)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  RecordingObserver observer;
  auto db = std::make_shared<Database>("u", other, ConnectionOptions{}, 4);
  db->SetChangeObserver(&observer);
  {
    auto conn = db->Acquire(AccessMode::kSystem);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)
                    ->Exec("INSERT INTO notes VALUES (1, 'caf\xc3\xa9');"
                           "UPDATE notes SET v = v || '!' WHERE id = 1")
                    .ok());
  }
  ASSERT_EQ(observer.changes.size(), 2u);
  EXPECT_EQ(observer.changes[0].new_values.at(1).bytes, "caf\xc3\xa9");
  EXPECT_EQ(observer.changes[1].old_values.at(1).bytes, "caf\xc3\xa9");
  EXPECT_EQ(observer.changes[1].new_values.at(1).bytes, "caf\xc3\xa9!");
  db.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::remove(other.string() + suffix);
  }
}

// A Database of its own, its observer set before its first connection opens, and one of its
// connections held for the test.
class CaptureTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    capturing_ = std::make_shared<Database>("r", path_, ConnectionOptions{}, 4);
    capturing_->SetChangeObserver(&observer_);
    auto lease = capturing_->Acquire(AccessMode::kSystem);
    ASSERT_TRUE(lease.ok());
    lease_.emplace(std::move(*lease));
  }
  void TearDown() override {
    lease_.reset();
    capturing_.reset();
    DatabaseTest::TearDown();
  }
  Connection& conn() { return **lease_; }
  void Run(const std::string& sql) { ASSERT_TRUE(conn().Exec(sql).ok()) << sql; }
  // The column names of the last change captured (none when it has none).
  std::vector<std::string> LastColumns() const {
    return observer_.changes.empty() || observer_.changes.back().columns == nullptr
               ? std::vector<std::string>{}
               : *observer_.changes.back().columns;
  }

  RecordingObserver observer_;
  std::shared_ptr<Database> capturing_;
  std::optional<ConnectionLease> lease_;
};

using Names = std::vector<std::string>;

// Column names are cached per table and read again after a commit that may have altered or
// dropped a table, however the ALTER ran: through Step (a client's statement), stepped on the
// handle directly (as migrations run theirs), or from the statement cache after a rollback
// undid its first run (SQLite prepares it again then: a rolled-back schema change expires every
// statement, so the authorizer sees it again).
TEST_F(CaptureTest, ColumnNamesFollowRenamesWhicheverWayTheyRan) {
  Run("CREATE TABLE r(id INTEGER PRIMARY KEY, a TEXT)");
  Run("INSERT INTO r VALUES (1, 'x')");
  EXPECT_EQ(LastColumns(), (Names{"id", "a"}));

  Run("ALTER TABLE r RENAME COLUMN a TO b");
  Run("INSERT INTO r VALUES (2, 'y')");
  EXPECT_EQ(LastColumns(), (Names{"id", "b"})) << "renamed through Step";

  {
    auto stmt = Statement::Prepare(conn().handle(), "ALTER TABLE r RENAME COLUMN b TO c");
    ASSERT_TRUE(stmt.ok());
    ASSERT_EQ(sqlite3_step(stmt->get()), SQLITE_DONE);
  }
  Run("INSERT INTO r VALUES (3, 'z')");
  EXPECT_EQ(LastColumns(), (Names{"id", "c"})) << "renamed by a raw step";

  Run("BEGIN");
  Run("ALTER TABLE r RENAME COLUMN c TO d");
  Run("ROLLBACK");
  Run("INSERT INTO r VALUES (4, 'w')");
  EXPECT_EQ(LastColumns(), (Names{"id", "c"})) << "the rename was rolled back";
  Run("ALTER TABLE r RENAME COLUMN c TO d");  // the same text as the rolled-back one
  Run("INSERT INTO r VALUES (5, 'v')");
  EXPECT_EQ(LastColumns(), (Names{"id", "d"})) << "renamed by the statement run again";

  Run("DROP TABLE r");
  Run("CREATE TABLE r(k INTEGER PRIMARY KEY, e TEXT)");
  Run("INSERT INTO r VALUES (6, 'u')");
  EXPECT_EQ(LastColumns(), (Names{"k", "e"})) << "dropped and made again";
}

// A schema changed by another process (the sqlite3 shell on the file) is seen too: the
// server's statements are prepared again after it, which counts as a schema change.
TEST_F(CaptureTest, ColumnNamesFollowASchemaChangedByAnotherProcess) {
  Run("CREATE TABLE outside(id INTEGER PRIMARY KEY, a TEXT)");
  Run("INSERT INTO outside VALUES (1, 'x')");
  EXPECT_EQ(LastColumns(), (Names{"id", "a"}));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  sqlite3_busy_timeout(other, 5000);
  EXPECT_EQ(
      sqlite3_exec(other, "ALTER TABLE outside RENAME COLUMN a TO b", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(other);
  Run("INSERT INTO outside VALUES (2, 'y')");
  EXPECT_EQ(LastColumns(), (Names{"id", "b"}));
}

// ROLLBACK TRANSACTION name TO SAVEPOINT sp rolls back to the savepoint (SQLite ignores the
// transaction's name): its changes are not captured.
TEST_F(CaptureTest, RollbackToASavepointWithATransactionNameDropsItsChanges) {
  for (const char* sql :
       {"CREATE TABLE named(id INTEGER PRIMARY KEY)", "BEGIN", "SAVEPOINT a",
        "INSERT INTO named VALUES (1)", "ROLLBACK TRANSACTION work TO SAVEPOINT a",
        "INSERT INTO named VALUES (2)", "COMMIT"}) {
    Run(sql);
  }
  ASSERT_EQ(observer_.changes.size(), 1u);
  EXPECT_EQ(observer_.changes[0].new_values.at(0).integer, 2);
}

}  // namespace
}  // namespace quarry::storage
