#include "schema/parser.h"

#include <gtest/gtest.h>

#include <map>

#include "schema/formatter.h"
#include "schema/loader.h"

namespace quarry::schema {
namespace {

TEST(ParserTest, RecordsPositions) {
  auto file = ParseSchema("model users {\n  id Integer @id\n}\n", "a.schema");
  ASSERT_TRUE(file.ok()) << file.status().message();
  const auto& model = std::get<ast::Model>(file->declarations.at(0));
  EXPECT_EQ(model.name_pos.line, 1);
  EXPECT_EQ(model.name_pos.column, 7);
  ASSERT_EQ(model.fields.size(), 1u);
  EXPECT_EQ(model.fields[0].pos.line, 2);
  EXPECT_EQ(model.fields[0].pos.column, 3);
  EXPECT_EQ(model.fields[0].type_pos.column, 6);
  EXPECT_EQ(model.fields[0].attributes.at(0).pos.column, 14);
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "model m { id Integer @id @@allow('read', " + std::string(100000, '(') +
                     "true" + std::string(100000, ')') + ") }";
  auto file = ParseSchema(deep, "deep.schema");
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("nested too deeply"), std::string::npos);

  std::string nots =
      "model m { id Integer @id @@allow('read', " + std::string(100000, '!') + "true) }";
  EXPECT_FALSE(ParseSchema(nots, "nots.schema").ok());

  std::string chain = "model m { id Integer @id @@allow('read', true";
  for (int i = 0; i < 10000; ++i) chain += " || true";
  chain += ") }";
  auto chained = ParseSchema(chain, "chain.schema");
  ASSERT_FALSE(chained.ok());
  EXPECT_NE(chained.status().message().find("nested too deeply"), std::string::npos);

  std::string arrays = "model m { id Integer[] @default(" + std::string(100000, '[') + ") }";
  EXPECT_FALSE(ParseSchema(arrays, "arrays.schema").ok());
}

TEST(ParserTest, ArbitraryBytesNeverCrash) {
  // Every prefix of a schema using every construct, and a few byte soups.
  std::string text =
      "import \"./x.schema\"\nenum Role { a b }\nmodel users {\n  id Integer @id "
      "@default(autoincrement())\n  role Role @default(a) // c\n  tags Text[] @default([\"x\"])\n"
      "  @@allow('read', auth().id == id && !(role != 'a') || now() > \"2020-01-01\", \"m\")\n"
      "  @@index([role])\n}\n";
  for (size_t n = 0; n <= text.size(); ++n) {
    auto result = ParseSchema(text.substr(0, n), "p.schema");
    if (result.ok()) {
      (void)FormatSchema(*result);
    }
  }
  std::string soup;
  for (int i = 0; i < 2000; ++i) soup += static_cast<char>((i * 7919) % 256);
  EXPECT_FALSE(ParseSchema(soup, "soup.schema").ok());
}

TEST(ParserTest, KeepsComments) {
  auto file = ParseSchema(
      "// top\nmodel users { // after brace\n  // lead\n  id Integer @id // trail\n"
      "  // closing\n}\n// end\n",
      "c.schema");
  ASSERT_TRUE(file.ok()) << file.status().message();
  const auto& model = std::get<ast::Model>(file->declarations.at(0));
  EXPECT_EQ(model.trivia.leading, std::vector<std::string>{"// top"});
  EXPECT_EQ(model.fields[0].trivia.leading,
            (std::vector<std::string>{"// after brace", "// lead"}));
  EXPECT_EQ(model.fields[0].trivia.trailing, "// trail");
  EXPECT_EQ(model.closing_comments, std::vector<std::string>{"// closing"});
  EXPECT_EQ(file->closing_comments, std::vector<std::string>{"// end"});
}

FileReader MapReader(std::map<std::string, std::string> files, int* reads = nullptr) {
  return [files, reads](const std::string& path) -> Result<std::string> {
    if (reads != nullptr) ++*reads;
    auto it = files.find(path);
    if (it == files.end()) return Status(ErrorCode::kNotFound, "No such file or directory");
    return it->second;
  };
}

TEST(LoaderTest, FollowsImportsOnceThroughCycles) {
  int reads = 0;
  auto program =
      LoadSchema("app/main.schema",
                 MapReader({{"app/main.schema", "import \"./a.schema\"\nimport \"sub/b.schema\""},
                            {"app/a.schema", "import \"./sub/b.schema\"\nimport \"./main.schema\""},
                            {"app/sub/b.schema", "import \"../a.schema\"\nenum E { x }"}},
                           &reads));
  ASSERT_TRUE(program.ok()) << program.status().message();
  ASSERT_EQ(program->files.size(), 3u);
  EXPECT_EQ(program->files[0].path, "app/main.schema");
  EXPECT_EQ(program->files[1].path, "app/a.schema");
  EXPECT_EQ(program->files[2].path, "app/sub/b.schema");
  EXPECT_EQ(reads, 3);
}

TEST(LoaderTest, MissingRootIsNotFound) {
  auto program = LoadSchema("nope.schema", MapReader({}));
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(program.status().message(),
            "cannot read schema file nope.schema: No such file or directory");
}

TEST(LoaderTest, LongImportChainDoesNotRecurse) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 900; ++i) {
    files["f" + std::to_string(i) + ".schema"] =
        "import \"./f" + std::to_string(i + 1) + ".schema\"\n";
  }
  files["f900.schema"] = "";
  auto program = LoadSchema("f0.schema", MapReader(files));
  ASSERT_TRUE(program.ok()) << program.status().message();
  EXPECT_EQ(program->files.size(), 901u);
}

}  // namespace
}  // namespace quarry::schema
