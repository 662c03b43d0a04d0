// Fuzz target: client::ParseClientUrl, which reads URLs users pass to the CLI and SDK
// (--url, QUARRY_URL, quarry.toml).
//
// Properties: no crash; an accepted URL's canonical form (ToString) parses to the same URL.
// Known bug (known_crashes/fuzz_client_url/): a file path starting with "//" ("file:////x")
// prints as "file://x", which does not parse; and any byte is accepted in a host, so
// "http://[[x]/" gives host "[x", printed without brackets, which does not parse. Both are
// skipped until fixed: the round trip is checked for hosts of letters, digits, '.', '-', ':'.

#include <cstdint>
#include <string_view>

#include "client/url.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quarry::client;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = ParseClientUrl(text);
  if (!url.ok()) {
    return 0;
  }
  if (url->kind == ClientUrl::Kind::kFile && url->file_path.rfind("//", 0) == 0) {
    return 0;
  }
  for (char c : url->host) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == ':';
    if (!plain) {
      return 0;
    }
  }
  auto again = ParseClientUrl(url->ToString());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->kind == url->kind);
  FUZZ_CHECK(again->host == url->host);
  FUZZ_CHECK(again->port == url->port);
  FUZZ_CHECK(again->path_prefix == url->path_prefix);
  FUZZ_CHECK(again->ns == url->ns);
  FUZZ_CHECK(again->file_path == url->file_path);
  return 0;
}
