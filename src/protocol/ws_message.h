#pragma once

// The messages of Hrana over WebSocket in a form independent of their encoding: a codec
// (ws_codec.h) decodes a client's frame into a ClientMsg and encodes a ServerMsg into a frame,
// so WsSession never sees JSON or protobuf framing.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/request.h"
#include "protocol/response.h"

namespace quarry::protocol {

// A request of Hrana over WebSocket. The requests that run on a stream (execute, batch,
// sequence, describe, get_autocommit) carry the same Request the HTTP pipeline runs, plus the
// stream id; the others are the connection's own (streams, stored SQL, cursors).
struct WsRequest {
  enum class Type {
    kOpenStream,
    kCloseStream,
    kStream,  // `stream` holds an execute, batch, sequence, describe or get_autocommit
    kStoreSql,
    kCloseSql,
    kOpenCursor,
    kCloseCursor,
    kFetchCursor,
  };
  Type type = Type::kOpenStream;
  // The wire name of the request ("execute", "open_cursor"), for messages.
  std::string name;
  int32_t stream_id = 0;   // kOpenStream, kCloseStream, kStream, kOpenCursor
  int32_t cursor_id = 0;   // kOpenCursor, kCloseCursor, kFetchCursor
  int32_t sql_id = 0;      // kStoreSql, kCloseSql
  std::string sql;         // kStoreSql
  uint32_t max_count = 0;  // kFetchCursor
  Request stream;          // kStream
  BatchSpec batch;         // kOpenCursor
};

struct ClientMsg {
  enum class Type { kHello, kRequest };
  Type type = Type::kHello;
  std::optional<std::string> jwt;  // kHello; null when the client sent none
  int32_t request_id = 0;          // kRequest
  // kRequest: the request, or why it could not be decoded (the envelope was fine, so the
  // client gets a response_error for this request id instead of a closed socket).
  Result<WsRequest> request = WsRequest();
};

// The answer to a WsRequest that succeeded: for kStream the Hrana Response the HTTP pipeline
// would give, for kFetchCursor the entries; the other types carry nothing but their type.
struct WsResponse {
  WsRequest::Type type = WsRequest::Type::kOpenStream;
  StreamResponse stream;             // kStream
  std::vector<CursorEntry> entries;  // kFetchCursor
  bool done = false;                 // kFetchCursor: no entries remain
};

struct ServerMsg {
  enum class Type { kHelloOk, kHelloError, kResponseOk, kResponseError };
  Type type = Type::kHelloOk;
  int32_t request_id = 0;  // kResponseOk, kResponseError
  WsResponse response;     // kResponseOk
  Status error;            // kHelloError, kResponseError
};

}  // namespace quarry::protocol
