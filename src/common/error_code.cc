#include "common/error_code.h"

namespace quarry {
namespace {

struct ErrorInfo {
  ErrorCode code;
  int http_status;
  std::string_view wire_code;
};

constexpr ErrorInfo kErrorTable[] = {
    {ErrorCode::kOk, 200, "OK"},
    {ErrorCode::kInvalidArgument, 400, "ARGS_INVALID"},
    {ErrorCode::kInvalidName, 400, "INVALID_NAMESPACE_NAME"},
    {ErrorCode::kUnknownRequest, 400, "UNKNOWN_REQUEST"},
    {ErrorCode::kNotFound, 404, "NOT_FOUND"},
    {ErrorCode::kNamespaceNotFound, 404, "NAMESPACE_DOESNT_EXIST"},
    {ErrorCode::kAlreadyExists, 409, "ALREADY_EXISTS"},
    {ErrorCode::kUnauthorized, 401, "AUTH_FAILED"},
    {ErrorCode::kForbidden, 403, "FORBIDDEN"},
    {ErrorCode::kPayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"},
    {ErrorCode::kStreamExpired, 400, "STREAM_EXPIRED"},
    {ErrorCode::kStreamClosed, 400, "STREAM_CLOSED"},
    {ErrorCode::kSqlNotFound, 400, "SQL_NOT_FOUND"},
    {ErrorCode::kSqlIdExists, 400, "SQL_EXISTS"},
    {ErrorCode::kTooManyStoredSql, 400, "SQL_STORE_TOO_MANY"},
    {ErrorCode::kStoredSqlTooLarge, 400, "SQL_STORE_TOO_LARGE"},
    {ErrorCode::kSqlConflict, 400, "SQL_CONFLICT"},
    {ErrorCode::kArgsBothPositionalAndNamed, 400, "ARGS_BOTH_POSITIONAL_AND_NAMED"},
    {ErrorCode::kResponseTooLarge, 400, "RESPONSE_TOO_LARGE"},
    {ErrorCode::kTooManyStreams, 503, "TOO_MANY_STREAMS"},
    {ErrorCode::kSqlNoStatement, 400, "SQL_NO_STATEMENT"},
    {ErrorCode::kSqlManyStatements, 400, "SQL_MANY_STATEMENTS"},
    {ErrorCode::kTransactionTimeout, 400, "TRANSACTION_TIMEOUT"},
    {ErrorCode::kQueryTimeout, 400, "SQLITE_INTERRUPT"},
    {ErrorCode::kSqlite, 400, "SQLITE_ERROR"},
    {ErrorCode::kMethodNotAllowed, 405, "METHOD_NOT_ALLOWED"},
    {ErrorCode::kUnavailable, 503, "UNAVAILABLE"},
    {ErrorCode::kConflict, 409, "CONFLICT"},
    {ErrorCode::kValidationFailed, 422, "VALIDATION_FAILED"},
    {ErrorCode::kChangesGone, 410, "CHANGES_GONE"},
    {ErrorCode::kInternal, 500, "INTERNAL"},
};

const ErrorInfo& InfoOf(ErrorCode code) {
  for (const auto& info : kErrorTable) {
    if (info.code == code) {
      return info;
    }
  }
  return kErrorTable[sizeof(kErrorTable) / sizeof(kErrorTable[0]) - 1];
}

}  // namespace

int HttpStatusOf(ErrorCode code) { return InfoOf(code).http_status; }
std::string_view WireCodeOf(ErrorCode code) { return InfoOf(code).wire_code; }

}  // namespace quarry
