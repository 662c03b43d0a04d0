#pragma once

// Unguessable identifiers from the operating system's CSPRNG (OpenSSL RAND_bytes).

#include <cstddef>
#include <string>

namespace quarry {

// `n` random bytes. Aborts if the CSPRNG fails: there is no safe fallback.
std::string RandomBytes(size_t n);
// 32 random bytes, URL-safe base64: suitable for batons and other bearer identifiers.
std::string RandomToken();

}  // namespace quarry
