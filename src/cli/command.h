#pragma once

// The `quarry` command line: one file per subcommand, each registering itself on the CLI11 app
// through a Register*Command function and returning a process exit code when run.

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>

namespace quarry::cli {

// Set by a subcommand's callback; main returns it.
struct ExitCode {
  int value = 0;
};

void RegisterServeCommand(CLI::App& app, ExitCode& exit_code);
void RegisterDbCommands(CLI::App& app, ExitCode& exit_code);
void RegisterTokenCommand(CLI::App& app, ExitCode& exit_code);
void RegisterShellCommand(CLI::App& db, ExitCode& exit_code);
void RegisterEnvCommands(CLI::App& app, ExitCode& exit_code);
void RegisterMigrateCommand(CLI::App& app, ExitCode& exit_code);
void RegisterSeedCommand(CLI::App& app, ExitCode& exit_code);
void RegisterSchemaCommand(CLI::App& app, ExitCode& exit_code);

}  // namespace quarry::cli
