#pragma once

// TestServer: a real QuarryServer on 127.0.0.1 with an ephemeral port and a temporary data
// folder, running on its own thread until destroyed.

#include <boost/json/value.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/quarry_server.h"

namespace quarry::testing {

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class TestServer {
 public:
  // Aborts the test binary (via gtest fatal failure in the caller) when the server fails to
  // start: check ok() before use. `adjust`, when given, changes the configuration first.
  explicit TestServer(const std::function<void(server::ServerConfig&)>& adjust = {});
  ~TestServer();

  bool ok() const { return server_ != nullptr; }
  const std::string& error() const { return error_; }
  uint16_t port() const { return server_->port(); }
  // "http://127.0.0.1:<port>"
  std::string url() const;
  std::string url(const std::string& ns) const { return url() + "/db/" + ns; }
  const std::filesystem::path& data_dir() const { return dir_.path(); }
  server::QuarryServer& server() { return *server_; }
  // A token signed with the server's key: admin over every namespace. The same token on every
  // call, as a real client holds one: the server continues a stream (baton) only for the
  // credential that opened it, and a token signed afresh each call would differ once the
  // clock's second ("iat") ticks between two requests of one stream.
  const std::string& AdminToken() const { return admin_token_; }
  // A token for `access` over every namespace (a different token each call: its subject).
  std::string Token(auth::Access access, const std::string& subject = "test") const {
    return Token(access, subject, std::chrono::hours(1));
  }
  // The same, valid for `lifetime` from now (whole seconds, as a token's exp counts them).
  std::string Token(auth::Access access, const std::string& subject,
                    std::chrono::seconds lifetime) const;
  // The flags that point a `quarry` command at this server: --url and --data.
  std::vector<std::string> CliFlags() const;
  // One admin API call (/admin/v1<path>) with the admin token: the HTTP status (0 when the
  // server could not be reached, which also fails the test) and, when `body` is given, the parsed
  // answer.
  int Admin(const std::string& method, const std::string& path, const std::string& request,
            boost::json::value* body = nullptr) const;

 private:
  std::string MakeAdminToken() const;

  TempDir dir_;
  std::string admin_token_;
  std::string error_;
  std::unique_ptr<server::QuarryServer> server_;
  std::thread thread_;
};

}  // namespace quarry::testing
