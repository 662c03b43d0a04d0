#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli/bindings.h"
#include "cli/command.h"
#include "cli/connection_options.h"
#include "cli/local_key.h"
#include "client/admin_client.h"
#include "client/url.h"

namespace quarry::cli {

namespace {

struct EnvOptions {
  ConnectionOptions connection;
  std::string config = "quarry.toml";
  bool local = false;
  int64_t expires_in = 0;
  std::vector<std::string> command;  // run only
};

struct EnvVar {
  std::string name;
  std::string value;
};

// A read-write token for namespace `ns` on `server_url`: minted by the server's admin API when
// --token (an admin token) was given, else signed with the local data folder's key.
Result<std::string> MintToken(const EnvOptions& options, const std::string& server_url,
                              const std::string& ns) {
  // A profile's token belongs to the profile's server, not to a quarry.toml URL elsewhere.
  auto target = client::ParseClientUrl(server_url);
  auto profile_server = client::ParseClientUrl(options.connection.url);
  bool token_fits =
      !options.connection.token_from_profile ||
      (target.ok() && profile_server.ok() && target->Origin() == profile_server->Origin());
  if (!options.connection.token.empty() && token_fits) {
    QUARRY_ASSIGN_OR_RETURN(auto admin,
                            client::AdminClient::Open(server_url, options.connection.token,
                                                      HttpOptionsOf(options.connection)));
    client::TokenRequest request;
    request.namespaces = {ns};
    request.access = "rw";
    if (options.expires_in > 0) {
      request.expires_in = options.expires_in;
    }
    request.subject = "quarry-env";
    return admin->CreateToken(request);
  }
  QUARRY_ASSIGN_OR_RETURN(std::optional<auth::KeyPair> key, FindLocalKey(options.connection));
  if (!key) {
    return Status(ErrorCode::kUnauthorized,
                  "cannot mint a token for database '" + ns +
                      "': pass an admin token with --token (or QUARRY_TOKEN), or the server's "
                      "data folder with --data; or use --local for a local file");
  }
  auth::Claims claims = ClaimsNow(auth::Access::kReadWrite, options.expires_in);
  claims.namespaces = {ns};
  claims.subject = "quarry-env";
  return key->Sign(claims);
}

// The variables for every binding of the config file.
Result<std::vector<EnvVar>> BindingVariables(EnvOptions& options, CLI::App* cmd) {
  QUARRY_ASSIGN_OR_RETURN(BindingsConfig config, LoadBindingsConfig(options.config));
  bool url_given = cmd->get_option("--url")->count() > 0 || std::getenv("QUARRY_URL") != nullptr;
  std::string server = url_given || !config.url ? options.connection.url : *config.url;
  std::vector<EnvVar> vars;
  for (const auto& db : config.databases) {
    std::string url = db.url.value_or(server);
    bool local = options.local || url.starts_with("file:");
    if (local) {
      std::string file_url = url.starts_with("file:") ? url : BindingLocalUrl(db.name);
      QUARRY_ASSIGN_OR_RETURN(client::ClientUrl parsed, client::ParseClientUrl(file_url));
      std::filesystem::path parent = std::filesystem::path(parsed.file_path).parent_path();
      std::error_code ec;
      if (!parent.empty()) {
        std::filesystem::create_directories(parent, ec);
        if (ec) {
          return Status(ErrorCode::kInternal,
                        "cannot create " + parent.string() + ": " + ec.message());
        }
      }
      // No token locally: the file is opened directly, as the reference's local mode does.
      vars.push_back({db.binding + "_URL", file_url});
      continue;
    }
    QUARRY_ASSIGN_OR_RETURN(std::string db_url, BindingServerUrl(url, db.name));
    auto token = MintToken(options, url, db.name);
    if (!token.ok()) {
      return Status(token.status().code(),
                    "binding " + db.binding + ": " + token.status().message());
    }
    vars.push_back({db.binding + "_URL", db_url});
    vars.push_back({db.binding + "_TOKEN", *token});
  }
  return vars;
}

void AddEnvOptions(CLI::App* cmd, EnvOptions& options) {
  cmd->add_option("--config", options.config, "Bindings file")->capture_default_str();
  cmd->add_flag("--local", options.local,
                "Local development: each binding becomes file:.quarry/<name>.db (no server, "
                "no token)");
  cmd->add_option("--expires-in", options.expires_in,
                  "Lifetime of the minted tokens in seconds (default: no expiry)")
      ->check(CLI::NonNegativeNumber);
  AddConnectionOptions(cmd, options.connection);
}

}  // namespace

void RegisterEnvCommands(CLI::App& app, ExitCode& exit_code) {
  {
    auto* cmd =
        app.add_subcommand("env",
                           "Print the environment variables of quarry.toml's database bindings "
                           "(<BINDING>_URL, <BINDING>_TOKEN)");
    auto options = std::make_shared<EnvOptions>();
    AddEnvOptions(cmd, *options);
    cmd->callback([options, cmd, &exit_code] {
      auto vars = BindingVariables(*options, cmd);
      if (!vars.ok()) {
        std::cerr << "quarry env: " << vars.status().message() << "\n";
        exit_code.value = 1;
        return;
      }
      for (const auto& var : *vars) {
        std::cout << var.name << "=" << var.value << "\n";
      }
    });
  }
  {
    auto* cmd =
        app.add_subcommand("run",
                           "Run a command with quarry.toml's database bindings in its environment: "
                           "quarry run -- CMD [ARGS...]");
    auto options = std::make_shared<EnvOptions>();
    AddEnvOptions(cmd, *options);
    cmd->add_option("CMD", options->command, "The command and its arguments (after --)")
        ->required();
    cmd->callback([options, cmd, &exit_code] {
      auto vars = BindingVariables(*options, cmd);
      if (!vars.ok()) {
        std::cerr << "quarry run: " << vars.status().message() << "\n";
        exit_code.value = 1;
        return;
      }
      for (const auto& var : *vars) {
        setenv(var.name.c_str(), var.value.c_str(), 1);
      }
      std::vector<char*> argv;
      for (auto& arg : options->command) {
        argv.push_back(arg.data());
      }
      argv.push_back(nullptr);
      std::cout.flush();
      std::cerr.flush();
      execvp(argv[0], argv.data());
      std::cerr << "quarry run: cannot run " << options->command[0] << ": " << std::strerror(errno)
                << "\n";
      exit_code.value = errno == ENOENT ? 127 : 126;
    });
  }
}

}  // namespace quarry::cli
