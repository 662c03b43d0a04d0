#pragma once

// AccessMode: what one use of a connection may do. Every use states its mode when it borrows a
// connection (Database::Acquire) and the connection applies it before the first statement, so no
// mode is ever left behind for the next user of a pooled connection.

struct sqlite3;

namespace quarry::storage {

enum class AccessMode {
  kSystem,     // the server's own work (migrations, admin, seeding): no client rules
  kReadWrite,  // a client that may write: the read-write client rules
  kReadOnly,   // a client that may only read: the read-only rules and PRAGMA query_only
};

// What SQLite's authorizer saw while statements were prepared on a connection, for the
// connection to act on. Set by the rules' callbacks; cleared by the connection.
struct AuthorizerNotes {
  // A client statement changed per-connection state (a pragma given a value, a temporary
  // table, view, index or trigger): the pool closes the connection instead of lending it again.
  bool session_changed = false;
  // A statement that alters or drops a table was prepared: the column names change capture
  // cached per table may be stale once its transaction commits.
  bool schema_changed = false;
};

// Notes in `notes` (when not null) what an allowed authorizer `action` implies: schema_changed
// for SQLITE_ALTER_TABLE and SQLITE_DROP_TABLE. Every rule's callback calls it.
void NoteSchemaAction(AuthorizerNotes* notes, int action);

// Installs the client rules for kReadWrite or kReadOnly on `db` (auth::InstallAuthorizer does,
// wired in by the server), replacing any earlier ones; fills *notes as the notes above say.
// Returns SQLITE_OK or an SQLite error code, leaving a deny-all rule on failure.
using AccessRules = int (*)(sqlite3* db, AccessMode mode, AuthorizerNotes* notes);

// The rules of kSystem (and of every mode when no AccessRules are given): every action is
// allowed, and schema changes are noted in *notes. Returns SQLITE_OK or an SQLite error code.
int InstallSystemRules(sqlite3* db, AuthorizerNotes* notes);

}  // namespace quarry::storage
