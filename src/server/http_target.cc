#include "server/http_target.h"

#include <boost/url/parse.hpp>
#include <charconv>

namespace quarry::server {

Result<HttpTarget> ParseHttpTarget(std::string_view url, size_t max_bytes) {
  auto invalid = [](std::string message) {
    return Status(ErrorCode::kInvalidArgument, std::move(message));
  };
  if (url.size() > max_bytes) {
    return invalid("longer than " + std::to_string(max_bytes) + " bytes");
  }
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return invalid("'" + std::string(url) + "' is not an absolute URL without a fragment (" +
                   parsed.error().message() + ")");
  }
  HttpTarget out;
  if (parsed->scheme() == "https") {
    out.tls = true;
    out.port = 443;
  } else if (parsed->scheme() != "http") {
    return invalid("expected an http:// or https:// URL, not " + std::string(parsed->scheme()) +
                   ":");
  }
  if (parsed->has_userinfo()) {
    return invalid("credentials in the URL are not supported");
  }
  out.host = std::string(parsed->encoded_host_address());
  if (out.host.empty()) {
    return invalid("the host is empty");
  }
  if (out.host.front() == '[') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (parsed->has_port()) {
    // Boost.URL's port_number() wraps numbers past 65535; read the digits here.
    std::string_view digits = parsed->port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535) {
      return invalid("the port must be 1..65535");
    }
    out.port = static_cast<uint16_t>(value);
  }
  out.origin = (out.tls ? "https://" : "http://") + std::string(parsed->encoded_host_and_port());
  out.target = std::string(parsed->encoded_path());
  if (out.target.empty()) {
    out.target = "/";
  }
  if (parsed->has_query()) {
    out.target += "?" + std::string(parsed->encoded_query());
  }
  return out;
}

}  // namespace quarry::server
