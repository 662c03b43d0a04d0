#pragma once

// ClientUrl: where a Client sends its requests, parsed from the URL forms Quarry accepts.
//
//   http://host[:port]             the server; namespace `default` (port 80 when omitted)
//   http://host[:port]/db/<name>/  namespace <name> (trailing slash optional)
//   http://host[:port]/any/prefix  requests go to <prefix>/v2/pipeline (a proxy's path)
//   https://host[:port]...         the same over TLS (port 443 when omitted)
//   libsql://, wss://              taken as https:// and ws:// as http://, as libSQL's
//                                  clients do: this client speaks Hrana over HTTP to the same
//                                  port and paths
//   file:/abs/path.db, file:rel.db, file://localhost/abs/path.db
//                                  a local SQLite file, served in-process (no server)
//
// Plain value type.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace quarry::client {

struct ClientUrl {
  enum class Kind { kHttp, kFile };
  Kind kind = Kind::kHttp;
  bool tls = false;         // kHttp: https (also libsql:, wss:)
  std::string host;         // kHttp: name or address; IPv6 without brackets
  uint16_t port = 80;       // kHttp: 80, or 443 with tls, when the URL names none
  std::string path_prefix;  // kHttp: "" or "/db/shop" (never a trailing slash)
  std::string ns;           // kHttp: the namespace named by a /db/<name> path, else empty
  std::string file_path;    // kFile

  // "http(s)://host:port" (brackets around IPv6), without the path: for messages and admin
  // calls.
  std::string Origin() const;
  // The URL in canonical form: Origin() + path_prefix, or "file:" + file_path.
  std::string ToString() const;
};

// Parses `url`; kInvalidArgument naming what is wrong otherwise.
Result<ClientUrl> ParseClientUrl(std::string_view url);

// A server URL (not file:) and the namespace the caller works on: `ns`, or else the one the URL
// names (/db/<name>). kInvalidArgument when the URL is a file or neither names a namespace;
// `what` ("the data API", "realtime") says what needs the server.
struct ServerNamespace {
  ClientUrl url;
  std::string ns;
};
Result<ServerNamespace> ParseServerNamespace(std::string_view url, const std::string& ns,
                                             std::string_view what);

}  // namespace quarry::client
