#include "common/random.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "common/base64.h"

namespace quarry {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();
  }
  return out;
}

std::string RandomToken() { return Base64UrlEncode(RandomBytes(32)); }

}  // namespace quarry
