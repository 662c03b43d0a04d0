#pragma once

// The options shared by every command that talks to a server: --url, --token and --data,
// and how they become a URL and a token.
//
// The URL is the first of: --url, QUARRY_URL, the saved profile's URL (`quarry login`,
// profile.h), http://127.0.0.1:8080. The token is the first of: --token, QUARRY_TOKEN, a
// short-lived admin token signed with the key in --data (or QUARRY_DATA), the profile's token
// when the URL is the profile's server, a short-lived admin token signed with the key in
// ./quarry-data when that folder exists, none. A profile token is never sent to another
// server. docs/cli.md states the same order.

#include <CLI/CLI.hpp>
#include <filesystem>
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
  std::string url = kDefaultUrl;    // --url, env QUARRY_URL
  std::string token;                // --token, env QUARRY_TOKEN
  std::string data_dir;             // --data, env QUARRY_DATA
  std::string ca_file;              // --ca-file, env QUARRY_CA_FILE: CAs trusted for https
  bool url_given = false;           // --url or QUARRY_URL present
  bool token_from_profile = false;  // `token` is the profile's, valid for `url` only
};

// Adds --url, --token, --data and --ca-file to `cmd`, storing into `options` (which must outlive
// parsing), and, once `cmd` is parsed, fills in the URL and token from the saved profile as the
// order above says. A profile that exists but cannot be read stops the command (exit code 1) with a
// message naming the file, unless --url and --token were both given.
// `url_flag` names the server URL's option where --url means something else (`quarry hook
// create --url` is the receiver's).
void AddConnectionOptions(CLI::App* cmd, ConnectionOptions& options,
                          const std::string& url_flag = "--url");

// The local signing key to use when no token was given: the one in --data, or in
// ./quarry-data when that folder exists. nullopt when neither applies. Fails when --data
// was given but holds no usable key.
Result<std::optional<auth::KeyPair>> FindLocalKey(const ConnectionOptions& options);

// The bearer token for admin-level work: --token, else a short-lived (5 min) admin token
// signed with the local key, else empty (for a server run with --no-auth).
Result<std::string> ResolveAdminToken(const ConnectionOptions& options);

// Applies the saved profile at `profile_path` to `options` as AddConnectionOptions does after
// parsing; `token_given` says whether --token or QUARRY_TOKEN was present.
Status ApplyProfile(ConnectionOptions& options, bool token_given,
                    const std::filesystem::path& profile_path);

// `message` with a pointer to `quarry login` when it is the server's complaint that no token
// was sent (the CLI found none to send), or that a token was refused while a profile exists
// (its token may predate the server's key).
std::string WithCredentialHint(const std::string& message);

// How to reach the server: --ca-file's trust for https URLs, default timeouts.
client::HttpOptions HttpOptionsOf(const ConnectionOptions& options);

// An AdminClient for options.url with ResolveAdminToken's token.
Result<std::unique_ptr<client::AdminClient>> OpenAdminClient(const ConnectionOptions& options);

}  // namespace quarry::cli
