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

// Installs the client rules for kReadWrite or kReadOnly on `db` (auth::InstallAuthorizer does,
// wired in by the server), replacing any earlier ones; sets *session_changed when a client
// statement changes per-connection state. Returns SQLITE_OK or an SQLite error code, leaving a
// deny-all rule on failure.
using AccessRules = int (*)(sqlite3* db, AccessMode mode, bool* session_changed);

}  // namespace quarry::storage
