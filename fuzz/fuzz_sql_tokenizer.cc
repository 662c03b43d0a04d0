// Fuzz target: the SQL tokenizer (common/sql_tokenizer.h) and what is built on it
// (common/sql_statement.h) on raw input, as any client's SQL text reaches them.
//
// Properties: the tokens cover the input exactly, none empty, and only the last can be
// incomplete; the complete statements and the rest concatenate to the input, each statement
// ends in ';' and is complete for sqlite3_complete(); the classifiers do not crash and agree
// with each other.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/sql_statement.h"
#include "common/sql_tokenizer.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quarry::sql;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  std::string joined;
  SqlTokenizer tokens(input);
  bool seen_incomplete = false;
  while (std::optional<Token> token = tokens.Next()) {
    FUZZ_CHECK(!token->text.empty());
    FUZZ_CHECK(!seen_incomplete);
    seen_incomplete = !token->complete;
    joined += token->text;
  }
  FUZZ_CHECK(joined == input);

  SplitSql split = SplitCompleteStatements(input);
  std::string rebuilt;
  for (std::string_view statement : split.statements) {
    FUZZ_CHECK(!statement.empty() && statement.back() == ';');
    FUZZ_CHECK(sqlite3_complete(std::string(statement).c_str()) != 0);
    rebuilt += statement;
  }
  rebuilt += split.rest;
  FUZZ_CHECK(rebuilt == input);

  FUZZ_CHECK(IsBlankSql(input) == SkipBlank(input).empty());
  if (StartsOrEndsTransaction(input)) {
    FUZZ_CHECK(IsTransactionControl(input));
  }
  if (IsGroupableWrite(input) || IsBeginReadonly(input)) {
    FUZZ_CHECK(!FirstKeyword(input).empty());
  }
  return 0;
}
