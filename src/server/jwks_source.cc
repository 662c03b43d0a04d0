#include "server/jwks_source.h"

#include <fstream>
#include <sstream>

#include "client/http_connection.h"
#include "server/http_target.h"

namespace quarry::server {
namespace {

constexpr size_t kMaxKeySetBytes = 1 << 20;

Status BadUrl(const std::string& url, std::string_view why) {
  return Status(ErrorCode::kInvalidArgument, "--jwks " + url + ": " + std::string(why));
}

Result<std::string> FetchHttp(const HttpTarget& target, const std::string& url,
                              const std::string& ca_file) {
  client::HttpOptions options;
  options.ca_file = ca_file;
  options.connect_timeout = std::chrono::seconds(5);
  options.request_timeout = std::chrono::seconds(10);
  client::HttpConnection http(target.host, target.port, target.origin, options);
  QUARRY_ASSIGN_OR_RETURN(client::HttpResponse response, http.Send("GET", target.target, "", ""));
  if (response.status != 200) {
    return Status(ErrorCode::kUnavailable,
                  "GET " + url + " answered HTTP " + std::to_string(response.status));
  }
  if (response.body.size() > kMaxKeySetBytes) {
    return Status(ErrorCode::kInvalidArgument, "the key set at " + url + " is larger than 1 MiB");
  }
  return std::move(response.body);
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(ErrorCode::kNotFound, "cannot open " + path);
  }
  std::string text;
  char buffer[8192];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxKeySetBytes) {
      return Status(ErrorCode::kInvalidArgument, "the key set " + path + " is larger than 1 MiB");
    }
  }
  if (in.bad()) {
    return Status(ErrorCode::kInternal, "cannot read " + path);
  }
  return text;
}

}  // namespace

Result<auth::JwksFetcher> JwksFetcherFor(const std::string& file_or_url,
                                         const std::string& ca_file) {
  if (file_or_url.empty()) {
    return Status(ErrorCode::kInvalidArgument, "--jwks needs a file path or an http(s):// URL");
  }
  if (file_or_url.starts_with("http://") || file_or_url.starts_with("https://")) {
    Result<HttpTarget> target = ParseHttpTarget(file_or_url);
    if (!target.ok()) {
      return BadUrl(file_or_url, target.status().message());
    }
    return auth::JwksFetcher([target = *target, file_or_url, ca_file] {
      return FetchHttp(target, file_or_url, ca_file);
    });
  }
  return auth::JwksFetcher([file_or_url] { return ReadFile(file_or_url); });
}

}  // namespace quarry::server
