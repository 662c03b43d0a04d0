#include "cli/bindings.h"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

#include "client/url.h"
#include "storage/namespace_name.h"

namespace quarry::cli {

namespace {

Status ErrorAt(std::string_view source, const toml::source_region& where, std::string_view what) {
  return Status(ErrorCode::kInvalidArgument,
                std::string(source) + ":" + std::to_string(where.begin.line) + ":" +
                    std::to_string(where.begin.column) + ": " + std::string(what));
}

Result<std::string> StringKey(const toml::table& table, std::string_view key,
                              std::string_view source, std::string_view context) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    return ErrorAt(source, table.source(),
                   std::string(context) + " needs a \"" + std::string(key) + "\" key");
  }
  const auto* value = node->as_string();
  if (value == nullptr) {
    return ErrorAt(source, node->source(), "\"" + std::string(key) + "\" must be a string");
  }
  return value->get();
}

Status CheckUrl(std::string_view url, std::string_view source, const toml::node& node) {
  auto parsed = client::ParseClientUrl(url);
  if (!parsed.ok()) {
    return ErrorAt(source, node.source(), parsed.status().message());
  }
  return Status::Ok();
}

Result<toml::table> ParseToml(std::string_view text, std::string_view source) {
#if TOML_EXCEPTIONS
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return ErrorAt(source, e.source(), e.description());
  }
#else
  toml::parse_result result = toml::parse(text, source);
  if (!result) {
    return ErrorAt(source, result.error().source(), result.error().description());
  }
  return std::move(result).table();
#endif
}

}  // namespace

Status ValidateBindingName(std::string_view name) {
  bool ok = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) {
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) {
    return Status(ErrorCode::kInvalidArgument,
                  "binding \"" + std::string(name) +
                      "\" must be an environment variable name: upper-case letters, digits "
                      "and '_', not starting with a digit");
  }
  return Status::Ok();
}

Result<BindingsConfig> ParseBindingsConfig(std::string_view text, std::string_view source) {
  QUARRY_ASSIGN_OR_RETURN(toml::table root, ParseToml(text, source));
  BindingsConfig config;
  if (const toml::node* url = root.get("url")) {
    const auto* s = url->as_string();
    if (s == nullptr) {
      return ErrorAt(source, url->source(), "\"url\" must be a string");
    }
    QUARRY_RETURN_IF_ERROR(CheckUrl(s->get(), source, *url));
    config.url = s->get();
  }
  const toml::node* databases = root.get("databases");
  if (databases == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  std::string(source) +
                      ": no [[databases]] entries; add one with binding = \"DB\" and name = "
                      "\"<database>\"");
  }
  const toml::array* list = databases->as_array();
  if (list == nullptr) {
    return ErrorAt(source, databases->source(),
                   "\"databases\" must be an array of tables ([[databases]])");
  }
  for (const toml::node& item : *list) {
    const toml::table* entry = item.as_table();
    if (entry == nullptr) {
      return ErrorAt(source, item.source(), "each [[databases]] entry must be a table");
    }
    for (const auto& [key, value] : *entry) {
      if (key.str() != "binding" && key.str() != "name" && key.str() != "url") {
        return ErrorAt(source, value.source(),
                       "unknown key \"" + std::string(key.str()) +
                           "\" in [[databases]] (expected binding, name, url)");
      }
    }
    DatabaseBinding binding;
    QUARRY_ASSIGN_OR_RETURN(binding.binding,
                            StringKey(*entry, "binding", source, "[[databases]] entry"));
    QUARRY_ASSIGN_OR_RETURN(binding.name, StringKey(*entry, "name", source, "[[databases]] entry"));
    Status valid = ValidateBindingName(binding.binding);
    if (!valid.ok()) {
      return ErrorAt(source, entry->get("binding")->source(), valid.message());
    }
    valid = storage::ValidateNamespaceName(binding.name);
    if (!valid.ok()) {
      return ErrorAt(source, entry->get("name")->source(), valid.message());
    }
    if (const toml::node* url = entry->get("url")) {
      const auto* s = url->as_string();
      if (s == nullptr) {
        return ErrorAt(source, url->source(), "\"url\" must be a string");
      }
      QUARRY_RETURN_IF_ERROR(CheckUrl(s->get(), source, *url));
      binding.url = s->get();
    }
    for (const auto& other : config.databases) {
      if (other.binding == binding.binding) {
        return ErrorAt(source, entry->get("binding")->source(),
                       "binding \"" + binding.binding + "\" is declared twice");
      }
    }
    config.databases.push_back(std::move(binding));
  }
  if (config.databases.empty()) {
    return ErrorAt(source, databases->source(), "\"databases\" is empty");
  }
  return config;
}

Result<BindingsConfig> LoadBindingsConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status(ErrorCode::kNotFound,
                  "cannot read " + path +
                      " (create a quarry.toml with [[databases]] entries, or pass --config FILE)");
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseBindingsConfig(text.str(), path);
}

Result<std::string> BindingServerUrl(std::string_view server_url, std::string_view name) {
  QUARRY_ASSIGN_OR_RETURN(client::ClientUrl url, client::ParseClientUrl(server_url));
  if (url.kind != client::ClientUrl::Kind::kHttp) {
    return Status(ErrorCode::kInvalidArgument,
                  "expected a server URL, not " + std::string(server_url));
  }
  return url.Origin() + "/db/" + std::string(name) + "/";
}

std::string BindingLocalUrl(std::string_view name) {
  return "file:.quarry/" + std::string(name) + ".db";
}

}  // namespace quarry::cli
