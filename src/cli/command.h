#pragma once

// The `quarry` command line: one file per subcommand, each registering itself on the CLI11 app
// through a Register*Command function and returning a process exit code when run.

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

namespace quarry::cli {

struct ConnectionOptions;  // connection_options.h

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
void RegisterGroupCommand(CLI::App& app, ExitCode& exit_code);
// migrate push / verify (schema file against a database), registered under `migrate`.
void RegisterSchemaMigrateCommands(CLI::App* migrate, ExitCode& exit_code);
// migrate create --schema: writes the diff from the database to the schema as a migration.
// With `db` set it asks the server (`connection`) for the plan instead of opening `file`.
int CreateMigrationFromSchema(const std::string& label, const std::string& dir,
                              const std::string& schema_file, const std::string& file,
                              const std::string& db, bool allow_data_loss,
                              const ConnectionOptions& connection);
void RegisterSeedCommand(CLI::App& app, ExitCode& exit_code);
void RegisterLoginCommands(CLI::App& app, ExitCode& exit_code);
void RegisterSchemaCommand(CLI::App& app, ExitCode& exit_code);
void RegisterDataCommand(CLI::App& app, ExitCode& exit_code);
// `quarry hook create|list|show|delete`: webhooks through the admin API.
void RegisterHookCommand(CLI::App& app, ExitCode& exit_code);
// `quarry watch NS MODEL`: a model's committed changes printed as they come.
void RegisterWatchCommand(CLI::App& app, ExitCode& exit_code);
// `quarry types` and `quarry jsonschema`: declarations of a schema's models for clients.
void RegisterTypesCommand(CLI::App& app, ExitCode& exit_code);
void RegisterJsonSchemaCommand(CLI::App& app, ExitCode& exit_code);

}  // namespace quarry::cli
