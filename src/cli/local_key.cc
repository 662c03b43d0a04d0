#include "cli/local_key.h"

#include <chrono>
#include <fstream>
#include <sstream>

namespace quarry::cli {

Result<auth::KeyPair> LoadLocalKey(const std::filesystem::path& data_dir) {
  std::filesystem::path file = data_dir / "keys" / std::string(auth::KeyPair::kPrivateKeyFile);
  std::ifstream in(file);
  if (!in) {
    return Status(ErrorCode::kNotFound, "no signing key at " + file.string() +
                                            "; start the server once with --data " +
                                            data_dir.string() + " to create it");
  }
  std::stringstream pem;
  pem << in.rdbuf();
  return auth::KeyPair::FromPrivateKeyPem(pem.str());
}

auth::Claims ClaimsNow(auth::Access access, int64_t ttl_seconds) {
  auth::Claims claims;
  claims.access = access;
  claims.issued_at = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  if (ttl_seconds > 0) {
    claims.expires_at = claims.issued_at + ttl_seconds;
  }
  return claims;
}

}  // namespace quarry::cli
