#pragma once

// Bindings: the quarry.toml file that names the databases an application uses and the
// environment variables they become.
//
//   url = "http://127.0.0.1:8080"    # optional: the server for every binding
//
//   [[databases]]
//   binding = "DB"                   # becomes DB_URL and DB_TOKEN
//   name = "shop"                    # the namespace
//   url = "file:.quarry/shop.db"     # optional: this binding's server, or a local file
//
// Unknown keys inside a [[databases]] entry are errors (they are usually typos); unknown
// top-level keys are left for other tools. Errors name file:line:column.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace quarry::cli {

struct DatabaseBinding {
  std::string binding;  // [A-Z_][A-Z0-9_]*
  std::string name;     // a valid namespace name
  std::optional<std::string> url;
};

struct BindingsConfig {
  std::optional<std::string> url;
  std::vector<DatabaseBinding> databases;
};

// Parses TOML `text`; `source` names the file in error messages.
Result<BindingsConfig> ParseBindingsConfig(std::string_view text, std::string_view source);
Result<BindingsConfig> LoadBindingsConfig(const std::string& path);

// OK when `name` matches [A-Z_][A-Z0-9_]*.
Status ValidateBindingName(std::string_view name);

// The value of <BINDING>_URL for a binding served by `server_url` ("http://h:p[/...]"):
// "<origin>/db/<name>/" — with the trailing slash @libsql/client needs.
Result<std::string> BindingServerUrl(std::string_view server_url, std::string_view name);
// The local-development URL: "file:.quarry/<name>.db".
std::string BindingLocalUrl(std::string_view name);

}  // namespace quarry::cli
