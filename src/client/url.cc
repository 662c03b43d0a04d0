#include "client/url.h"

#include <charconv>

#include "storage/namespace_name.h"

namespace quarry::client {

namespace {

Status Invalid(std::string_view url, std::string_view why) {
  return Status(ErrorCode::kInvalidArgument,
                "invalid URL '" + std::string(url) + "': " + std::string(why));
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string ClientUrl::Origin() const {
  if (kind == Kind::kFile) {
    return "file:" + file_path;
  }
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return (tls ? "https://" : "http://") + host_part + ":" + std::to_string(port);
}

std::string ClientUrl::ToString() const {
  return kind == Kind::kFile ? Origin() : Origin() + path_prefix;
}

Result<ClientUrl> ParseClientUrl(std::string_view url) {
  ClientUrl out;
  if (url.empty()) {
    return Invalid(url, "the URL is empty");
  }
  if (StartsWith(url, "file:")) {
    std::string_view path = url.substr(5);
    if (StartsWith(path, "//")) {
      path.remove_prefix(2);
      if (StartsWith(path, "localhost/")) {
        path.remove_prefix(9);
      } else if (!StartsWith(path, "/")) {
        return Invalid(url, "a file: URL names a local path (file:/abs/path.db or file:rel.db)");
      }
    }
    if (size_t q = path.find('?'); q != std::string_view::npos) {
      return Invalid(url, "query parameters are not supported on file: URLs");
    }
    if (path.empty()) {
      return Invalid(url, "the file: URL has no path");
    }
    out.kind = ClientUrl::Kind::kFile;
    out.file_path = std::string(path);
    return out;
  }
  std::string_view rest;
  for (auto [scheme, tls] : {std::pair<std::string_view, bool>{"http://", false},
                             {"https://", true},
                             {"libsql://", true},
                             {"wss://", true},
                             {"ws://", false}}) {
    if (StartsWith(url, scheme)) {
      rest = url.substr(scheme.size());
      out.tls = tls;
      out.port = tls ? 443 : 80;
      break;
    }
  }
  if (rest.data() == nullptr) {
    return Invalid(url, "expected http(s)://host:port[/db/<name>] or file:<path>");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Invalid(url, "query strings and fragments are not supported");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return Invalid(url, "credentials in the URL are not supported; pass a token instead");
  }
  std::string_view port_text;
  if (StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Invalid(url, "unterminated '[' in the host");
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Invalid(url, "expected ':' after ']'");
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        return Invalid(url, "the port is empty");
      }
    }
  } else {
    size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) {
        return Invalid(url, "the port is empty");
      }
    }
  }
  if (out.host.empty()) {
    return Invalid(url, "the host is empty");
  }
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return Invalid(url, "the port must be a number from 1 to 65535");
    }
    out.port = static_cast<uint16_t>(value);
  }
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  out.path_prefix = std::string(path);
  if (StartsWith(path, "/db/")) {
    std::string_view name = path.substr(4);
    if (name.find('/') != std::string_view::npos) {
      return Invalid(url, "expected /db/<name> with nothing after the name");
    }
    Status valid = storage::ValidateNamespaceName(name);
    if (!valid.ok()) {
      return Invalid(url, valid.message());
    }
    out.ns = std::string(name);
  } else if (path == "/db") {
    return Invalid(url, "the /db/ path needs a namespace name");
  }
  return out;
}

Result<ServerNamespace> ParseServerNamespace(std::string_view url, const std::string& ns,
                                             std::string_view what) {
  QUARRY_ASSIGN_OR_RETURN(ClientUrl parsed, ParseClientUrl(url));
  if (parsed.kind != ClientUrl::Kind::kHttp) {
    return Status(
        ErrorCode::kInvalidArgument,
        std::string(what) + " needs a server URL (http(s)://host:port), not " + std::string(url));
  }
  std::string name = ns.empty() ? parsed.ns : ns;
  if (name.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "name a namespace (or use a URL ending in /db/<namespace>)");
  }
  return ServerNamespace{std::move(parsed), std::move(name)};
}

}  // namespace quarry::client
