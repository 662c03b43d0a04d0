#pragma once

// One call to the server's admin API (/admin/v1...), shared by the commands that use it
// (migrate, migrate push/verify/create --schema --db, schema introspect --db).

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "cli/connection_options.h"
#include "common/status.h"

namespace quarry::cli {

// One admin API call: the HTTP status and the parsed body (null when not JSON).
struct AdminReply {
  int status = 0;
  boost::json::value body;
  bool ok() const { return status >= 200 && status < 300; }
  // The server's error message for a failed reply.
  std::string Message() const;
};

// Sends `method` `/admin/v1<path>` with `body` and the admin token ResolveAdminToken gives.
// Fails when the server cannot be reached, --url is not an http URL, or a successful answer is
// not JSON; an HTTP error with a JSON body is a reply, not a failure.
Result<AdminReply> AdminCall(const ConnectionOptions& options, std::string_view method,
                             const std::string& path, const std::string& body);

}  // namespace quarry::cli
