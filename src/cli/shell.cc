#include <unistd.h>

// clang-format off
#include <cstdio>
#include <editline/readline.h>
// clang-format on

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/connection_options.h"
#include "cli/result_printer.h"
#include "cli/statement_splitter.h"
#include "client/client.h"
#include "client/url.h"

namespace quarry::cli {

namespace {

struct ShellOptions {
  ConnectionOptions connection;
  std::string name;
  std::string command;  // -c
  bool json = false;
};

constexpr const char* kHelp =
    "Enter SQL statements terminated by ';'. Commands:\n"
    "  .tables            list tables and views\n"
    "  .schema [TABLE]    show CREATE statements\n"
    "  .mode table|json   output format (default table)\n"
    "  .help              this text\n"
    "  .quit, .exit       leave the shell\n";

std::string Trim(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) {
    return "";
  }
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(start, end - start + 1));
}

// One shell session: a client and the stream its statements share, so BEGIN ... COMMIT
// typed over several lines runs in one transaction.
class Shell {
 public:
  explicit Shell(std::unique_ptr<client::Client> client, OutputMode mode)
      : client_(std::move(client)), stream_(client_->OpenStream()), mode_(mode) {}

  bool quit() const { return quit_; }

  // Runs one statement and prints its result, or "Error: ..." on stderr; false on error.
  bool RunSql(const std::string& sql) {
    auto result = Execute(client::Statement(sql));
    if (!result.ok()) {
      PrintError(result.status());
      return false;
    }
    std::cout << FormatResult(*result, mode_) << std::flush;
    return true;
  }

  // Runs a dot command (the whole line, starting with '.'); false on error.
  bool RunDot(const std::string& line) {
    std::istringstream words(line);
    std::string command;
    std::string arg;
    words >> command >> arg;
    std::string extra;
    words >> extra;
    if (command == ".quit" || command == ".exit") {
      quit_ = true;
      return true;
    }
    if (command == ".help") {
      std::cout << kHelp;
      return true;
    }
    if (command == ".mode") {
      if (arg == "json") {
        mode_ = OutputMode::kJson;
      } else if (arg == "table") {
        mode_ = OutputMode::kTable;
      } else {
        std::cerr << "Error: .mode takes table or json\n";
        return false;
      }
      return true;
    }
    if (command == ".tables") {
      auto rs = Execute(client::Statement(
          "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE "
          "'sqlite_%' ORDER BY name"));
      if (!rs.ok()) {
        PrintError(rs.status());
        return false;
      }
      for (const auto& row : rs->rows) {
        std::cout << CellText(row[0]) << "\n";
      }
      return true;
    }
    if (command == ".schema") {
      client::Statement stmt(
          "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'" +
          std::string(arg.empty() ? "" : " AND tbl_name = ?") +
          " ORDER BY tbl_name, type DESC, name");
      if (!arg.empty()) {
        stmt.args.push_back(client::Text(arg));
      }
      auto rs = Execute(stmt);
      if (!rs.ok()) {
        PrintError(rs.status());
        return false;
      }
      for (const auto& row : rs->rows) {
        std::cout << CellText(row[0]) << ";\n";
      }
      return true;
    }
    std::cerr << "Error: unknown command " << command << " (try .help)\n";
    return false;
  }

 private:
  Result<client::ResultSet> Execute(const client::Statement& stmt) {
    if (!stream_.open()) {
      stream_ = client_->OpenStream();
    }
    bool was_autocommit = stream_.autocommit();
    auto result = stream_.Execute(stmt);
    if (!result.ok() && result.status().code() == ErrorCode::kStreamExpired) {
      stream_ = client_->OpenStream();
      if (was_autocommit) {
        // Nothing was pending on the expired session: run the statement on a new one.
        return stream_.Execute(stmt);
      }
      return Status(ErrorCode::kStreamExpired,
                    result.status().message() +
                        " (the session was idle too long; its open transaction was rolled back)");
    }
    return result;
  }

  void PrintError(const Status& status) {
    std::cerr << "Error: " << status.message();
    if (status.code() == ErrorCode::kSqlite) {
      std::cerr << " (" << status.WireCode() << ")";
    }
    std::cerr << "\n";
  }

  std::unique_ptr<client::Client> client_;
  client::Stream stream_;
  OutputMode mode_;
  bool quit_ = false;
};

// Feeds `text` line by line; stops at the first error. Returns the exit code.
int RunScript(Shell& shell, std::istream& in) {
  StatementSplitter splitter;
  std::string line;
  while (!shell.quit() && std::getline(in, line)) {
    if (!splitter.HasPending() && Trim(line).starts_with(".")) {
      if (!shell.RunDot(Trim(line))) {
        return 1;
      }
      continue;
    }
    splitter.Append(line);
    splitter.Append("\n");
    for (const auto& stmt : splitter.TakeComplete()) {
      if (!shell.RunSql(stmt)) {
        return 1;
      }
    }
  }
  if (!shell.quit() && splitter.HasPending()) {
    if (!shell.RunSql(splitter.TakeRest())) {
      return 1;
    }
  }
  return 0;
}

std::string HistoryPath() {
  const char* home = std::getenv("HOME");
  return home != nullptr ? std::string(home) + "/.quarry_history" : std::string();
}

int RunInteractive(Shell& shell, const std::string& label) {
  std::string history = HistoryPath();
  if (!history.empty()) {
    read_history(history.c_str());
  }
  stifle_history(2000);
  std::cout << "Connected to " << label << ". Enter .help for help, .quit to leave.\n";
  StatementSplitter splitter;
  std::string prompt = label + "> ";
  std::string continuation = std::string(label.size() > 3 ? label.size() - 3 : 0, ' ') + "...> ";
  while (!shell.quit()) {
    char* raw = readline(splitter.HasPending() ? continuation.c_str() : prompt.c_str());
    if (raw == nullptr) {
      std::cout << "\n";
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (!Trim(line).empty()) {
      add_history(line.c_str());
    }
    if (!splitter.HasPending() && Trim(line).starts_with(".")) {
      shell.RunDot(Trim(line));
      continue;
    }
    splitter.Append(line);
    splitter.Append("\n");
    for (const auto& stmt : splitter.TakeComplete()) {
      shell.RunSql(stmt);
    }
  }
  if (!history.empty()) {
    write_history(history.c_str());
  }
  return 0;
}

int RunShell(const ShellOptions& options) {
  auto base = client::ParseClientUrl(options.connection.url);
  if (!base.ok()) {
    std::cerr << "quarry db shell: " << base.status().message() << "\n";
    return 2;
  }
  std::string url;
  std::string label;
  if (base->kind == client::ClientUrl::Kind::kFile) {
    url = base->ToString();
    label = std::filesystem::path(base->file_path).filename().string();
  } else if (!options.name.empty()) {
    url = base->Origin() + "/db/" + options.name;
    label = options.name;
  } else if (!base->ns.empty()) {
    url = base->ToString();
    label = base->ns;
  } else {
    std::cerr << "quarry db shell: name the database (quarry db shell NAME), or pass --url "
                 "file:PATH for a local file\n";
    return 2;
  }
  std::string token;
  if (base->kind == client::ClientUrl::Kind::kHttp) {
    auto resolved = ResolveAdminToken(options.connection);
    if (!resolved.ok()) {
      std::cerr << "quarry db shell: " << resolved.status().message() << "\n";
      return 1;
    }
    token = *resolved;
  }
  auto client = client::Client::Open(url, token);
  if (!client.ok()) {
    std::cerr << "quarry db shell: " << client.status().message() << "\n";
    return 1;
  }
  Shell shell(std::move(*client), options.json ? OutputMode::kJson : OutputMode::kTable);
  if (!options.command.empty()) {
    std::istringstream in(options.command);
    return RunScript(shell, in);
  }
  if (isatty(STDIN_FILENO) == 0) {
    return RunScript(shell, std::cin);
  }
  return RunInteractive(shell, label);
}

}  // namespace

void RegisterShellCommand(CLI::App& db, ExitCode& exit_code) {
  auto* cmd = db.add_subcommand(
      "shell",
      "Interactive SQL shell on a database (reads SQL from stdin when it is not a terminal)");
  auto options = std::make_shared<ShellOptions>();
  cmd->add_option("NAME", options->name, "Database name (omit with --url file:PATH)");
  cmd->add_option("-c,--command", options->command,
                  "Run these SQL statements (and dot commands) and exit");
  cmd->add_flag("--json", options->json, "Start in JSON output mode");
  AddConnectionOptions(cmd, options->connection);
  cmd->callback([options, &exit_code] { exit_code.value = RunShell(*options); });
}

}  // namespace quarry::cli
