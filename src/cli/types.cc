// `quarry types SCHEMA [-o FILE]`: TypeScript declarations of a schema's models for the
// TypeScript client (clients/js), written from the schema file alone (no server).

#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/output_file.h"
#include "cli/type_declarations.h"
#include "schema/binder.h"
#include "schema/loader.h"

namespace quarry::cli {

namespace {

struct TypesOptions {
  std::string path;
  std::string output;
  TypeDeclarationOptions generate;
};

int RunTypes(TypesOptions options) {
  Result<schema::Schema> bound = schema::LoadAndBindSchema(options.path, schema::DiskFileReader());
  if (!bound.ok()) {
    std::cerr << bound.status().message() << "\n";
    return 1;
  }
  options.generate.source = options.path;
  return EmitOutput("quarry types", options.output, TypeDeclarations(*bound, options.generate));
}

}  // namespace

void RegisterTypesCommand(CLI::App& app, ExitCode& exit_code) {
  auto options = std::make_shared<TypesOptions>();
  auto* types = app.add_subcommand(
      "types", "Write TypeScript declarations of a schema's models for the TypeScript client");
  types->footer(
      "Per model a row type and its argument types (Where, OrderBy, Select, Include, Create, "
      "Update), and a Database interface: quarry<Database>(...). Errors in the schema are "
      "printed as file:line:column: message (exit status 1). See docs/cli.md.");
  types->add_option("SCHEMA", options->path, "The schema file")->required();
  types->add_option("-o,--output", options->output, "Write here instead of standard output");
  types->add_flag("--integer-strings", options->generate.integer_strings,
                  "Type Integer fields number | BigIntString, for data past 2^53 (which arrives "
                  "as decimal strings)");
  types
      ->add_option("--client", options->generate.client_module,
                   "The module the client's types are imported from")
      ->capture_default_str();
  types->callback([options, &exit_code] { exit_code.value = RunTypes(*options); });
}

}  // namespace quarry::cli
