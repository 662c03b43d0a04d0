// `quarry login` and `quarry logout`: save (or remove) the server URL and token that every
// other command uses when given no --url or --token (profile.h, connection_options.h).

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "cli/command.h"
#include "cli/connection_options.h"
#include "cli/local_key.h"
#include "cli/profile.h"
#include "client/admin_client.h"
#include "client/url.h"

namespace quarry::cli {

namespace {

struct LoginOptions {
  std::string url;
  std::string token;
  std::string data_dir;
  std::string ca_file;
};

// One line from the terminal with echo off (the token is a secret), or from stdin when it is
// not a terminal, so `quarry login --url U < token.txt` works in scripts.
std::string ReadToken() {
  bool tty = isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    std::cerr << "Token: " << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
    line.pop_back();
  }
  return line;
}

// The token to save: --token (or QUARRY_TOKEN); else an admin token signed with the key of
// --data or ./quarry-data, on the server's machine; else one read from the terminal or stdin.
Result<std::string> TokenToSave(const LoginOptions& options, bool* signed_locally) {
  if (!options.token.empty()) {
    return options.token;
  }
  ConnectionOptions local;
  local.data_dir = options.data_dir;
  QUARRY_ASSIGN_OR_RETURN(std::optional<auth::KeyPair> key, FindLocalKey(local));
  if (key) {
    auth::Claims claims = ClaimsNow(auth::Access::kAdmin, /*ttl_seconds=*/0);
    claims.all_namespaces = true;
    claims.subject = "quarry-login";
    *signed_locally = true;
    return key->Sign(claims);
  }
  std::string token = ReadToken();
  if (token.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "no token: pass --token TOKEN (an admin token from `quarry token create "
                  "--access admin` on the server's machine), or run login there with --data");
  }
  return token;
}

int Login(const LoginOptions& options) {
  std::string url = NormalizeServerUrl(options.url);
  auto parsed = client::ParseClientUrl(url);
  if (!parsed.ok() || parsed->kind != client::ClientUrl::Kind::kHttp || !parsed->ns.empty()) {
    std::cerr << "quarry login: --url must be a server, http(s)://HOST:PORT, not '" << options.url
              << "'\n";
    return 2;
  }
  url = parsed->Origin();
  bool signed_locally = false;
  auto token = TokenToSave(options, &signed_locally);
  if (!token.ok()) {
    std::cerr << "quarry login: " << token.status().message() << "\n";
    return 1;
  }
  // Verify before saving: a profile that every command would fail with helps no one.
  auto admin = client::AdminClient::Open(url, *token, {.ca_file = options.ca_file});
  if (!admin.ok()) {
    std::cerr << "quarry login: " << admin.status().message() << "\n";
    return 1;
  }
  auto listed = (*admin)->ListNamespaces();
  bool admin_access = listed.ok();
  if (!listed.ok() && listed.status().code() != ErrorCode::kForbidden) {
    std::cerr << "quarry login: " << url << " refused the token: " << listed.status().message()
              << "; nothing was saved\n";
    return 1;
  }
  std::filesystem::path path = ProfilePath();
  if (path.empty()) {
    std::cerr << "quarry login: neither XDG_CONFIG_HOME nor HOME is set; nowhere to save\n";
    return 1;
  }
  // Absolute, so that the profile works from any folder.
  std::string ca_file =
      options.ca_file.empty() ? "" : std::filesystem::absolute(options.ca_file).string();
  Status saved = SaveProfile(path, Profile{url, *token, ca_file});
  if (!saved.ok()) {
    std::cerr << "quarry login: " << saved.message() << "\n";
    return 1;
  }
  std::cout << "Logged in to " << url
            << (signed_locally ? " with an admin token signed by the local data folder's key" : "")
            << ". Saved to " << path.string() << ".\n";
  if (!admin_access) {
    std::cout << "The token is not an admin token: db, group and migrate commands will be "
                 "refused; database commands within its reach work.\n";
  }
  return 0;
}

int Logout() {
  std::filesystem::path path = ProfilePath();
  auto removed = RemoveProfile(path);
  if (!removed.ok()) {
    std::cerr << "quarry logout: " << removed.status().message() << "\n";
    return 1;
  }
  std::cout << (*removed ? "Logged out: removed " + path.string() + ".\n"
                         : std::string("Not logged in (no saved profile).\n"));
  return 0;
}

}  // namespace

void RegisterLoginCommands(CLI::App& app, ExitCode& exit_code) {
  {
    auto* cmd = app.add_subcommand(
        "login",
        "Save a server URL and token for every other command (verified against the server)");
    auto options = std::make_shared<LoginOptions>();
    options->url = kDefaultUrl;
    cmd->add_option("--url", options->url, "Server URL, http(s)://HOST:PORT")
        ->envname("QUARRY_URL")
        ->capture_default_str();
    cmd->add_option("--token", options->token,
                    "Token to save (default: sign an admin token with the local data folder's "
                    "key, else read it from the terminal)")
        ->envname("QUARRY_TOKEN");
    cmd->add_option("--data", options->data_dir,
                    "The server's data folder, to sign the token with its key (default: "
                    "./quarry-data when it exists)")
        ->envname("QUARRY_DATA");
    cmd->add_option("--ca-file", options->ca_file,
                    "PEM file of certificate authorities to trust, besides the system's store, "
                    "for an https:// server (saved with the profile)")
        ->envname("QUARRY_CA_FILE")
        ->check(CLI::ExistingFile);
    cmd->callback([options, &exit_code] { exit_code.value = Login(*options); });
  }
  {
    auto* cmd = app.add_subcommand("logout", "Remove the saved profile");
    cmd->callback([&exit_code] { exit_code.value = Logout(); });
  }
}

}  // namespace quarry::cli
