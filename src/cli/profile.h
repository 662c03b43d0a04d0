#pragma once

// The saved connection profile: a server URL and a token written by `quarry login` and read by
// every command given no --url/--token (see connection_options.h for the precedence). One
// profile per user, in $XDG_CONFIG_HOME/quarry/profile.toml (~/.config/quarry/profile.toml
// when XDG_CONFIG_HOME is unset or empty), readable by its owner only (0600), since the token
// grants whatever access it names.

#include <filesystem>
#include <optional>
#include <string>

#include "common/status.h"

namespace quarry::cli {

struct Profile {
  std::string url;      // http(s)://HOST:PORT, without a trailing slash
  std::string token;    // may be empty, for a server run with --no-auth
  std::string ca_file;  // CAs to trust for an https URL (login's --ca-file); empty: the system's
};

// Where the profile lives; empty when neither XDG_CONFIG_HOME nor HOME is set.
std::filesystem::path ProfilePath();

// The saved profile, or nullopt when there is none. Fails, naming the file, when it exists
// but cannot be read or is not a valid profile.
Result<std::optional<Profile>> LoadProfile(const std::filesystem::path& path);

// Writes `profile` to `path` atomically (a temporary file renamed over it), creating the
// folder (0700) and leaving the file 0600 whatever mode an older file had.
Status SaveProfile(const std::filesystem::path& path, const Profile& profile);

// Removes the profile; true when there was one.
Result<bool> RemoveProfile(const std::filesystem::path& path);

// `url` without trailing slashes, so http://h:1/ and http://h:1 compare equal.
std::string NormalizeServerUrl(std::string url);

}  // namespace quarry::cli
