#include "auth/sql_authorizer.h"

#include <sqlite3.h>

#include <algorithm>
#include <string_view>

namespace quarry::auth {
namespace {

// Pragmas refused in every form, even when only read.
constexpr std::string_view kForbiddenPragmas[] = {
    "data_store_directory",
    "lock_proxy_file",
    "temp_store_directory",
    "wal_checkpoint",
};

// Settings the server owns: readable by every client, settable by none.
constexpr std::string_view kServerOwnedPragmas[] = {
    "busy_timeout",       "cache_size",         "cache_spill",    "checkpoint_fullfsync",
    "default_cache_size", "encoding",           "fullfsync",      "hard_heap_limit",
    "journal_mode",       "journal_size_limit", "locking_mode",   "max_page_count",
    "mmap_size",          "query_only",         "schema_version", "soft_heap_limit",
    "synchronous",        "temp_store",         "threads",        "trusted_schema",
    "wal_autocheckpoint", "writable_schema",
};

// Settings a read-write client may change and a read-only client may read.
constexpr std::string_view kClientPragmas[] = {
    "analysis_limit",     "application_id",           "auto_vacuum",
    "automatic_index",    "cell_size_check",          "count_changes",
    "defer_foreign_keys", "empty_result_callbacks",   "foreign_keys",
    "full_column_names",  "ignore_check_constraints", "legacy_alter_table",
    "page_size",          "recursive_triggers",       "reverse_unordered_selects",
    "secure_delete",      "short_column_names",       "user_version",
};

// Pragmas that only report, whatever their argument (a table or index name, a row limit).
constexpr std::string_view kIntrospectionPragmas[] = {
    "collation_list",   "compile_options", "data_version",  "database_list", "foreign_key_check",
    "foreign_key_list", "freelist_count",  "function_list", "index_info",    "index_list",
    "index_xinfo",      "integrity_check", "module_list",   "page_count",    "pragma_list",
    "quick_check",      "table_info",      "table_list",    "table_xinfo",
};

// SQL functions no client may call.
constexpr std::string_view kForbiddenFunctions[] = {
    "fts3_tokenizer",
    "load_extension",
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

template <size_t N>
bool IsOneOf(const char* name, const std::string_view (&list)[N]) {
  if (name == nullptr) {
    return false;
  }
  std::string_view text(name);
  return std::any_of(std::begin(list), std::end(list),
                     [text](std::string_view entry) { return EqualsIgnoreCase(text, entry); });
}

// Quarry's own bookkeeping tables (the migration history, `_quarry_migrations`, and any later
// `_quarry_*` table), but not the `_quarry_new_*` staging tables of a schema rebuild, which the
// rebuild renames.
bool IsBookkeepingTable(const char* table) {
  if (table == nullptr) {
    return false;
  }
  std::string_view name(table);
  auto starts_with = [name](std::string_view prefix) {
    return name.size() >= prefix.size() && EqualsIgnoreCase(name.substr(0, prefix.size()), prefix);
  };
  return starts_with("_quarry_") && !starts_with("_quarry_new_");
}

bool IsSchemaTable(const char* table) {
  return table != nullptr && (EqualsIgnoreCase(table, "sqlite_master") ||
                              EqualsIgnoreCase(table, "sqlite_temp_master"));
}

// `value` is the pragma's argument, nullptr when the pragma is only read.
int AuthorizePragma(SqlAccess mode, const char* name, const char* value) {
  if (IsOneOf(name, kForbiddenPragmas)) {
    return SQLITE_DENY;
  }
  bool server_owned = IsOneOf(name, kServerOwnedPragmas);
  if (mode == SqlAccess::kReadWrite) {
    if (server_owned && value != nullptr) {
      bool journal_mode_wal =
          EqualsIgnoreCase(name, "journal_mode") && EqualsIgnoreCase(value, "wal");
      return journal_mode_wal ? SQLITE_OK : SQLITE_DENY;
    }
    return SQLITE_OK;
  }
  if (IsOneOf(name, kIntrospectionPragmas)) {
    return SQLITE_OK;
  }
  if (value == nullptr && (server_owned || IsOneOf(name, kClientPragmas))) {
    return SQLITE_OK;
  }
  return SQLITE_DENY;
}

// The rules both modes share. Returns SQLITE_DENY, or SQLITE_OK to let the mode decide.
int AuthorizeCommon(SqlAccess mode, int action, const char* arg1, const char* arg2) {
  switch (action) {
    case SQLITE_ATTACH: {
      // arg1 is the file name when it is a string literal, nullptr otherwise.
      bool private_temp_db = arg1 != nullptr && arg1[0] == '\0';
      return mode == SqlAccess::kReadWrite && private_temp_db ? SQLITE_OK : SQLITE_DENY;
    }
    case SQLITE_DETACH:
      return SQLITE_DENY;
    case SQLITE_FUNCTION:
      return IsOneOf(arg2, kForbiddenFunctions) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_PRAGMA:
      return AuthorizePragma(mode, arg1, arg2);
    case SQLITE_DROP_TABLE:
      // arg1 is the table. See the header: the statement succeeds and the table stays.
      return IsBookkeepingTable(arg1) ? SQLITE_IGNORE : SQLITE_OK;
    case SQLITE_ALTER_TABLE:
      // arg2 is the table.
      return IsBookkeepingTable(arg2) ? SQLITE_DENY : SQLITE_OK;
    default:
      return SQLITE_OK;
  }
}

// Set when the read-only rules refused an action because it writes; taken by ExplainDenial on
// the thread that prepared the statement. A refusal for a reason both modes share, and any
// use of the read-write rules, clear it.
thread_local bool refused_write = false;

int AuthorizeReadOnlyRules(int action, const char* arg1, const char* arg2) {
  if (AuthorizeCommon(SqlAccess::kReadOnly, action, arg1, arg2) != SQLITE_OK) {
    refused_write = false;
    return SQLITE_DENY;  // read-only clients are refused, not ignored, a DROP TABLE
  }
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
    case SQLITE_FUNCTION:
    case SQLITE_PRAGMA:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      return SQLITE_OK;
    case SQLITE_UPDATE:
      // arg1 is the table; see the header for why the schema table is let through.
      if (IsSchemaTable(arg1)) {
        return SQLITE_OK;
      }
      refused_write = true;
      return SQLITE_DENY;
    default:
      refused_write = true;
      return SQLITE_DENY;
  }
}

// Records, in the notes behind `notes`, what an allowed action implies: a change of
// per-connection state, or of a table's shape.
int NoteSessionChange(void* notes, int action, const char* arg2, const char* database,
                      int decision) {
  if (decision != SQLITE_OK || notes == nullptr) {
    return decision;
  }
  auto* noted = static_cast<storage::AuthorizerNotes*>(notes);
  storage::NoteSchemaAction(noted, action);
  switch (action) {
    case SQLITE_PRAGMA:
      if (arg2 != nullptr) {
        noted->session_changed = true;
      }
      break;
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
      noted->session_changed = true;
      break;
    case SQLITE_CREATE_VTABLE:
      if (database != nullptr && std::string_view(database) == "temp") {
        noted->session_changed = true;
      }
      break;
    default:
      break;
  }
  return decision;
}

int AuthorizeReadWrite(void* flag, int action, const char* arg1, const char* arg2,
                       const char* database, const char*) {
  refused_write = false;
  return NoteSessionChange(flag, action, arg2, database,
                           AuthorizeCommon(SqlAccess::kReadWrite, action, arg1, arg2));
}

int AuthorizeReadOnly(void* flag, int action, const char* arg1, const char* arg2,
                      const char* database, const char*) {
  return NoteSessionChange(flag, action, arg2, database,
                           AuthorizeReadOnlyRules(action, arg1, arg2));
}

int DenyEverything(void*, int, const char*, const char*, const char*, const char*) {
  return SQLITE_DENY;
}

}  // namespace

SqlAccess SqlAccessFor(Access access) {
  return access == Access::kReadOnly ? SqlAccess::kReadOnly : SqlAccess::kReadWrite;
}

storage::AccessMode AccessModeFor(SqlAccess access) {
  return access == SqlAccess::kReadOnly ? storage::AccessMode::kReadOnly
                                        : storage::AccessMode::kReadWrite;
}

int InstallClientRules(sqlite3* db, storage::AccessMode mode, storage::AuthorizerNotes* notes) {
  return InstallAuthorizer(
      db, mode == storage::AccessMode::kReadOnly ? SqlAccess::kReadOnly : SqlAccess::kReadWrite,
      notes);
}

Status ExplainDenial(Status status) {
  bool wrote = refused_write;
  refused_write = false;
  if (!wrote || status.code() != ErrorCode::kSqlite ||
      (status.sqlite_code() & 0xff) != SQLITE_AUTH) {
    return status;
  }
  return Status(ErrorCode::kSqlite,
                status.message() +
                    ": a read-only token (or a read-only transaction) cannot write; writes need a "
                    "read-write token",
                status.sqlite_code());
}

int InstallAuthorizer(sqlite3* db, SqlAccess mode, storage::AuthorizerNotes* notes) {
  // A previous read-only authorizer would refuse the query_only change below.
  int rc = sqlite3_set_authorizer(db, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    const char* sql =
        mode == SqlAccess::kReadOnly ? "PRAGMA query_only = 1" : "PRAGMA query_only = 0";
    rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_set_authorizer(
        db, mode == SqlAccess::kReadOnly ? AuthorizeReadOnly : AuthorizeReadWrite, notes);
  }
  if (rc != SQLITE_OK) {
    sqlite3_set_authorizer(db, DenyEverything, nullptr);
  }
  return rc;
}

}  // namespace quarry::auth
