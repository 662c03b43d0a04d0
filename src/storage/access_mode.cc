#include "storage/access_mode.h"

#include <sqlite3.h>

namespace quarry::storage {
namespace {

int AllowAndNote(void* notes, int action, const char*, const char*, const char*, const char*) {
  NoteSchemaAction(static_cast<AuthorizerNotes*>(notes), action);
  return SQLITE_OK;
}

}  // namespace

void NoteSchemaAction(AuthorizerNotes* notes, int action) {
  if (notes != nullptr && (action == SQLITE_ALTER_TABLE || action == SQLITE_DROP_TABLE)) {
    notes->schema_changed = true;
  }
}

int InstallSystemRules(sqlite3* db, AuthorizerNotes* notes) {
  return sqlite3_set_authorizer(db, AllowAndNote, notes);
}

}  // namespace quarry::storage
