// Fuzz target: the CLI's quarry.toml (cli::ParseBindingsConfig), a file users write by hand.
//
// Properties: bad input is an error naming quarry.toml:line:column, never an exception or a
// crash; an accepted config has at least one binding, every binding name and namespace name
// valid, no binding twice, and server URLs that BindingServerUrl accepts.

#include <cstdint>
#include <string>
#include <string_view>

#include "cli/bindings.h"
#include "fuzz_check.h"
#include "storage/namespace_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quarry;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = cli::ParseBindingsConfig(text, "quarry.toml");
  if (!config.ok()) {
    FUZZ_CHECK(config.status().message().rfind("quarry.toml", 0) == 0);
    return 0;
  }
  FUZZ_CHECK(!config->databases.empty());
  for (size_t i = 0; i < config->databases.size(); ++i) {
    const cli::DatabaseBinding& db = config->databases[i];
    FUZZ_CHECK(cli::ValidateBindingName(db.binding).ok());
    FUZZ_CHECK(storage::ValidateNamespaceName(db.name).ok());
    for (size_t k = 0; k < i; ++k) {
      FUZZ_CHECK(config->databases[k].binding != db.binding);
    }
    std::string local = cli::BindingLocalUrl(db.name);
    FUZZ_CHECK(local.find("..") == std::string::npos);
    const std::optional<std::string>& url = db.url ? db.url : config->url;
    if (url) {
      // A file: URL is refused here; an http one must give "<origin>/db/<name>/".
      auto server = cli::BindingServerUrl(*url, db.name);
      if (server.ok()) {
        FUZZ_CHECK(server->size() > db.name.size() + 5);
        FUZZ_CHECK(server->compare(server->size() - db.name.size() - 5, std::string::npos,
                                   "/db/" + db.name + "/") == 0);
      }
    }
  }
  return 0;
}
