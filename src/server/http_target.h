#pragma once

// HttpTarget: an http:// or https:// URL the server itself calls (a webhook receiver, an
// identity provider's key set), split into what client::HttpConnection needs. Parsed with
// Boost.URL. Plain value type.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace quarry::server {

struct HttpTarget {
  bool tls = false;    // https
  std::string host;    // name or address; IPv6 without brackets
  uint16_t port = 80;  // 443 for https when the URL names none
  std::string origin;  // "http(s)://host[:port]" as the URL gives it
  std::string target;  // the request target: path (at least "/") and query
};

// `url` split; kInvalidArgument saying what is wrong (not naming the URL's field) when it is not
// an absolute http(s) URL, carries credentials, a fragment, an empty host or port 0, or is longer
// than `max_bytes`.
Result<HttpTarget> ParseHttpTarget(std::string_view url, size_t max_bytes = 2048);

}  // namespace quarry::server
