#include "test_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>

#include "client/http_connection.h"

namespace quarry::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "quarry-it-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  path_ = made != nullptr ? std::filesystem::path(made) : std::filesystem::path();
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) {
    std::filesystem::remove_all(path_, ec);
  }
}

TestServer::TestServer(const std::function<void(server::ServerConfig&)>& adjust) {
  server::ServerConfig config;
  config.listen_address = "127.0.0.1";
  config.listen_port = 0;
  config.data_dir = dir_.path() / "data";
  config.worker_threads = 4;
  if (adjust) {
    adjust(config);
  }
  auto created = server::QuarryServer::Create(config);
  if (!created.ok()) {
    error_ = created.status().message();
    return;
  }
  Status listening = (*created)->Listen();
  if (!listening.ok()) {
    error_ = listening.message();
    return;
  }
  server_ = std::move(*created);
  admin_token_ = MakeAdminToken();
  thread_ = std::thread([server = server_.get()] { server->Run(); });
}

TestServer::~TestServer() {
  if (server_) {
    server_->Stop();
    thread_.join();
    server_.reset();
  }
}

std::string TestServer::url() const { return "http://127.0.0.1:" + std::to_string(port()); }

std::string TestServer::MakeAdminToken() const {
  auth::Claims claims;
  claims.access = auth::Access::kAdmin;
  claims.all_namespaces = true;
  claims.issued_at = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  claims.expires_at = claims.issued_at + 3600;
  return server_->key().Sign(claims);
}

std::string TestServer::Token(auth::Access access, const std::string& subject,
                              std::chrono::seconds lifetime) const {
  auth::Claims claims;
  claims.access = access;
  claims.all_namespaces = true;
  claims.subject = subject;
  claims.issued_at = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  claims.expires_at = claims.issued_at + lifetime.count();
  return server_->key().Sign(claims);
}

std::vector<std::string> TestServer::CliFlags() const {
  return {"--url", url(), "--data", (data_dir() / "data").string()};
}

int TestServer::Admin(const std::string& method, const std::string& path,
                      const std::string& request, boost::json::value* body) const {
  client::HttpConnection http("127.0.0.1", port(), url(), {});
  auto response = http.Send(method, "/admin/v1" + path, request, AdminToken());
  if (!response.ok()) {
    ADD_FAILURE() << "admin call " << method << " " << path
                  << " got no answer: " << response.status().ToString();
    return 0;
  }
  if (body != nullptr) {
    *body = boost::json::parse(response->body);
  }
  return response->status;
}

}  // namespace quarry::testing
