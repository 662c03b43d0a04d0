// quarry watch: a model's committed changes, printed as they come (docs/realtime.md), through
// the C++ client's Watch: reconnected and resumed by itself, each transaction printed whole and
// once.

#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.h"
#include "cli/connection_options.h"
#include "client/realtime_client.h"

namespace quarry::cli {
namespace {

namespace json = boost::json;

struct WatchOptions {
  ConnectionOptions connection;
  std::string ns;
  std::string model;
  std::string where;
  std::string select;
  std::optional<uint64_t> since;
  uint64_t limit = 0;
  bool json = false;
};

std::atomic<bool> g_stop{false};

extern "C" void OnSignal(int) { g_stop.store(true); }

int Fail(const std::string& message) {
  std::cerr << "quarry watch: " << message << "\n";
  return 1;
}

// --where / --select: JSON, or null when not given.
Result<json::value> ParseJsonFlag(const std::string& flag, const std::string& text) {
  if (text.empty()) {
    return json::value(nullptr);
  }
  json::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument, flag + " is not JSON: " + ec.message());
  }
  return parsed;
}

// "1042 update {"id":5,...} old {"id":5,...}": the sequence, the op, the row after and before.
void PrintChange(const json::object& change) {
  std::cout << json::serialize(change.at("seq")) << " "
            << std::string_view(change.at("op").as_string());
  if (const json::value* row = change.if_contains("row")) {
    std::cout << " " << json::serialize(*row);
  }
  if (const json::value* old = change.if_contains("old")) {
    std::cout << " old " << json::serialize(*old);
  }
  std::cout << "\n";
}

int Run(const WatchOptions& options) {
  auto where = ParseJsonFlag("--where", options.where);
  auto select = ParseJsonFlag("--select", options.select);
  if (!where.ok() || !select.ok()) {
    return Fail((where.ok() ? select.status() : where.status()).message());
  }
  // A given token is used as it is; otherwise each connection (and each renewal) signs a fresh
  // short-lived admin token with the local key, so a watch outlives any one token.
  client::TokenSource token = [&options]() -> Result<std::string> {
    if (!options.connection.token.empty()) {
      return options.connection.token;
    }
    return ResolveAdminToken(options.connection);
  };
  client::SubscribeRequest request{.id = "watch",
                                   .model = options.model,
                                   .where = std::move(*where),
                                   .select = std::move(*select),
                                   .since = options.since};
  uint64_t printed = 0;
  client::WatchHandlers handlers{
      .on_subscribed =
          [&](uint64_t seq) {
            std::cerr << "Watching " << options.ns << "." << options.model
                      << " for changes after sequence " << seq << " (Ctrl-C to stop).\n";
          },
      .on_transaction =
          [&](uint64_t, const std::vector<json::object>& changes) {
            for (const json::object& change : changes) {
              if (options.json) {
                std::cout << json::serialize(change) << "\n";
              } else {
                PrintChange(change);
              }
            }
            std::cout << std::flush;
            return options.limit == 0 || ++printed < options.limit;
          },
      .on_disconnect =
          [&](const Status& why, std::chrono::milliseconds delay) {
            std::cerr << "Interrupted: " << why.message() << "; resuming in " << delay.count()
                      << " ms.\n";
          },
  };
  g_stop.store(false);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  client::WatchOptions watch_options;
  watch_options.connection.ca_file = options.connection.ca_file;
  watch_options.stop = &g_stop;
  Status ended = client::Watch(options.connection.url, options.ns, token, std::move(request),
                               handlers, watch_options);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!ended.ok()) {
    return Fail(ended.code() == ErrorCode::kChangesGone || ended.code() == ErrorCode::kUnavailable
                    ? WithCredentialHint(ended.message())
                    : ended.WireCode() + ": " + WithCredentialHint(ended.message()));
  }
  return 0;
}

}  // namespace

void RegisterWatchCommand(CLI::App& app, ExitCode& exit_code) {
  auto options = std::make_shared<WatchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "watch", "Print a model's committed changes as they come (policies apply to user tokens)");
  cmd->footer(
      "Each change is one line: its transaction's sequence number, the op (insert, update,\n"
      "delete, enter, leave), the row after and, after `old`, the row before. A lost connection\n"
      "is reconnected and resumed after the last transaction printed: nothing is missed or\n"
      "printed twice. Examples:\n"
      "  quarry watch shop posts\n"
      "  quarry watch shop posts --where '{\"accountId\": 7}' --json\n"
      "  quarry watch shop posts --since 1041 --limit 1\n"
      "See docs/realtime.md.");
  cmd->add_option("namespace", options->ns, "Namespace")->required();
  cmd->add_option("model", options->model,
                  "Model (a table's name on a namespace without a recorded schema)")
      ->required();
  cmd->add_option("--where", options->where,
                  "Only changes whose row matches (the data API's where, JSON)");
  cmd->add_option("--select", options->select, "The fields to print (the data API's select)");
  cmd->add_option("--since", options->since,
                  "Print the logged changes after this sequence number first (default: from now)");
  cmd->add_option("--limit", options->limit, "Exit after printing this many transactions");
  cmd->add_flag("--json", options->json, "Print each change as the server's JSON message");
  AddConnectionOptions(cmd, options->connection);
  cmd->callback([options, &exit_code] { exit_code.value = Run(*options); });
}

}  // namespace quarry::cli
