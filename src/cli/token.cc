#include "auth/token.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "auth/key_pair.h"
#include "cli/command.h"
#include "cli/connection_options.h"
#include "cli/local_key.h"
#include "cli/profile.h"
#include "client/admin_client.h"
#include "storage/namespace_name.h"

namespace quarry::cli {

namespace {

struct TokenOptions {
  std::vector<std::string> databases;
  std::string access = "rw";
  bool access_given = false;  // --access on the command line
  std::string user_json;      // --user: a user token with this auth() object
  std::optional<int64_t> expires_in;
  std::string data_dir;
  std::string subject;
  bool data_given = false;  // --data or QUARRY_DATA
};

// The token as the server of the saved profile mints it (POST /admin/v1/tokens), for use away
// from the data folder. nullopt when there is no profile.
Result<std::optional<std::string>> MintWithProfile(const TokenOptions& options,
                                                   const auth::Claims& claims) {
  QUARRY_ASSIGN_OR_RETURN(std::optional<Profile> profile, LoadProfile(ProfilePath()));
  if (!profile) {
    return std::optional<std::string>();
  }
  QUARRY_ASSIGN_OR_RETURN(auto admin, client::AdminClient::Open(profile->url, profile->token,
                                                                {.ca_file = profile->ca_file}));
  client::TokenRequest request;
  request.all_namespaces = claims.all_namespaces;
  request.namespaces = claims.namespaces;
  request.access = options.access;
  request.user = claims.user;
  request.expires_in = options.expires_in;
  request.subject = options.subject;
  QUARRY_ASSIGN_OR_RETURN(std::string token, admin->CreateToken(request));
  return std::optional<std::string>(std::move(token));
}

// The --user object, or a one-line error.
Result<boost::json::object> ParseUser(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    return Status(ErrorCode::kInvalidArgument,
                  "--user must be a JSON object, the claims policies read as auth(): e.g. "
                  "--user '{\"id\": 1, \"role\": \"member\"}'");
  }
  if (boost::json::serialize(parsed).size() > auth::kMaxUserObjectBytes) {
    return Status(ErrorCode::kInvalidArgument,
                  "--user is larger than " + std::to_string(auth::kMaxUserObjectBytes) +
                      " bytes of JSON; a token travels in a header on every request");
  }
  return std::move(parsed.get_object());
}

int CreateToken(const TokenOptions& options) {
  bool user_token = !options.user_json.empty();
  if (user_token && options.access_given) {
    std::cerr << "quarry token create: a user token (--user) has no access level; leave out "
                 "--access\n";
    return 2;
  }
  auto access = user_token ? std::optional<auth::Access>(auth::Access::kReadOnly)
                           : auth::ParseAccess(options.access);
  if (!access) {
    std::cerr << "quarry token create: --access must be ro, rw or admin, not '" << options.access
              << "'\n";
    return 2;
  }
  if (options.expires_in && *options.expires_in <= 0) {
    std::cerr << "quarry token create: --expires-in must be a positive number of seconds, not "
              << *options.expires_in << " (leave it out for a token that never expires)\n";
    return 2;
  }
  auth::Claims claims;
  claims.access = *access;
  if (user_token) {
    auto user = ParseUser(options.user_json);
    if (!user.ok()) {
      std::cerr << "quarry token create: " << user.status().message() << "\n";
      return 2;
    }
    claims.user = std::move(*user);
  }
  if (options.databases.empty()) {
    if (!claims.IsAdmin()) {
      std::cerr << "quarry token create: name the databases with --db NAME (repeatable), or "
                   "--db '*' for all\n";
      return 2;
    }
    claims.all_namespaces = true;
  }
  bool all =
      options.databases.empty() ||
      std::find(options.databases.begin(), options.databases.end(), "*") != options.databases.end();
  if (claims.IsAdmin() && !all) {
    std::cerr << "quarry token create: an admin token covers every database; leave out --db\n";
    return 2;
  }
  for (const auto& db : options.databases) {
    if (db == "*") {
      claims.all_namespaces = true;
      continue;
    }
    Status valid = storage::ValidateNamespaceName(db);
    if (!valid.ok()) {
      std::cerr << "quarry token create: " << valid.message() << "\n";
      return 2;
    }
    claims.namespaces.push_back(db);
  }
  claims.issued_at = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  if (options.expires_in) {
    claims.expires_at = claims.issued_at + *options.expires_in;
  }
  claims.subject = options.subject;
  auto key = LoadLocalKey(options.data_dir);
  if (!key.ok() && !options.data_given && key.status().code() == ErrorCode::kNotFound) {
    // Away from the server's machine: ask the server of the saved profile.
    auto minted = MintWithProfile(options, claims);
    if (!minted.ok()) {
      std::cerr << "quarry token create: " << WithCredentialHint(minted.status().message()) << "\n";
      return 1;
    }
    if (*minted) {
      std::cout << **minted << "\n";
      return 0;
    }
    std::cerr << "quarry token create: " << key.status().message()
              << "; or, away from the server, run `quarry login` first and the server mints it\n";
    return 1;
  }
  if (!key.ok()) {
    std::cerr << "quarry token create: " << key.status().message() << "\n";
    return 1;
  }
  std::cout << key->Sign(claims) << "\n";
  return 0;
}

}  // namespace

void RegisterTokenCommand(CLI::App& app, ExitCode& exit_code) {
  auto* token = app.add_subcommand("token", "Manage access tokens");
  token->require_subcommand(1);
  auto* create = token->add_subcommand(
      "create",
      "Sign a new access token with the server's key (read from the data folder), or have the "
      "saved profile's server mint it");
  auto options = std::make_shared<TokenOptions>();
  options->data_dir = "quarry-data";
  create->add_option("--db", options->databases,
                     "Database (namespace) the token reaches; repeat for more, '*' for all");
  auto* access = create->add_option("--access", options->access, "Access level: ro, rw or admin")
                     ->capture_default_str();
  create->add_option("--user", options->user_json,
                     "A user token instead: the JSON object row policies read as auth(), e.g. "
                     "'{\"id\": 1, \"role\": \"member\"}'. It reaches the data API only");
  create->add_option("--expires-in", options->expires_in, "Lifetime in seconds (default: none)");
  auto* data = create
                   ->add_option("--data", options->data_dir,
                                "The server's data folder (without it and without "
                                "./quarry-data, the saved profile's server mints the token)")
                   ->envname("QUARRY_DATA")
                   ->capture_default_str();
  create->add_option("--subject", options->subject, "Free-text subject recorded in the token");
  create->callback([options, data, access, &exit_code] {
    options->access_given = access->count() > 0;
    options->data_given = data->count() > 0 || std::getenv("QUARRY_DATA") != nullptr;
    exit_code.value = CreateToken(*options);
  });
}

}  // namespace quarry::cli
