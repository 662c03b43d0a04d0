#pragma once

// The closed set of error kinds Quarry reports. Each maps, in one table (error_code.cc), to an
// HTTP status and to the Hrana error code string clients see.

#include <string_view>

namespace quarry {

enum class ErrorCode {
  kOk,
  kInvalidArgument,             // malformed request: bad JSON, wrong field type (ARGS_INVALID)
  kInvalidName,                 // namespace name fails validation
  kUnknownRequest,              // unknown Hrana request type
  kNotFound,                    // route or resource missing
  kNamespaceNotFound,           // namespace does not exist (or was deleted)
  kAlreadyExists,               // resource already exists (409)
  kUnauthorized,                // missing/invalid/expired token (401)
  kForbidden,                   // token valid but not allowed here (403)
  kPayloadTooLarge,             // body over the limit (413)
  kStreamExpired,               // unknown, reused or expired baton
  kStreamClosed,                // stream already closed
  kSqlNotFound,                 // sql_id not stored on the stream
  kSqlIdExists,                 // store_sql with an id already in use
  kTooManyStoredSql,            // store_sql past the number of texts a stream may store
  kStoredSqlTooLarge,           // store_sql past the bytes of SQL a stream may store
  kSqlConflict,                 // both sql and sql_id given, or neither
  kArgsBothPositionalAndNamed,  // a statement given both args and named_args
  kResponseTooLarge,            // a statement's result is over the response size limit
  kTooManyStreams,              // the server holds as many open streams as it allows
  kSqlNoStatement,              // SQL text holds no statement
  kSqlManyStatements,           // SQL text holds more than one statement where one is expected
  kTransactionTimeout,          // open write transaction rolled back by the server
  kQueryTimeout,                // statement interrupted after the query time limit
  kSqlite,                      // an error reported by SQLite; see Status::sqlite_code()
  kMethodNotAllowed,            // wrong HTTP method for a route (405)
  kUnavailable,                 // server draining or resource exhausted (503)
  kConflict,                    // a write broke a unique or foreign-key constraint (409)
  kValidationFailed,            // a value refused by a schema validator (422)
  kChangesGone,                 // a realtime resume point the change log no longer keeps (410)
  kInternal,                    // a bug; reported as 500
};

int HttpStatusOf(ErrorCode code);
// The Hrana code string for non-SQLite codes ("ARGS_INVALID", "STREAM_EXPIRED", ...).
std::string_view WireCodeOf(ErrorCode code);

}  // namespace quarry
