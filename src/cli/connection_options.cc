#include "cli/connection_options.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/local_key.h"
#include "cli/profile.h"
#include "client/url.h"

namespace quarry::cli {

namespace {

// The server part of a URL (http://host:port), or the URL itself when it does not parse.
std::string ServerOf(const std::string& url) {
  auto parsed = client::ParseClientUrl(url);
  if (parsed.ok() && parsed->kind == client::ClientUrl::Kind::kHttp) {
    return parsed->Origin();
  }
  return NormalizeServerUrl(url);
}

bool EnvSet(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] != '\0';
}

}  // namespace

Status ApplyProfile(ConnectionOptions& options, bool token_given,
                    const std::filesystem::path& profile_path) {
  if (options.url_given && token_given) {
    // Nothing to take from a profile but its CA file, and a profile that cannot be read does
    // not stop a command that names its server and token.
    auto profile = LoadProfile(profile_path);
    if (profile.ok() && *profile && options.ca_file.empty() &&
        ServerOf(options.url) == ServerOf((*profile)->url)) {
      options.ca_file = (*profile)->ca_file;
    }
    return Status::Ok();
  }
  QUARRY_ASSIGN_OR_RETURN(std::optional<Profile> profile, LoadProfile(profile_path));
  if (!profile) {
    return Status::Ok();
  }
  if (!options.url_given) {
    options.url = profile->url;
  }
  if (!token_given && options.data_dir.empty() && ServerOf(options.url) == ServerOf(profile->url)) {
    options.token = profile->token;
    options.token_from_profile = true;
  }
  if (options.ca_file.empty() && ServerOf(options.url) == ServerOf(profile->url)) {
    options.ca_file = profile->ca_file;
  }
  return Status::Ok();
}

std::string WithCredentialHint(const std::string& message) {
  bool refused = message.find("invalid token") != std::string::npos ||
                 message.find("token expired") != std::string::npos;
  std::error_code ec;
  if (refused && std::filesystem::exists(ProfilePath(), ec)) {
    return message +
           "\n  (if that is the token `quarry login` saved, the server no longer accepts it "
           "(a new data folder has a new key): run `quarry login` again)";
  }
  if (message.find("missing Authorization header") == std::string::npos) {
    return message;
  }
  return message +
         "\n  (no token to send: run `quarry login`, or pass --token, or --data with the "
         "server's data folder; see docs/cli.md)";
}

void AddConnectionOptions(CLI::App* cmd, ConnectionOptions& options, const std::string& url_flag) {
  auto* url = cmd->add_option(url_flag, options.url,
                              "Server URL (or file:PATH for a local database file); default: "
                              "the saved profile's (quarry login), else " +
                                  std::string(kDefaultUrl))
                  ->envname("QUARRY_URL");
  cmd->add_option("--ca-file", options.ca_file,
                  "PEM file of certificate authorities to trust, besides the system's store, "
                  "for an https:// (or libsql://) server; default: the saved profile's")
      ->envname("QUARRY_CA_FILE")
      ->check(CLI::ExistingFile);
  auto* token = cmd->add_option("--token", options.token,
                                "Access token (admin for db commands); default: the saved "
                                "profile's, else one signed with the local data folder's key")
                    ->envname("QUARRY_TOKEN");
  cmd->parse_complete_callback([&options, url, token] {
    options.url_given = url->count() > 0 || EnvSet("QUARRY_URL");
    bool token_given = token->count() > 0 || EnvSet("QUARRY_TOKEN");
    Status applied = ApplyProfile(options, token_given, ProfilePath());
    if (!applied.ok()) {
      std::cerr << "quarry: " << applied.message() << "\n";
      throw CLI::RuntimeError(1);
    }
  });
  cmd->add_option("--data", options.data_dir,
                  "Server data folder on this machine: sign a short-lived token with its key "
                  "instead of passing --token (default: ./quarry-data when it exists)")
      ->envname("QUARRY_DATA");
}

client::HttpOptions HttpOptionsOf(const ConnectionOptions& options) {
  client::HttpOptions http;
  http.ca_file = options.ca_file;
  return http;
}

Result<std::optional<auth::KeyPair>> FindLocalKey(const ConnectionOptions& options) {
  if (!options.data_dir.empty()) {
    QUARRY_ASSIGN_OR_RETURN(auth::KeyPair key, LoadLocalKey(options.data_dir));
    return std::optional<auth::KeyPair>(std::move(key));
  }
  std::error_code ec;
  if (std::filesystem::is_directory(kDefaultDataDir, ec)) {
    auto key = LoadLocalKey(kDefaultDataDir);
    if (key.ok()) {
      return std::optional<auth::KeyPair>(std::move(*key));
    }
  }
  return std::optional<auth::KeyPair>();
}

Result<std::string> ResolveAdminToken(const ConnectionOptions& options) {
  if (!options.token.empty()) {
    return options.token;
  }
  QUARRY_ASSIGN_OR_RETURN(std::optional<auth::KeyPair> key, FindLocalKey(options));
  if (!key) {
    return std::string();
  }
  auth::Claims claims = ClaimsNow(auth::Access::kAdmin, /*ttl_seconds=*/300);
  claims.all_namespaces = true;
  claims.subject = "quarry-cli";
  return key->Sign(claims);
}

Result<std::unique_ptr<client::AdminClient>> OpenAdminClient(const ConnectionOptions& options) {
  QUARRY_ASSIGN_OR_RETURN(std::string token, ResolveAdminToken(options));
  return client::AdminClient::Open(options.url, token, HttpOptionsOf(options));
}

}  // namespace quarry::cli
