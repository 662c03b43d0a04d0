#pragma once

// The options shared by every command that talks to a server: --url, --token and --data,
// and how they become a URL and a token.

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "auth/key_pair.h"
#include "client/admin_client.h"
#include "common/status.h"

namespace quarry::cli {

inline constexpr const char* kDefaultUrl = "http://127.0.0.1:8080";
inline constexpr const char* kDefaultDataDir = "quarry-data";

struct ConnectionOptions {
  std::string url = kDefaultUrl;  // --url, env QUARRY_URL
  std::string token;              // --token, env QUARRY_TOKEN
  std::string data_dir;           // --data, env QUARRY_DATA
  bool url_given = false;         // set by ResolveConnection: --url or QUARRY_URL present
};

// Adds --url, --token and --data to `cmd`, storing into `options` (which must outlive parsing).
void AddConnectionOptions(CLI::App* cmd, ConnectionOptions& options);

// The local signing key to use when no token was given: the one in --data, or in
// ./quarry-data when that folder exists. nullopt when neither applies. Fails when --data
// was given but holds no usable key.
Result<std::optional<auth::KeyPair>> FindLocalKey(const ConnectionOptions& options);

// The bearer token for admin-level work: --token, else a short-lived (5 min) admin token
// signed with the local key, else empty (for a server run with --no-auth).
Result<std::string> ResolveAdminToken(const ConnectionOptions& options);

// An AdminClient for options.url with ResolveAdminToken's token.
Result<std::unique_ptr<client::AdminClient>> OpenAdminClient(const ConnectionOptions& options);

}  // namespace quarry::cli
