// Fuzz target: Base64Decode and Base64UrlDecode on raw input, and the encoders on it.
//
// Properties: decoding what was encoded gives the input back (both alphabets); what decodes
// re-encodes to text that decodes to the same bytes; the URL-safe decoder refuses '+' and '/'
// and the standard one refuses '-' and '_'.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quarry;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  std::string encoded = Base64Encode(input);
  FUZZ_CHECK(encoded.size() % 4 == 0);
  auto back = Base64Decode(encoded);
  FUZZ_CHECK(back.has_value() && *back == input);
  std::string url = Base64UrlEncode(input);
  FUZZ_CHECK(url.find_first_of("+/=") == std::string::npos);
  auto url_back = Base64UrlDecode(url);
  FUZZ_CHECK(url_back.has_value() && *url_back == input);

  if (auto decoded = Base64Decode(input)) {
    FUZZ_CHECK(input.find_first_of("-_") == std::string_view::npos);
    auto again = Base64Decode(Base64Encode(*decoded));
    FUZZ_CHECK(again.has_value() && *again == *decoded);
    FUZZ_CHECK(decoded->size() <= input.size() / 4 * 3 + 2);
  }
  if (auto decoded = Base64UrlDecode(input)) {
    FUZZ_CHECK(input.find_first_of("+/") == std::string_view::npos);
    auto again = Base64UrlDecode(Base64UrlEncode(*decoded));
    FUZZ_CHECK(again.has_value() && *again == *decoded);
  }
  return 0;
}
