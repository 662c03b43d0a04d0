#include "server/jwks_source.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "client/http_connection.h"

namespace quarry::server {
namespace {

constexpr size_t kMaxKeySetBytes = 1 << 20;

struct HttpTarget {
  std::string host;  // IPv6 without brackets
  uint16_t port = 80;
  std::string origin;  // "http://host:port"
  std::string target;  // "/path?query"
};

Status BadUrl(const std::string& url, std::string_view why) {
  return Status(ErrorCode::kInvalidArgument, "--jwks " + url + ": " + std::string(why));
}

Result<HttpTarget> ParseHttpUrl(const std::string& url) {
  std::string_view rest = std::string_view(url).substr(7);  // after "http://"
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? "/" : rest.substr(slash);
  if (size_t hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  HttpTarget out;
  out.target =
      target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  if (authority.find('@') != std::string_view::npos) {
    return BadUrl(url, "credentials in the URL are not supported");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return BadUrl(url, "unterminated '[' in the host");
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return BadUrl(url, "expected ':' after ']'");
      }
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (out.host.empty()) {
    return BadUrl(url, "the host is empty");
  }
  if (!port_text.empty() || authority.ends_with(":")) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return BadUrl(url, "the port must be a number from 1 to 65535");
    }
    out.port = static_cast<uint16_t>(value);
  }
  std::string host_part = out.host.find(':') != std::string::npos ? "[" + out.host + "]" : out.host;
  out.origin = "http://" + host_part + ":" + std::to_string(out.port);
  return out;
}

Result<std::string> FetchHttp(const HttpTarget& target, const std::string& url) {
  client::HttpOptions options;
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

Result<auth::JwksFetcher> JwksFetcherFor(const std::string& file_or_url) {
  if (file_or_url.empty()) {
    return Status(ErrorCode::kInvalidArgument, "--jwks needs a file path or an http:// URL");
  }
  if (file_or_url.starts_with("https://")) {
    return BadUrl(file_or_url,
                  "https is not supported yet (Quarry speaks no TLS until a later release); "
                  "serve the key set over http:// on a network you trust, or save it to a file "
                  "and pass its path");
  }
  if (file_or_url.starts_with("http://")) {
    QUARRY_ASSIGN_OR_RETURN(HttpTarget target, ParseHttpUrl(file_or_url));
    return auth::JwksFetcher([target, file_or_url] { return FetchHttp(target, file_or_url); });
  }
  return auth::JwksFetcher([file_or_url] { return ReadFile(file_or_url); });
}

}  // namespace quarry::server
