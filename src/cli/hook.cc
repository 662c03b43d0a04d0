// quarry hook: webhooks, a namespace's committed changes on one model POSTed to a URL
// (docs/realtime.md, "Webhooks").

#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/admin_call.h"
#include "cli/command.h"
#include "cli/table_format.h"

namespace quarry::cli {
namespace {

namespace json = boost::json;

struct HookOptions {
  ConnectionOptions connection;
  std::string db = "default";
  std::string id;
  bool json = false;
};

// Runs one admin call; prints the server's error and returns false when it fails.
bool Call(std::string_view command, const HookOptions& options, std::string_view method,
          const std::string& path, const std::string& body, json::value* out) {
  auto reply = AdminCall(options.connection, method, "/namespaces/" + options.db + path, body);
  if (!reply.ok()) {
    std::cerr << "quarry hook " << command << ": " << WithCredentialHint(reply.status().message())
              << "\n";
    return false;
  }
  if (!reply->ok()) {
    std::cerr << "quarry hook " << command << ": " << WithCredentialHint(reply->Message()) << "\n";
    return false;
  }
  *out = std::move(reply->body);
  return true;
}

std::string Text(const json::object& hook, std::string_view field) {
  const json::value* value = hook.if_contains(field);
  if (value == nullptr || value->is_null()) {
    return "-";
  }
  return value->is_string() ? std::string(value->get_string()) : json::serialize(*value);
}

int Create(const HookOptions& options, const std::string& model, const std::string& url,
           const std::string& where, const std::optional<uint64_t>& since) {
  json::object body{{"model", model}, {"url", url}};
  if (!where.empty()) {
    boost::system::error_code ec;
    json::value parsed = json::parse(where, ec);
    if (ec) {
      std::cerr << "quarry hook create: --where is not JSON: " << ec.message() << "\n";
      return 2;
    }
    body["where"] = std::move(parsed);
  }
  if (since) {
    body["since"] = *since;
  }
  json::value out;
  if (!Call("create", options, "POST", "/hooks", json::serialize(body), &out)) {
    return 1;
  }
  if (options.json) {
    std::cout << json::serialize(out) << "\n";
    return 0;
  }
  const json::object& hook = out.as_object();
  std::cout << "Created webhook " << Text(hook, "id") << " on " << options.db << "."
            << Text(hook, "model") << ", delivering changes after sequence "
            << Text(hook, "acked_seq") << " to " << Text(hook, "url") << ".\n"
            << "Signing secret (shown only now; the receiver checks Quarry-Signature with it):\n  "
            << Text(hook, "secret") << "\n";
  return 0;
}

int List(const HookOptions& options) {
  json::value out;
  if (!Call("list", options, "GET", "/hooks", "", &out)) {
    return 1;
  }
  const json::value* hooks = out.is_object() ? out.as_object().if_contains("hooks") : nullptr;
  if (options.json || hooks == nullptr || !hooks->is_array()) {
    std::cout << json::serialize(hooks != nullptr ? *hooks : out) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : hooks->as_array()) {
    const json::object& hook = item.as_object();
    rows.push_back({Text(hook, "id"), Text(hook, "model"), Text(hook, "url"), Text(hook, "where"),
                    Text(hook, "acked_seq"), Text(hook, "state"), Text(hook, "last_error")});
  }
  std::cout << FormatTable(
      {{"id"}, {"model"}, {"url"}, {"where"}, {"acked", true}, {"state"}, {"last error"}}, rows);
  return 0;
}

int Show(const HookOptions& options) {
  json::value out;
  if (!Call("show", options, "GET", "/hooks/" + options.id, "", &out)) {
    return 1;
  }
  std::cout << json::serialize(out) << "\n";
  return 0;
}

int Delete(const HookOptions& options) {
  json::value out;
  if (!Call("delete", options, "DELETE", "/hooks/" + options.id, "", &out)) {
    return 1;
  }
  std::cout << "Deleted webhook " << options.id << " of " << options.db << ".\n";
  return 0;
}

}  // namespace

void RegisterHookCommand(CLI::App& app, ExitCode& exit_code) {
  auto* hook = app.add_subcommand(
      "hook", "Manage webhooks: committed changes POSTed to a URL, in order, signed, retried");
  hook->require_subcommand(1);
  auto add_common = [](CLI::App* cmd, HookOptions& options) {
    cmd->add_option("--db", options.db, "Database (namespace) whose changes are sent")
        ->capture_default_str();
    AddConnectionOptions(cmd, options.connection, "--server");
  };
  {
    auto* cmd = hook->add_subcommand("create", "Create a webhook on one model");
    auto options = std::make_shared<HookOptions>();
    auto model = std::make_shared<std::string>();
    auto url = std::make_shared<std::string>();
    auto where = std::make_shared<std::string>();
    auto since = std::make_shared<std::optional<uint64_t>>();
    cmd->add_option("--model", *model,
                    "Model whose changes are sent (a table's name without a recorded schema)")
        ->required();
    cmd->add_option("--url", *url, "Where the batches are POSTed (http://host:port/path)")
        ->required();
    cmd->add_option("--where", *where,
                    "Only changes whose row matches (the data API's where, JSON)");
    cmd->add_option("--since", *since,
                    "Also send the logged changes after this sequence (default: from now)");
    cmd->add_flag("--json", options->json, "Print the server's JSON answer");
    add_common(cmd, *options);
    cmd->callback(
        [=, &exit_code] { exit_code.value = Create(*options, *model, *url, *where, *since); });
  }
  {
    auto* cmd = hook->add_subcommand("list", "List a database's webhooks and how delivery goes");
    auto options = std::make_shared<HookOptions>();
    cmd->add_flag("--json", options->json, "Print JSON instead of a table");
    add_common(cmd, *options);
    cmd->callback([=, &exit_code] { exit_code.value = List(*options); });
  }
  {
    auto* cmd = hook->add_subcommand("show", "Print one webhook's state as JSON");
    auto options = std::make_shared<HookOptions>();
    cmd->add_option("ID", options->id, "The webhook's id (hook_...)")->required();
    add_common(cmd, *options);
    cmd->callback([=, &exit_code] { exit_code.value = Show(*options); });
  }
  {
    auto* cmd = hook->add_subcommand("delete", "Delete a webhook (its deliveries stop)");
    auto options = std::make_shared<HookOptions>();
    cmd->add_option("ID", options->id, "The webhook's id (hook_...)")->required();
    add_common(cmd, *options);
    cmd->callback([=, &exit_code] { exit_code.value = Delete(*options); });
  }
}

}  // namespace quarry::cli
