// Fuzz target: how the server reads a request's path and headers before any body:
// server::ResolveRoute (namespace from /db/<name>, x-namespace or Host) and
// server::Authenticate (the bearer token), plus storage::ValidateNamespaceName.
//
// Input, one item per line:
//   line 1         the method
//   line 2         the request target; a '?' starts the query string
//   "@base=D"      configures base domain D (host-based namespaces)
//   "@noauth"      configures --no-auth
//   "name: value"  a header (name lower-cased, as the HTTP layer does); in a value, "$TOKEN" is
//                  replaced by a token this key signed, so the accepting path is reachable.
//
// Properties: a resolved namespace is a valid name; a /db/<name>/rest path resolves to <name>
// and "/rest"; without --no-auth only the key's own tokens authenticate.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/key_pair.h"
#include "auth/token_cache.h"
#include "fuzz_check.h"
#include "http/message.h"
#include "server/config.h"
#include "server/routes.h"
#include "storage/namespace_name.h"

namespace {
using namespace quarry;

const auth::KeyPair& Key() {
  static const auth::KeyPair* key = [] {
    auto generated = auth::KeyPair::Generate();
    FUZZ_CHECK(generated.ok());
    return new auth::KeyPair(std::move(generated).value());
  }();
  return *key;
}

const std::string& ValidToken() {
  static const std::string* token = [] {
    auth::Claims claims;
    claims.access = auth::Access::kReadWrite;
    claims.namespaces = {"shop", "blog"};
    claims.subject = "fuzz";
    return new std::string(Key().Sign(claims));
  }();
  return *token;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  return lines;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines = Lines(input);
  http::Request request;
  server::ServerConfig config;
  if (!lines.empty()) {
    request.method = std::string(lines[0]);
  }
  if (lines.size() > 1) {
    std::string_view target = lines[1];
    size_t q = target.find('?');
    request.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) {
      request.query = std::string(target.substr(q + 1));
    }
  }
  bool has_valid_token = false;
  for (size_t i = 2; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.rfind("@base=", 0) == 0) {
      config.base_domain = std::string(line.substr(6));
      continue;
    }
    if (line == "@noauth") {
      config.no_auth = true;
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string value(line.substr(colon + 1));
    value.erase(0, value.find_first_not_of(' '));
    if (size_t at = value.find("$TOKEN"); at != std::string::npos) {
      value.replace(at, 6, ValidToken());
      has_valid_token = true;
    }
    request.headers.emplace_back(Lower(line.substr(0, colon)), std::move(value));
  }

  auto route = server::ResolveRoute(request, config);
  if (route.ok()) {
    FUZZ_CHECK(storage::ValidateNamespaceName(route->ns).ok());
    if (request.path.rfind("/db/", 0) == 0) {
      std::string_view rest = std::string_view(request.path).substr(4);
      size_t slash = rest.find('/');
      FUZZ_CHECK(route->ns == rest.substr(0, slash));
      FUZZ_CHECK(route->path == (slash == std::string_view::npos ? "/" : rest.substr(slash)));
    } else {
      FUZZ_CHECK(route->path == request.path);
    }
  } else {
    FUZZ_CHECK(route.status().code() == ErrorCode::kInvalidName);
  }

  auth::TokenCache tokens(Key(), 4);
  auto claims = server::Authenticate(request, config, tokens);
  if (config.no_auth) {
    FUZZ_CHECK(claims.ok() && claims->IsAdmin());
  } else if (claims.ok()) {
    FUZZ_CHECK(has_valid_token);
    FUZZ_CHECK(claims->subject == "fuzz" && !claims->IsAdmin());
  } else {
    FUZZ_CHECK(claims.status().code() == ErrorCode::kUnauthorized);
  }
  // Twice: the second answer comes from the cache and must be the same.
  auto cached = server::Authenticate(request, config, tokens);
  FUZZ_CHECK(cached.ok() == claims.ok());

  for (std::string_view line : lines) {
    if (storage::ValidateNamespaceName(line).ok()) {
      FUZZ_CHECK(line.size() <= 63 && line.find_first_of("./\\") == std::string_view::npos);
    }
  }
  return 0;
}
