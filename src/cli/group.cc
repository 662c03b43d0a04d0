// quarry group: schema groups, sets of namespaces migrated together (`migrate apply --group`).

#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/admin_call.h"
#include "cli/command.h"

namespace quarry::cli {
namespace {

namespace json = boost::json;

struct GroupOptions {
  ConnectionOptions connection;
  std::string name;
  std::vector<std::string> members;
};

// Runs one admin call; prints the server's error and returns false when it fails.
bool Call(std::string_view command, const GroupOptions& options, std::string_view method,
          const std::string& path, const std::string& body, json::value* out) {
  auto reply = AdminCall(options.connection, method, path, body);
  if (!reply.ok()) {
    std::cerr << "quarry group " << command << ": " << WithCredentialHint(reply.status().message())
              << "\n";
    return false;
  }
  if (!reply->ok()) {
    std::cerr << "quarry group " << command << ": " << WithCredentialHint(reply->Message()) << "\n";
    return false;
  }
  *out = std::move(reply->body);
  return true;
}

void PrintMembers(const json::value& body) {
  const json::value* members =
      body.is_object() ? body.as_object().if_contains("namespaces") : nullptr;
  if (members == nullptr || !members->is_array()) {
    return;
  }
  for (const auto& member : members->as_array()) {
    if (member.is_string()) {
      std::cout << "  " << member.as_string().c_str() << "\n";
    } else if (const json::value* name =
                   member.is_object() ? member.as_object().if_contains("name") : nullptr;
               name != nullptr && name->is_string()) {
      const json::value* recorded = member.as_object().if_contains("recorded");
      size_t applied =
          recorded != nullptr && recorded->is_array() ? recorded->as_array().size() : 0;
      std::cout << "  " << name->as_string().c_str() << " (" << applied
                << (applied == 1 ? " migration" : " migrations") << " applied)\n";
    }
  }
}

int Create(const GroupOptions& options) {
  json::array members;
  for (const auto& m : options.members) {
    members.emplace_back(m);
  }
  json::value out;
  std::string body =
      json::serialize(json::object{{"name", options.name}, {"namespaces", std::move(members)}});
  if (!Call("create", options, "POST", "/groups", body, &out)) {
    return 1;
  }
  std::cout << "Group '" << options.name << "' has " << options.members.size()
            << (options.members.size() == 1 ? " namespace" : " namespaces") << ".\n";
  return 0;
}

int List(const GroupOptions& options) {
  json::value out;
  if (!Call("list", options, "GET", "/groups", "", &out)) {
    return 1;
  }
  const json::value* groups = out.is_object() ? out.as_object().if_contains("groups") : nullptr;
  if (groups != nullptr && groups->is_array()) {
    for (const auto& g : groups->as_array()) {
      if (g.is_string()) {
        std::cout << g.as_string().c_str() << "\n";
      }
    }
  }
  return 0;
}

int Show(const GroupOptions& options) {
  json::value out;
  if (!Call("show", options, "GET", "/groups/" + options.name, "", &out)) {
    return 1;
  }
  std::cout << options.name << ":\n";
  PrintMembers(out);
  return 0;
}

int Delete(const GroupOptions& options) {
  json::value out;
  if (!Call("delete", options, "DELETE", "/groups/" + options.name, "", &out)) {
    return 1;
  }
  std::cout << "Deleted group '" << options.name << "' (its namespaces are untouched).\n";
  return 0;
}

}  // namespace

void RegisterGroupCommand(CLI::App& app, ExitCode& exit_code) {
  auto* group = app.add_subcommand(
      "group", "Schema groups: namespaces migrated together, all or nothing (migrate --group)");
  group->require_subcommand(1);
  {
    auto* cmd = group->add_subcommand("create", "Create a group, or replace its members");
    auto options = std::make_shared<GroupOptions>();
    cmd->add_option("NAME", options->name, "Group name")->required();
    cmd->add_option("NAMESPACES", options->members, "Member namespaces")->required();
    AddConnectionOptions(cmd, options->connection);
    cmd->callback([=, &exit_code] { exit_code.value = Create(*options); });
  }
  {
    auto* cmd = group->add_subcommand("list", "List the groups");
    auto options = std::make_shared<GroupOptions>();
    AddConnectionOptions(cmd, options->connection);
    cmd->callback([=, &exit_code] { exit_code.value = List(*options); });
  }
  {
    auto* cmd = group->add_subcommand("show", "Show a group's members");
    auto options = std::make_shared<GroupOptions>();
    cmd->add_option("NAME", options->name, "Group name")->required();
    AddConnectionOptions(cmd, options->connection);
    cmd->callback([=, &exit_code] { exit_code.value = Show(*options); });
  }
  {
    auto* cmd = group->add_subcommand("delete", "Delete a group (not its namespaces)");
    auto options = std::make_shared<GroupOptions>();
    cmd->add_option("NAME", options->name, "Group name")->required();
    AddConnectionOptions(cmd, options->connection);
    cmd->callback([=, &exit_code] { exit_code.value = Delete(*options); });
  }
}

}  // namespace quarry::cli
