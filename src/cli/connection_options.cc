#include "cli/connection_options.h"

#include <filesystem>

#include "cli/local_key.h"

namespace quarry::cli {

void AddConnectionOptions(CLI::App* cmd, ConnectionOptions& options) {
  cmd->add_option("--url", options.url, "Server URL (or file:PATH for a local database file)")
      ->envname("QUARRY_URL")
      ->capture_default_str();
  cmd->add_option("--token", options.token, "Access token (admin for db commands)")
      ->envname("QUARRY_TOKEN");
  cmd->add_option("--data", options.data_dir,
                  "Server data folder on this machine: sign a short-lived token with its key "
                  "instead of passing --token (default: ./quarry-data when it exists)")
      ->envname("QUARRY_DATA");
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
  return client::AdminClient::Open(options.url, token);
}

}  // namespace quarry::cli
