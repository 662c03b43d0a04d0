#pragma once

// The server's signing key read straight from a local data folder, so commands run on the
// server's machine need no token: they sign their own short-lived one.

#include <cstdint>
#include <filesystem>
#include <string>

#include "auth/key_pair.h"
#include "auth/token.h"
#include "common/status.h"

namespace quarry::cli {

// Reads <data_dir>/keys/jwt_ed25519.pem. kNotFound, naming the path and how to create it,
// when the file is missing.
Result<auth::KeyPair> LoadLocalKey(const std::filesystem::path& data_dir);

// Claims issued now, expiring `ttl_seconds` from now (no expiry when ttl_seconds <= 0).
auth::Claims ClaimsNow(auth::Access access, int64_t ttl_seconds);

}  // namespace quarry::cli
