#pragma once

// Transport: where a Client's Hrana pipeline requests go. Two implementations share every
// line of the client above them:
//   - over HTTP to a server (POST <prefix>/v2/pipeline with a bearer token), and
//   - in-process on a local SQLite file (file: URLs), through the same HranaService the
//     server uses, so local mode behaves exactly like the server.
// A Transport is used by one thread at a time.

#include <memory>
#include <string>
#include <string_view>

#include "client/http_connection.h"
#include "client/url.h"
#include "common/status.h"

namespace quarry::client {

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends a pipeline request body ({"baton", "requests"}) and returns the response body.
  // Transport failures and HTTP error responses come back as a Status carrying the server's
  // message and code (see StatusFromErrorBody).
  virtual Result<std::string> Pipeline(std::string_view body) = 0;
  // The URL this transport reaches, for messages.
  virtual std::string Describe() const = 0;
};

// A transport for an http:// URL; does not connect until the first request.
std::unique_ptr<Transport> MakeHttpTransport(const ClientUrl& url, std::string token,
                                             HttpOptions options = {});
// A transport running the engine in-process on `url.file_path`, creating the file if absent.
Result<std::unique_ptr<Transport>> MakeLocalTransport(const ClientUrl& url);

// The Status for an error object {"message", "code", "raw_code"?}: kSqlite with the SQLite
// result code for "SQLITE_*" codes, otherwise the ErrorCode whose wire code matches.
Status StatusFromErrorJson(std::string_view message, std::string_view code, int raw_code);
// The Status for an HTTP error response: the server's {"message","code"} when the body holds
// one, else the status line and body text.
Status StatusFromErrorBody(int http_status, std::string_view body, std::string_view where);

}  // namespace quarry::client
