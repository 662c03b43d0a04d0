#pragma once

// AdminClient: the server's admin API (/admin/v1) — namespaces and tokens. It needs an admin
// token and an http:// URL; only the URL's origin is used (a /db/<name> path is ignored).
// Used by one thread at a time.

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/http_connection.h"
#include "common/status.h"

namespace quarry::client {

struct NamespaceInfo {
  std::string name;
  uint64_t size_bytes = 0;
  int64_t created_at_ms = 0;
  std::optional<int64_t> last_used_ms;  // nullopt when never used
  bool foreign_keys = true;             // SQLite enforces foreign keys in it
};

struct TokenRequest {
  bool all_namespaces = false;          // "namespaces": "*"
  std::vector<std::string> namespaces;  // used when !all_namespaces
  std::string access = "rw";            // "ro", "rw" or "admin"; not sent for a user token
  // Set for a user token: the object its policies read as auth().
  std::optional<boost::json::object> user;
  std::optional<int64_t> expires_in;  // seconds; nullopt for no expiry
  std::string subject;
};

class AdminClient {
 public:
  static Result<std::unique_ptr<AdminClient>> Open(const std::string& url, const std::string& token,
                                                   const HttpOptions& options = {});
  ~AdminClient();

  Result<std::vector<NamespaceInfo>> ListNamespaces();
  // kAlreadyExists when taken; kInvalidName for a bad name.
  // `foreign_keys` unset takes the server's default.
  Status CreateNamespace(const std::string& name, std::optional<bool> foreign_keys = std::nullopt);
  // Changes a namespace's foreign-key enforcement; kNamespaceNotFound when missing.
  Status SetForeignKeys(const std::string& name, bool on);
  // kNamespaceNotFound when missing.
  Status DeleteNamespace(const std::string& name);
  Status ForkNamespace(const std::string& from, const std::string& to);
  // A signed token, as the server mints it.
  Result<std::string> CreateToken(const TokenRequest& request);

 private:
  AdminClient(std::string origin, std::string token, std::unique_ptr<HttpConnection> http);
  // Sends a request and returns the body of a 2xx response; the server's error otherwise.
  Result<std::string> Call(std::string_view method, const std::string& path, std::string_view body);

  std::string origin_;
  std::string token_;
  std::unique_ptr<HttpConnection> http_;
};

}  // namespace quarry::client
