#include <CLI/CLI.hpp>
#include <clocale>

#include "cli/command.h"

int main(int argc, char** argv) {
  // The shell's line editor reads multibyte (UTF-8) input only under the user's locale.
  std::setlocale(LC_CTYPE, "");
  CLI::App app{"Quarry: many SQLite databases served over HTTP, compatible with libSQL clients"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "quarry 0.1.0");
  quarry::cli::ExitCode exit_code;
  quarry::cli::RegisterServeCommand(app, exit_code);
  quarry::cli::RegisterTokenCommand(app, exit_code);
  quarry::cli::RegisterDbCommands(app, exit_code);
  quarry::cli::RegisterEnvCommands(app, exit_code);
  quarry::cli::RegisterMigrateCommand(app, exit_code);
  quarry::cli::RegisterGroupCommand(app, exit_code);
  quarry::cli::RegisterSeedCommand(app, exit_code);
  quarry::cli::RegisterSchemaCommand(app, exit_code);
  quarry::cli::RegisterTypesCommand(app, exit_code);
  quarry::cli::RegisterJsonSchemaCommand(app, exit_code);
  quarry::cli::RegisterLoginCommands(app, exit_code);
  quarry::cli::RegisterDataCommand(app, exit_code);
  quarry::cli::RegisterHookCommand(app, exit_code);
  quarry::cli::RegisterWatchCommand(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code.value;
}
