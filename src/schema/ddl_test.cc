#include "schema/ddl.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <regex>

#include "schema/binder.h"
#include "schema/parser.h"
#include "storage/connection.h"

namespace quarry::schema {
namespace {

// An in-memory database holding the DDL of `schema_text`, opened as the server opens one.
class Db {
 public:
  explicit Db(const std::string& schema_text) {
    auto conn = storage::Connection::Open(":memory:", storage::ConnectionOptions{}, true);
    EXPECT_TRUE(conn.ok()) << conn.status().message();
    if (!conn.ok()) return;
    conn_ = std::move(*conn);
    db_ = conn_->handle();
    Exec("PRAGMA foreign_keys = ON");  // the cases check foreign-key actions
    auto file = ParseSchema(schema_text, "t.schema");
    EXPECT_TRUE(file.ok()) << file.status().message();
    if (!file.ok()) return;
    ast::Program program;
    program.files.push_back(std::move(*file));
    auto schema = BindSchema(program);
    EXPECT_TRUE(schema.ok()) << schema.status().message();
    if (!schema.ok()) return;
    for (const auto& statement : GenerateDdl(*schema)) {
      EXPECT_EQ(Exec(statement), "") << statement;
    }
  }

  // "" on success, else SQLite's message.
  std::string Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return "";
    std::string out = message != nullptr ? message : "?";
    sqlite3_free(message);
    return out;
  }

  // The first column of every row.
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    Result<storage::Statement> prepared = storage::Statement::Prepare(db_, sql);
    EXPECT_TRUE(prepared.ok()) << sql;
    if (!prepared.ok()) return out;
    sqlite3_stmt* stmt = prepared->get();
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      out.push_back(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
    }
    return out;
  }

 private:
  std::unique_ptr<storage::Connection> conn_;
  sqlite3* db_ = nullptr;
};

TEST(DdlTest, GeneratedIdsHaveTheirFormats) {
  Db db(R"s(
    model things {
      id   Text     @id @default(uuid())
      key  Text     @default(ulid())
      at   DateTime @default(now())
      n    Integer
    })s");
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(db.Exec("INSERT INTO things (n) VALUES (" + std::to_string(i) + ")"), "");
  }
  std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::regex ulid("^[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  std::regex iso("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$");
  auto ids = db.Column("SELECT id FROM things");
  ASSERT_EQ(ids.size(), 50u);
  for (const auto& id : ids) EXPECT_TRUE(std::regex_match(id, uuid)) << id;
  EXPECT_EQ(db.Column("SELECT count(DISTINCT id) FROM things"), std::vector<std::string>{"50"});
  for (const auto& key : db.Column("SELECT key FROM things")) {
    EXPECT_TRUE(std::regex_match(key, ulid)) << key;
  }
  for (const auto& at : db.Column("SELECT at FROM things")) {
    EXPECT_TRUE(std::regex_match(at, iso)) << at;
  }
  // The ULID's time part is the insert time: ULIDs made later sort after earlier ones' times.
  auto first = db.Column("SELECT substr(key, 1, 10) FROM things ORDER BY n LIMIT 1");
  auto last = db.Column("SELECT substr(key, 1, 10) FROM things ORDER BY n DESC LIMIT 1");
  EXPECT_LE(first.at(0), last.at(0));
}

TEST(DdlTest, ChecksRejectBadValues) {
  Db db(R"s(
    enum Role { admin member }
    model users {
      id    Integer @id
      role  Role    @default(member)
      ok    Boolean @default(true)
      meta  Json?
      tags  Text[]  @default([])
    })s");
  EXPECT_EQ(db.Exec("INSERT INTO users (id) VALUES (1)"), "");
  EXPECT_EQ(db.Column("SELECT role || ' ' || ok || ' ' || tags FROM users"),
            std::vector<std::string>{"member 1 []"});
  EXPECT_NE(db.Exec("INSERT INTO users (id, role) VALUES (2, 'boss')"), "");
  EXPECT_NE(db.Exec("INSERT INTO users (id, ok) VALUES (3, 2)"), "");
  EXPECT_NE(db.Exec("INSERT INTO users (id, meta) VALUES (4, '{bad')"), "");
  EXPECT_EQ(db.Exec("INSERT INTO users (id, meta) VALUES (5, '{\"a\": 1}')"), "");
  EXPECT_NE(db.Exec("INSERT INTO users (id, tags) VALUES (6, '{}')"), "");
  EXPECT_NE(db.Exec("INSERT INTO users (id, ok) VALUES (7, 'yes')"), "");  // STRICT
}

TEST(DdlTest, SoftDeleteUniqueCoversLiveRowsOnly) {
  Db db(R"s(
    model users {
      id        Integer   @id
      email     Text      @unique
      deletedAt DateTime?
      @@softDelete
    })s");
  EXPECT_EQ(db.Exec("INSERT INTO users (id, email) VALUES (1, 'a@x')"), "");
  EXPECT_NE(db.Exec("INSERT INTO users (id, email) VALUES (2, 'a@x')"), "");
  EXPECT_EQ(db.Exec("UPDATE users SET deletedAt = '2024-01-01' WHERE id = 1"), "");
  EXPECT_EQ(db.Exec("INSERT INTO users (id, email) VALUES (2, 'a@x')"), "");
}

TEST(DdlTest, FullTextIndexFollowsWrites) {
  Db db(R"s(
    model posts {
      id    Integer @id
      title Text
      body  Text?
      @@fts([title, body])
    }
    model notes {
      id   Text @id
      text Text
      @@fts([text])
    })s");
  EXPECT_EQ(db.Exec("INSERT INTO posts VALUES (1, 'hello world', 'first'), (2, 'bye', 'x')"), "");
  EXPECT_EQ(db.Column("SELECT rowid FROM posts_fts WHERE posts_fts MATCH 'hello'"),
            std::vector<std::string>{"1"});
  EXPECT_EQ(db.Exec("UPDATE posts SET title = 'goodbye' WHERE id = 1"), "");
  EXPECT_TRUE(db.Column("SELECT rowid FROM posts_fts WHERE posts_fts MATCH 'hello'").empty());
  EXPECT_EQ(db.Column("SELECT rowid FROM posts_fts WHERE posts_fts MATCH 'goodbye'"),
            std::vector<std::string>{"1"});
  EXPECT_EQ(db.Exec("DELETE FROM posts WHERE id = 1"), "");
  EXPECT_TRUE(db.Column("SELECT rowid FROM posts_fts WHERE posts_fts MATCH 'goodbye'").empty());
  EXPECT_EQ(db.Exec("INSERT INTO posts_fts(posts_fts) VALUES ('integrity-check')"), "");

  EXPECT_EQ(db.Exec("INSERT INTO notes VALUES ('a', 'alpha'), ('b', 'beta')"), "");
  EXPECT_EQ(db.Column("SELECT n.id FROM notes_fts JOIN notes n ON n.rowid = notes_fts.rowid "
                      "WHERE notes_fts MATCH 'beta'"),
            std::vector<std::string>{"b"});
  EXPECT_EQ(db.Exec("INSERT INTO notes_fts(notes_fts) VALUES ('integrity-check')"), "");
}

TEST(DdlTest, ForeignKeysCascade) {
  Db db(R"s(
    model accounts {
      id    Integer @id @default(autoincrement())
      users users[]
    }
    model users {
      id        Integer  @id
      account   accounts @relation(fields: [accountId], references: [id], onDelete: Cascade)
      accountId Integer
    })s");
  EXPECT_EQ(db.Exec("INSERT INTO accounts DEFAULT VALUES"), "");
  EXPECT_EQ(db.Exec("INSERT INTO users VALUES (1, 1)"), "");
  EXPECT_NE(db.Exec("INSERT INTO users VALUES (2, 99)"), "");
  EXPECT_EQ(db.Exec("DELETE FROM accounts"), "");
  EXPECT_EQ(db.Column("SELECT count(*) FROM users"), std::vector<std::string>{"0"});
}

}  // namespace
}  // namespace quarry::schema
