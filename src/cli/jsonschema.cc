// `quarry jsonschema SCHEMA [-o FILE]`: a JSON Schema (draft 2020-12) document of a schema's
// model rows and enums in the data API's JSON value mapping, from the schema file alone.

#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/json_schema.h"
#include "cli/output_file.h"
#include "schema/binder.h"
#include "schema/loader.h"

namespace quarry::cli {

namespace {

struct JsonSchemaOptions {
  std::string path;
  std::string output;
};

int RunJsonSchema(const JsonSchemaOptions& options) {
  Result<schema::Schema> bound = schema::LoadAndBindSchema(options.path, schema::DiskFileReader());
  if (!bound.ok()) {
    std::cerr << bound.status().message() << "\n";
    return 1;
  }
  return EmitOutput("quarry jsonschema", options.output, JsonSchemaDocument(*bound, options.path));
}

}  // namespace

void RegisterJsonSchemaCommand(CLI::App& app, ExitCode& exit_code) {
  auto options = std::make_shared<JsonSchemaOptions>();
  auto* command = app.add_subcommand(
      "jsonschema", "Write a JSON Schema (draft 2020-12) of a schema's model rows and enums");
  command->footer(
      "One $defs entry per model row and enum, in the data API's JSON value mapping. Errors in "
      "the schema are printed as file:line:column: message (exit status 1). See docs/cli.md.");
  command->add_option("SCHEMA", options->path, "The schema file")->required();
  command->add_option("-o,--output", options->output, "Write here instead of standard output");
  command->callback([options, &exit_code] { exit_code.value = RunJsonSchema(*options); });
}

}  // namespace quarry::cli
