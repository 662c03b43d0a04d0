#pragma once

// Transport-neutral HTTP request and response, so that code above `http/` never sees Beast.

#include <functional>
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

struct Response {
  int status = 200;
  // A constant (a literal): responses are built on every request, and this costs no copy.
  std::string_view content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Delivers the response for one request. Call exactly once, from any thread.
using Responder = std::function<void(Response)>;
// Handles a request; may answer later from another thread. Must not block the caller.
using Handler = std::function<void(Request, Responder)>;

}  // namespace quarry::http
