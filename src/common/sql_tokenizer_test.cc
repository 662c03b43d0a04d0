#include "common/sql_tokenizer.h"

#include <gtest/gtest.h>

#include <vector>

namespace quarry::sql {
namespace {

// "kind:text" for every token, space tokens left out.
std::vector<std::string> Tokens(std::string_view sql) {
  static constexpr const char* kNames[] = {"space", "comment", "word",      "ident", "string",
                                           "blob",  "number",  "parameter", ";",     "op"};
  std::vector<std::string> out;
  SqlTokenizer tokens(sql);
  std::string joined;
  while (std::optional<Token> token = tokens.Next()) {
    joined += token->text;
    if (token->kind == TokenKind::kSpace) continue;
    out.push_back(std::string(kNames[static_cast<int>(token->kind)]) + ":" +
                  std::string(token->text) + (token->complete ? "" : "(incomplete)"));
  }
  EXPECT_EQ(joined, sql) << "the tokens must cover the input exactly";
  return out;
}

using V = std::vector<std::string>;

TEST(SqlTokenizerTest, WordsNumbersAndOperators) {
  EXPECT_EQ(
      Tokens("SELECT a1_$, 1.5e-3, .5, 0x1F, 12 FROM t WHERE x<>y||z->>'k';"),
      (V{"word:SELECT", "word:a1_$", "op:,",      "number:1.5e-3", "op:,",   "number:.5",  "op:,",
         "number:0x1F", "op:,",      "number:12", "word:FROM",     "word:t", "word:WHERE", "word:x",
         "op:<>",       "word:y",    "op:||",     "word:z",        "op:->>", "string:'k'", ";:;"}));
}

TEST(SqlTokenizerTest, QuotedStringsAndIdentifiersWithDoubledQuotes) {
  EXPECT_EQ(Tokens(R"(SELECT 'it''s;', "a""b;", `c``d`, [e;"f] FROM x)"),
            (V{"word:SELECT", "string:'it''s;'", "op:,", R"(ident:"a""b;")", "op:,", "ident:`c``d`",
               "op:,", R"(ident:[e;"f])", "word:FROM", "word:x"}));
  // Quotes of one kind inside another are plain characters.
  EXPECT_EQ(Tokens(R"('say "hi"; [x]' "it's")"),
            (V{R"(string:'say "hi"; [x]')", R"(ident:"it's")"}));
}

TEST(SqlTokenizerTest, CommentsHoldSemicolons) {
  EXPECT_EQ(Tokens("a -- x; y\n/* ; 'q */ b"),
            (V{"word:a", "comment:-- x; y", "comment:/* ; 'q */", "word:b"}));
  EXPECT_EQ(Tokens("a - -1 / 2"), (V{"word:a", "op:-", "op:-", "number:1", "op:/", "number:2"}));
}

TEST(SqlTokenizerTest, BlobsAndParameters) {
  EXPECT_EQ(Tokens("x'00ff' X'AB' xy ? ?2 :name @n $v"),
            (V{"blob:x'00ff'", "blob:X'AB'", "word:xy", "parameter:?", "parameter:?2",
               "parameter::name", "parameter:@n", "parameter:$v"}));
}

TEST(SqlTokenizerTest, UnterminatedTokensRunToTheEnd) {
  EXPECT_EQ(Tokens("SELECT 'abc; def"), (V{"word:SELECT", "string:'abc; def(incomplete)"}));
  EXPECT_EQ(Tokens("a /* b;"), (V{"word:a", "comment:/* b;(incomplete)"}));
  EXPECT_EQ(Tokens("[a"), (V{"ident:[a(incomplete)"}));
  EXPECT_EQ(Tokens("\"a\"\""), (V{"ident:\"a\"\"(incomplete)"}));
}

TEST(SqlTokenizerTest, NonAsciiIdentifiers) {
  EXPECT_EQ(Tokens("SELECT café FROM t"), (V{"word:SELECT", "word:café", "word:FROM", "word:t"}));
}

TEST(SqlTokenizerTest, UpperAscii) { EXPECT_EQ(UpperAscii("Begin_é"), "BEGIN_é"); }

}  // namespace
}  // namespace quarry::sql
