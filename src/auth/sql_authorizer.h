#pragma once

// SQL access rules for client connections, enforced by SQLite's authorizer
// (sqlite3_set_authorizer), never by parsing SQL text.
//
// SQLite asks the authorizer about every action while it prepares a statement (and while it
// prepares the statements it runs internally, such as those inside VACUUM). A denied action
// makes sqlite3_prepare_v2 (or, for VACUUM, sqlite3_step) fail with SQLITE_AUTH and the message
// "not authorized"; a denied function call fails with SQLITE_ERROR and "not authorized to use
// function: NAME". The rules:
//
// Both modes deny
//   - ATTACH of any file: a token for one namespace must not reach another namespace's file or
//     anything else on disk; VACUUM INTO 'path' is refused the same way, because SQLite
//     implements it as an ATTACH of that path. Read-write mode allows one exception, ATTACH of
//     the empty file name: that is a private temporary database, and it is how plain VACUUM
//     works. A file name that is not a literal (an expression, a parameter) is refused.
//   - DETACH: the server may attach databases of its own to a connection.
//   - the SQL functions load_extension() and fts3_tokenizer() (this SQLite is built with
//     ENABLE_FTS3_TOKENIZER, whose two-argument form registers a raw C pointer).
//   - PRAGMA temp_store_directory, data_store_directory and lock_proxy_file, in any form: they
//     name files outside the data folder and reading them discloses server paths.
//   - PRAGMA wal_checkpoint: checkpointing is the storage layer's job, and the RESTART and
//     TRUNCATE modes wait on every reader.
//   - ALTER TABLE of Quarry's bookkeeping tables (`_quarry_*`, e.g. the migration history
//     `_quarry_migrations`; the `_quarry_new_*` staging tables of a schema rebuild are not
//     bookkeeping). DROP TABLE of one is ignored rather than refused: the statement succeeds
//     and the table stays (SQLITE_IGNORE), because schema tools that drop every table they do not
//     know (drizzle-kit push, for one) would otherwise fail half-way through their change. Rows
//     can still be written: the migrator records its history through the same rules.
//   - setting a server-owned pragma (PRAGMA x = y or PRAGMA x(y)); reading it is allowed.
//     These are per-connection or per-file settings the server relies on, and a pooled
//     connection would carry a client's change to the next client: journal_mode (except
//     setting it to "wal", which is a no-op on a server connection and lets application start-up
//     code run), locking_mode, synchronous, fullfsync, checkpoint_fullfsync, busy_timeout (it
//     would replace the server's busy handler), query_only, temp_store (temporary files must
//     not leave the data folder), cache_size, cache_spill, default_cache_size, mmap_size,
//     threads, soft_heap_limit and hard_heap_limit (process-wide), max_page_count (quotas),
//     journal_size_limit, wal_autocheckpoint, schema_version and writable_schema (both can
//     corrupt the file) and trusted_schema (a security setting).
//
// Read-write mode (SqlAccess::kReadWrite) allows everything else: DML, DDL, virtual tables,
// triggers, ANALYZE, REINDEX, plain VACUUM and the remaining pragmas (foreign_keys,
// user_version, legacy_alter_table, ...), which the namespace's owner may use on their data.
// Temporary tables and triggers, an ATTACH '' database and per-connection pragma changes live
// on the connection: a pool that hands it to another client must reset or close it first.
//
// Read-only mode (SqlAccess::kReadOnly) allows only reading, and denies everything else by
// default, including action codes a future SQLite may add. Allowed: SELECT, reading columns,
// recursive CTEs, function calls (minus the two above), BEGIN/COMMIT/ROLLBACK, SAVEPOINT and
// RELEASE, and pragmas that only report: introspection pragmas with or without an argument
// (table_info, table_xinfo, table_list, index_list, index_info, index_xinfo, foreign_key_list,
// foreign_key_check, integrity_check, quick_check, database_list, collation_list,
// function_list, module_list, pragma_list, compile_options, data_version, page_count,
// freelist_count) and known settings read without a value (PRAGMA user_version, PRAGMA
// journal_mode, ...). Temporary tables, views, triggers and indexes are denied too: a temporary
// trigger can hang off a main table and outlive the client on a pooled connection, and
// temporary storage would escape quotas; a read-only client has CTEs for scratch results.
// One write-shaped action is allowed: an UPDATE of the schema table (sqlite_master or
// sqlite_temp_master), which SQLite reports when it first sets up an eponymous virtual table
// such as json_each or pragma_table_info on a connection. A client cannot use it: SQLite refuses
// writes to the schema table unless writable_schema is on, which both modes refuse to set.
//
// Actions the authorizer is never asked about are covered by PRAGMA query_only, which
// InstallAuthorizer turns on for read-only connections: it also makes BEGIN IMMEDIATE and
// BEGIN EXCLUSIVE fail with SQLITE_READONLY, so a read-only client cannot take the write lock.

#include "auth/token.h"
#include "common/status.h"
#include "storage/access_mode.h"

struct sqlite3;

namespace quarry::auth {

enum class SqlAccess { kReadOnly, kReadWrite };

// kReadOnly for Access::kReadOnly, kReadWrite for read-write and admin tokens.
SqlAccess SqlAccessFor(Access access);

// Sets connection `db` up for a client with `mode`: installs the authorizer for `mode`
// (replacing any previous authorizer) and sets PRAGMA query_only to 1 for kReadOnly and 0 for
// kReadWrite, so calling it again with the other mode fully switches a pooled connection.
// Run the server's own setup statements (journal_mode, busy timeout, ...) before calling it;
// they would be refused after. The authorizer applies when a statement is prepared, and SQLite
// expires statements prepared earlier so they are re-checked. The callbacks hold no state, so
// there is no lifetime to manage. Call from the thread that uses `db`. Returns SQLITE_OK or
// the SQLite error code of the step that failed; on failure the connection is left with an
// authorizer that denies every action, so an ignored failure cannot widen access.
//
// When `notes` is given, the authorizer sets notes->session_changed whenever it allows a
// statement that changes the connection's own state beyond the database file: a pragma given a
// value (foreign_keys = OFF, recursive_triggers, ...) or a temporary table, view, index or
// trigger. A pool must then close the connection rather than hand it to the next client. It
// sets notes->schema_changed for an allowed ALTER TABLE or DROP TABLE (storage::NoteSchemaAction).
// The notes must outlive the connection's use with this authorizer.
[[nodiscard]] int InstallAuthorizer(sqlite3* db, SqlAccess mode,
                                    storage::AuthorizerNotes* notes = nullptr);

// The storage::AccessMode of a client with `access`.
storage::AccessMode AccessModeFor(SqlAccess access);

// storage::AccessRules for client connections: InstallAuthorizer for kReadOnly and kReadWrite.
// The server passes it in storage::ConnectionOptions.
[[nodiscard]] int InstallClientRules(sqlite3* db, storage::AccessMode mode,
                                     storage::AuthorizerNotes* notes);
// SQLite reports every refusal with the same "not authorized", which does not tell a client
// with a read-only token why its INSERT failed. The read-only rules note, on the calling
// thread, that they refused an action because it writes; given the failure of the prepare that
// followed on the same thread, ExplainDenial returns it with a message that names the read-only
// token, and returns any other status unchanged. It takes the note either way.
[[nodiscard]] Status ExplainDenial(Status status);

}  // namespace quarry::auth
