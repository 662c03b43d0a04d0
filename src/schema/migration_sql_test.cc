#include "schema/migration_sql.h"

#include <gtest/gtest.h>

namespace quarry::schema {
namespace {

TEST(SplitStatements, SplitsAtStatementEnds) {
  auto parts = SplitStatements("CREATE TABLE a (x);\n  INSERT INTO a VALUES (1) ;\n");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], "CREATE TABLE a (x);");
  EXPECT_EQ(parts[1], "INSERT INTO a VALUES (1) ;");
}

TEST(SplitStatements, TriggerBodyStaysWhole) {
  auto parts = SplitStatements(
      "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
      "  INSERT INTO b VALUES (1);\n"
      "  DELETE FROM c;\n"
      "END;\n"
      "SELECT 1;");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_NE(parts[0].find("DELETE FROM c;"), std::string::npos);
  EXPECT_EQ(parts[0].substr(parts[0].size() - 4), "END;");
  EXPECT_EQ(parts[1], "SELECT 1;");
}

TEST(SplitStatements, SemicolonsInStringsAndCommentsDoNotSplit) {
  auto parts = SplitStatements(
      "INSERT INTO a VALUES ('x; y');  -- a comment; with a semicolon\n"
      "/* block; comment */ INSERT INTO \"we;ird\" VALUES (2);");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], "INSERT INTO a VALUES ('x; y');");
  EXPECT_EQ(parts[1], "INSERT INTO \"we;ird\" VALUES (2);");
}

TEST(SplitStatements, KeepsAFinalStatementWithoutSemicolonAndDropsComments) {
  auto parts = SplitStatements("SELECT 1; -- trailing\n\n SELECT 2 \n");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1], "SELECT 2");
  EXPECT_TRUE(SplitStatements("  -- nothing here;\n /* or here; */ ").empty());
}

TEST(SplitDrizzleStatements, SplitsAtBreakpoints) {
  auto parts = SplitDrizzleStatements(
      "CREATE TABLE a (x);--> statement-breakpoint\nCREATE INDEX i ON a (x);");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], "CREATE TABLE a (x);");
  EXPECT_EQ(parts[1], "CREATE INDEX i ON a (x);");
}

TEST(SplitDownSection, SplitsAtTheDownLine) {
  auto parts = SplitDownSection("CREATE TABLE a (x);\n--   DOWN  \nDROP TABLE a;\n", "f.sql");
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  EXPECT_EQ(parts->up, "CREATE TABLE a (x);\n");
  ASSERT_TRUE(parts->down.has_value());
  EXPECT_EQ(*parts->down, "DROP TABLE a;\n");
}

TEST(SplitDownSection, EmptyDownSectionIsNone) {
  auto parts = SplitDownSection("CREATE TABLE a (x);\n-- down\n-- nothing to undo\n", "f.sql");
  ASSERT_TRUE(parts.ok());
  EXPECT_FALSE(parts->down.has_value());
  auto none = SplitDownSection("CREATE TABLE a (x); -- down the hill\n", "f.sql");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->down.has_value());
  EXPECT_EQ(none->up, "CREATE TABLE a (x); -- down the hill\n");
}

TEST(SplitDownSection, SecondDownLineIsAnErrorNamingFileAndLine) {
  auto parts = SplitDownSection("SELECT 1;\n-- down\nSELECT 2;\n-- down\n", "m/x.sql");
  ASSERT_FALSE(parts.ok());
  EXPECT_NE(parts.status().message().find("m/x.sql:4"), std::string::npos)
      << parts.status().message();
  EXPECT_NE(parts.status().message().find("line 2"), std::string::npos);
}

TEST(SplitStatements, DropsEmptyStatementsAndKeepsTriggerBodiesWithCaseEnd) {
  auto parts = SplitStatements(
      ";;\nCREATE TRIGGER t AFTER UPDATE ON a BEGIN\n"
      "  UPDATE b SET y = CASE WHEN new.x = ';' THEN 1 ELSE 0 END;\nEND;\n;\n"
      "SAVEPOINT sp; ROLLBACK TO sp; RELEASE sp;");
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0].rfind("CREATE TRIGGER", 0), 0u) << parts[0];
  EXPECT_TRUE(parts[0].ends_with("END;")) << parts[0];
  EXPECT_EQ(parts[1], "SAVEPOINT sp;");
  EXPECT_EQ(parts[2], "ROLLBACK TO sp;");
  EXPECT_EQ(parts[3], "RELEASE sp;");
}

TEST(Sha256Hex, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace quarry::schema

namespace quarry::schema {
namespace {

TEST(SplitDownSectionTest, MarkerInsideACommentOrTriggerIsNotADownSection) {
  // Regression: any line reading "-- down" split the file, even inside a block comment.
  std::string text =
      "CREATE TABLE t(x);\n"
      "/* notes:\n"
      "-- down\n"
      "*/\n"
      "CREATE TABLE u(y);\n"
      "-- down\n"
      "DROP TABLE u;\n"
      "DROP TABLE t;\n";
  auto split = SplitDownSection(text, "m.sql");
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_NE(split->up.find("CREATE TABLE u(y);"), std::string::npos) << split->up;
  ASSERT_TRUE(split->down.has_value());
  EXPECT_EQ(split->down->find("CREATE TABLE"), std::string::npos) << *split->down;
  EXPECT_NE(split->down->find("DROP TABLE u;"), std::string::npos) << *split->down;
}

}  // namespace
}  // namespace quarry::schema

namespace quarry::schema {
namespace {

TEST(SchemaSnapshot, RoundTripsAndCannotBeReadAsADownLine) {
  // "down" as an enum value on a line of its own must not split the migration.
  std::string schema = "enum Direction {\n  up\n  down\n}\n\nmodel t {\n  id Integer @id\n}\n";
  std::string comment = SchemaSnapshotComment(schema);
  EXPECT_NE(comment.find("--|   down\n"), std::string::npos) << comment;
  EXPECT_NE(comment.find("\n--|\n"), std::string::npos) << comment;  // the empty line
  std::string file =
      "CREATE TABLE t (id INTEGER PRIMARY KEY);\n\n" + comment + "\n-- down\nDROP TABLE t;\n";
  auto parts = SplitDownSection(file, "m.sql");
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_TRUE(parts->down.has_value());
  EXPECT_EQ(*parts->down, "DROP TABLE t;\n");
  auto snapshot = ExtractSchemaSnapshot(parts->up, "m.sql");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  EXPECT_EQ(*snapshot, schema);
  EXPECT_EQ(SplitStatements(parts->up),
            (std::vector<std::string>{"CREATE TABLE t (id INTEGER PRIMARY KEY);"}));
}

TEST(SchemaSnapshot, PlainMigrationsHaveNone) {
  auto none = ExtractSchemaSnapshot("CREATE TABLE t (x);\n-- quarry:schemas\n", "m.sql");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, std::nullopt);
  // Inside a string the marker is data, not a snapshot.
  auto quoted = ExtractSchemaSnapshot("INSERT INTO t VALUES ('\n-- quarry:schema\n');\n", "m.sql");
  ASSERT_TRUE(quoted.ok()) << quoted.status().message();
  EXPECT_EQ(*quoted, std::nullopt);
}

TEST(SchemaSnapshot, AcceptsCrLfAndASnapshotWithoutStatements) {
  auto snapshot = ExtractSchemaSnapshot(
      "-- Migration x.\r\n-- quarry:schema\r\n--| model t {\r\n--|   id Integer @id\r\n--| }\r\n"
      "-- end quarry:schema\r\n",
      "m.sql");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  EXPECT_EQ(*snapshot, "model t {\n  id Integer @id\n}\n");
}

TEST(SchemaSnapshot, MalformedSnapshotsNameTheLine) {
  struct Case {
    const char* up;
    const char* message;
  };
  for (const Case& c : {
           Case{"-- quarry:schema\n--| model t {\n", "m.sql:1: the schema snapshot has no"},
           Case{"-- quarry:schema\n--| model t {\nmodel u {}\n-- end quarry:schema\n",
                "m.sql:3: a line of the schema snapshot"},
           Case{"-- quarry:schema\n-- end quarry:schema\n-- quarry:schema\n-- end quarry:schema\n",
                "m.sql:3: a second schema snapshot"},
       }) {
    auto snapshot = ExtractSchemaSnapshot(c.up, "m.sql");
    ASSERT_FALSE(snapshot.ok()) << c.up;
    EXPECT_NE(snapshot.status().message().find(c.message), std::string::npos)
        << snapshot.status().message();
  }
}

}  // namespace
}  // namespace quarry::schema
