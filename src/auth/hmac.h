#pragma once

// HMAC-SHA256 (OpenSSL), for values the server signs and later checks itself: data-API cursors
// (and, later, webhook payloads).

#include <string>
#include <string_view>

namespace quarry::auth {

// The 32-byte MAC of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

// SHA-256 of `data`, 32 bytes.
std::string Sha256(std::string_view data);

}  // namespace quarry::auth
