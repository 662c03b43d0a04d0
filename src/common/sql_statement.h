#pragma once

// What Quarry needs to know about SQL text before SQLite prepares it: where statements end, the
// first keyword, and whether a statement is transaction control or a plain write. Built on
// SqlTokenizer (sql_tokenizer.h), so every caller agrees about strings, quoted identifiers and
// comments; where a statement ends is decided by SQLite's sqlite3_complete(), which also knows
// CREATE TRIGGER ... BEGIN ... END bodies.
//
// Also the two ways of writing a name or a text into SQL, for the SQL Quarry generates.
//
// These classify; they never authorize. What a client may do is decided by SQLite's authorizer
// (auth/sql_authorizer.h) when the statement is prepared. Pure functions, thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace quarry::sql {

// `sql` cut at the ends of its complete statements.
struct SplitSql {
  // Each complete statement's text: from just after the previous statement's ';' (so with any
  // leading space and comments) through its own ';'. Blank pieces (";" alone) are included;
  // callers drop them with IsBlankSql.
  std::vector<std::string_view> statements;
  // The text after the last complete statement (an incomplete statement, or blank).
  std::string_view rest;
};

// Cuts `sql` at each ';' token where sqlite3_complete() says the statement so far is complete:
// a ';' inside a string, a quoted identifier, a comment or a trigger body does not end one.
// The views point into `sql`.
SplitSql SplitCompleteStatements(std::string_view sql);

// True when `sql` holds nothing but space, comments and ';'.
bool IsBlankSql(std::string_view sql);

// `sql` without its leading space, comments and ';' (empty when it is blank).
std::string_view SkipBlank(std::string_view sql);

// The first keyword of the first statement of `sql`, upper-cased; empty when the first
// significant token is not a word (or there is none). Leading space, comments and empty
// statements (";") are skipped.
std::string FirstKeyword(std::string_view sql);

// Whether FirstKeyword(sql) == `upper` (an upper-case keyword), without building the word in
// the usual case: for the checks every statement goes through.
bool FirstKeywordIs(std::string_view sql, std::string_view upper);

enum class TransactionControl {
  kNone,                 // not transaction control
  kBegin,                // BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION]
  kCommit,               // COMMIT or END [TRANSACTION]
  kRollback,             // ROLLBACK [TRANSACTION]
  kSavepoint,            // SAVEPOINT name
  kRelease,              // RELEASE [SAVEPOINT] name
  kRollbackToSavepoint,  // ROLLBACK [TRANSACTION] TO [SAVEPOINT] name
};

// What kind of transaction control the first statement of `sql` is.
TransactionControl ClassifyTransactionControl(std::string_view sql);

// True for every kind of transaction control: BEGIN, COMMIT, END, ROLLBACK, ROLLBACK TO,
// SAVEPOINT, RELEASE.
bool IsTransactionControl(std::string_view sql);

// True for the statements that open, commit or roll back the transaction itself (BEGIN,
// COMMIT/END, ROLLBACK but not ROLLBACK TO): they would end or nest a transaction the caller
// runs the statement in. Savepoints nest inside it and are not included.
bool StartsOrEndsTransaction(std::string_view sql);

// True when the first statement is plain DML (INSERT, UPDATE, DELETE, REPLACE): its meaning
// is the same inside a savepoint, so it may be batched with others. A WITH ... prefix does not
// qualify (it is classified by its first keyword, WITH).
bool IsGroupableWrite(std::string_view sql);

// True when the first statement is a SELECT whose answer does not depend on which of the
// namespace's connections runs it (outside a transaction): it names none of SQLite's
// per-connection counters, changes(), total_changes() and last_insert_rowid() (as a word
// anywhere in the text, so a column of those names counts too; strings and comments do not).
// Such a read may run on any pooled connection.
bool IsPlainRead(std::string_view sql);

// True for libSQL's `BEGIN [TRANSACTION] READONLY` (any case, spacing and comments), alone or
// followed by ';' and anything else.
bool IsBeginReadonly(std::string_view sql);

// `name` as a quoted identifier: "name", a '"' inside doubled.
std::string QuoteIdentifier(std::string_view name);
// `text` as a string literal: 'text', a "'" inside doubled.
std::string QuoteString(std::string_view text);

}  // namespace quarry::sql
