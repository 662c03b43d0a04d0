#include <unistd.h>

#include <boost/json.hpp>
#include <ctime>
#include <iostream>
#include <optional>

#include "cli/command.h"
#include "cli/connection_options.h"
#include "cli/table_format.h"

namespace quarry::cli {

namespace {

// Prints "quarry db <cmd>: <message>" and returns the exit code for a failed request.
int Fail(std::string_view command, const Status& status) {
  std::cerr << "quarry db " << command << ": " << WithCredentialHint(status.message()) << "\n";
  return 1;
}

std::string HumanSize(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double size = static_cast<double>(bytes);
  int unit = 0;
  while (size >= 1024 && unit < 4) {
    size /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", size, units[unit]);
  }
  return buf;
}

std::string UtcTime(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// "on" / "off" (as given to --foreign-keys) to a setting; CLI11 has already refused others.
std::optional<bool> OnOff(const std::string& value) {
  if (value.empty()) {
    return std::nullopt;
  }
  return value == "on";
}

int Create(const ConnectionOptions& options, const std::string& name,
           const std::string& foreign_keys) {
  auto admin = OpenAdminClient(options);
  if (!admin.ok()) {
    return Fail("create", admin.status());
  }
  Status created = (*admin)->CreateNamespace(name, OnOff(foreign_keys));
  if (!created.ok()) {
    return Fail("create", created);
  }
  std::cout << "Created database '" << name << "'.\n";
  return 0;
}

int Configure(const ConnectionOptions& options, const std::string& name,
              const std::string& foreign_keys) {
  if (foreign_keys.empty()) {
    std::cerr << "quarry db config: nothing to change; give --foreign-keys on|off\n";
    return 2;
  }
  auto admin = OpenAdminClient(options);
  if (!admin.ok()) {
    return Fail("config", admin.status());
  }
  Status set = (*admin)->SetForeignKeys(name, foreign_keys == "on");
  if (!set.ok()) {
    return Fail("config", set);
  }
  std::cout << "Foreign keys are " << foreign_keys << " in database '" << name << "'.\n";
  return 0;
}

int List(const ConnectionOptions& options, bool as_json) {
  auto admin = OpenAdminClient(options);
  if (!admin.ok()) {
    return Fail("list", admin.status());
  }
  auto list = (*admin)->ListNamespaces();
  if (!list.ok()) {
    return Fail("list", list.status());
  }
  if (as_json) {
    boost::json::array out;
    for (const auto& ns : *list) {
      out.push_back(boost::json::object{
          {"name", ns.name},
          {"size_bytes", ns.size_bytes},
          {"created_at", ns.created_at_ms},
          {"last_used_at",
           ns.last_used_ms ? boost::json::value(*ns.last_used_ms) : boost::json::value(nullptr)},
          {"foreign_keys", ns.foreign_keys}});
    }
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& ns : *list) {
    rows.push_back({ns.name, HumanSize(ns.size_bytes), UtcTime(ns.created_at_ms),
                    ns.last_used_ms ? UtcTime(*ns.last_used_ms) : "-",
                    ns.foreign_keys ? "on" : "off"});
  }
  std::cout << FormatTable(
      {{"name"}, {"size", true}, {"created (UTC)"}, {"last used (UTC)"}, {"foreign keys"}}, rows);
  return 0;
}

int Delete(const ConnectionOptions& options, const std::string& name, bool yes) {
  if (!yes) {
    if (isatty(STDIN_FILENO) == 0) {
      std::cerr << "quarry db delete: refusing to delete '" << name
                << "' without confirmation; pass --yes\n";
      return 2;
    }
    std::cerr << "Delete database '" << name
              << "' and all its data? This cannot be undone. Type its name to confirm: "
              << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != name) {
      std::cerr << "Not deleted.\n";
      return 1;
    }
  }
  auto admin = OpenAdminClient(options);
  if (!admin.ok()) {
    return Fail("delete", admin.status());
  }
  Status deleted = (*admin)->DeleteNamespace(name);
  if (!deleted.ok()) {
    return Fail("delete", deleted);
  }
  std::cout << "Deleted database '" << name << "'.\n";
  return 0;
}

int Fork(const ConnectionOptions& options, const std::string& from, const std::string& to) {
  auto admin = OpenAdminClient(options);
  if (!admin.ok()) {
    return Fail("fork", admin.status());
  }
  Status forked = (*admin)->ForkNamespace(from, to);
  if (!forked.ok()) {
    return Fail("fork", forked);
  }
  std::cout << "Forked '" << from << "' into '" << to << "'.\n";
  return 0;
}

}  // namespace

void RegisterDbCommands(CLI::App& app, ExitCode& exit_code) {
  auto* db = app.add_subcommand("db", "Manage databases (namespaces) on a server");
  db->require_subcommand(1);

  {
    auto* cmd = db->add_subcommand("create", "Create a database");
    auto options = std::make_shared<ConnectionOptions>();
    auto name = std::make_shared<std::string>();
    auto foreign_keys = std::make_shared<std::string>();
    cmd->add_option("NAME", *name, "Database name ([a-z0-9][a-z0-9_-]*)")->required();
    cmd->add_option("--foreign-keys", *foreign_keys,
                    "Enforce foreign keys: on or off (default: the server's, on)")
        ->check(CLI::IsMember({"on", "off"}));
    AddConnectionOptions(cmd, *options);
    cmd->callback([=, &exit_code] { exit_code.value = Create(*options, *name, *foreign_keys); });
  }
  {
    auto* cmd = db->add_subcommand("config", "Change a database's settings");
    auto options = std::make_shared<ConnectionOptions>();
    auto name = std::make_shared<std::string>();
    auto foreign_keys = std::make_shared<std::string>();
    cmd->add_option("NAME", *name, "Database name")->required();
    cmd->add_option("--foreign-keys", *foreign_keys, "Enforce foreign keys: on or off")
        ->check(CLI::IsMember({"on", "off"}));
    AddConnectionOptions(cmd, *options);
    cmd->callback([=, &exit_code] { exit_code.value = Configure(*options, *name, *foreign_keys); });
  }
  {
    auto* cmd = db->add_subcommand("list", "List databases with size and last use");
    auto options = std::make_shared<ConnectionOptions>();
    auto as_json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *as_json, "Print JSON instead of a table");
    AddConnectionOptions(cmd, *options);
    cmd->callback([=, &exit_code] { exit_code.value = List(*options, *as_json); });
  }
  {
    auto* cmd = db->add_subcommand("delete", "Delete a database and all its data");
    auto options = std::make_shared<ConnectionOptions>();
    auto name = std::make_shared<std::string>();
    auto yes = std::make_shared<bool>(false);
    cmd->add_option("NAME", *name, "Database name")->required();
    cmd->add_flag("-y,--yes", *yes, "Do not ask for confirmation (required when not on a TTY)");
    AddConnectionOptions(cmd, *options);
    cmd->callback([=, &exit_code] { exit_code.value = Delete(*options, *name, *yes); });
  }
  {
    auto* cmd = db->add_subcommand("fork", "Copy a database into a new one, consistently");
    auto options = std::make_shared<ConnectionOptions>();
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    cmd->add_option("SRC", *from, "Database to copy")->required();
    cmd->add_option("DST", *to, "New database name")->required();
    AddConnectionOptions(cmd, *options);
    cmd->callback([=, &exit_code] { exit_code.value = Fork(*options, *from, *to); });
  }
  RegisterShellCommand(*db, exit_code);
}

}  // namespace quarry::cli
