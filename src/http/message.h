#pragma once

// Transport-neutral HTTP request and response, so that code above `http/` never sees Beast.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quarry::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // target without the query string, not decoded
  std::string query;   // after '?', may be empty
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  // The first header named `name` (lower-case), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
};

// The writing side of a streamed response body (Server-Sent Events). Any thread; once the
// connection is gone, calls do nothing.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // Queues bytes of the body (sent as one HTTP/1.1 chunk).
  virtual void Write(std::string bytes) = 0;
  // Ends the body; the connection then closes.
  virtual void End() = 0;
  // Bytes written and not yet sent to the socket.
  virtual size_t QueuedBytes() const = 0;
};

struct Response {
  int status = 200;
  // A constant (a literal): responses are built on every request, and this costs no copy.
  std::string_view content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: the body is streamed (chunked, `body` ignored) and the connection serves nothing
  // else. Called on the connection's I/O thread once the head is written, with the body's
  // writer; it returns what to call when the connection ends (the client left, or End was
  // written). Must not block.
  std::function<std::function<void()>(std::shared_ptr<BodyWriter>)> stream;
};

// Delivers the response for one request. Call exactly once, from any thread.
using Responder = std::function<void(Response)>;
// Handles a request; may answer later from another thread. Must not block the caller.
using Handler = std::function<void(Request&&, Responder)>;

}  // namespace quarry::http
